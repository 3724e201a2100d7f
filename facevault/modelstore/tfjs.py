"""Turning a TensorFlow.js graph model (model.json + weight shards) into an ONNX file.

Role: the photo cloak crafts against more than one identity model (issue 16), and the
registry packages that carry a second usable face model ship it in TensorFlow.js form.
This converter handles the operators those CNNs use (convolutions, depthwise
convolutions, element-wise arithmetic with constants, ReLU and ReLU6 as TF writes it
(relu, minimum, maximum), abs, pad, global mean, flatten, dense layers) and writes an NCHW ONNX graph made only of operators that
facevault.vision.backward can differentiate. Anything else is refused by name. The
result is deterministic, so the install step checks its sha256 like any other model.
No TensorFlow is needed: the weights are read with numpy from the documented
TensorFlow.js binary layout (little-endian, float32 or float16/uint8-quantised).

May import: stdlib, numpy, facevault.errors; onnx lazily.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from facevault.errors import ModelError

__all__ = ["convert_tfjs_graph", "convert_tfjs_files", "read_tfjs_weights", "JsonObject"]

JsonObject = dict[str, Any]  # a parsed JSON object (model.json and its parts)

_DTYPES = {"float32": np.float32, "int32": np.int32, "float16": np.float16, "uint8": np.uint8,
           "int8": np.int8, "uint16": np.uint16, "int16": np.int16, "bool": np.bool_}


def read_tfjs_weights(manifest: list[JsonObject], shards: dict[str, bytes]) -> dict[str, np.ndarray]:
    """The named constants of a TensorFlow.js weights manifest, decoded to float32/int32."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        blob = b"".join(shards[p] for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            stored = quant["dtype"] if quant else w["dtype"]
            if stored not in _DTYPES:
                raise ModelError(f"unsupported weight type {stored} for {w['name']}")
            dt = np.dtype(_DTYPES[stored]).newbyteorder("<")
            size = count * dt.itemsize
            if offset + size > len(blob):
                raise ModelError(f"the weight file is shorter than its manifest ({w['name']})")
            raw = np.frombuffer(blob, dtype=dt, count=count, offset=offset)
            offset += size
            if quant and stored in ("uint8", "uint16", "int8", "int16"):
                value = raw.astype(np.float32) * float(quant["scale"]) + float(quant["min"])
            else:
                value = raw
            target = np.int32 if w["dtype"] == "int32" else np.float32
            out[w["name"]] = value.astype(target).reshape(shape)
    return out


def _attr(node: dict[str, Any], key: str, default: Any = None) -> Any:
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        return []
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    return default


@dataclass
class _T:
    """A converted tensor: an ONNX value name and its static NCHW (or flat) shape."""
    name: str
    shape: tuple[int, ...]


def _same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def convert_tfjs_graph(model_json: JsonObject, shards: dict[str, bytes], *, output: str,
                       input_size: int, producer: str = "facevault") -> bytes:
    """Serialised ONNX model: input `input` 1x3xSxS float32 (the NHWC graph's input,
    transposed), output `output` = the graph node named `output`, flattened to 1xD."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = {n["name"]: n for n in model_json["modelTopology"]["node"]}
    weights = read_tfjs_weights(model_json["weightsManifest"], shards)
    if output not in nodes:
        raise ModelError(f"the model has no node named {output}")

    onnx_nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]
    done: dict[str, _T | np.ndarray] = {}
    relu_of: dict[str, str] = {}  # a Relu's output -> its input
    nonneg: set[str] = set()  # values that are never negative

    def fresh(stem: str) -> str:
        counter[0] += 1
        return f"{stem}_{counter[0]}"

    def const(value: np.ndarray) -> str:
        name = fresh("c")
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def emit(op: str, ins: list[str], shape: tuple[int, ...], **attrs: Any) -> _T:
        out = fresh(op.lower())
        onnx_nodes.append(helper.make_node(op, ins, [out], **attrs))
        return _T(out, shape)

    def as_nchw_const(c: np.ndarray, like: _T) -> np.ndarray:
        c = np.asarray(c, dtype=np.float32)
        if c.ndim == 0 or c.size == 1:
            return c.reshape(())
        if len(like.shape) == 4 and c.ndim == 1:
            return c.reshape(1, -1, 1, 1)
        if len(like.shape) == 4 and c.ndim == 4:
            return c.transpose(0, 3, 1, 2)
        return c

    def conv(x: _T, w: np.ndarray, node: dict[str, Any], depthwise: bool, bias: np.ndarray | None) -> _T:
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise ModelError("only NHWC convolutions are supported")
        strides = _attr(node, "strides", [1, 1, 1, 1])[1:3]
        dil = _attr(node, "dilations", [1, 1, 1, 1])[1:3]
        kh, kw = w.shape[0], w.shape[1]
        _, c_in, h, wd = x.shape
        padding = _attr(node, "padding", "VALID")
        if padding == "SAME":
            ph, pw = _same_pads(h, kh, strides[0], dil[0]), _same_pads(wd, kw, strides[1], dil[1])
            pads = [ph[0], pw[0], ph[1], pw[1]]
        elif padding == "VALID":
            pads = [0, 0, 0, 0]
        else:
            raise ModelError(f"unsupported convolution padding {padding}")
        if depthwise:
            mult = w.shape[3]
            kernel = w.transpose(2, 3, 0, 1).reshape(c_in * mult, 1, kh, kw)
            group = c_in
        else:
            kernel = w.transpose(3, 2, 0, 1)
            group = 1
        c_out = kernel.shape[0]
        oh = (h + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) // strides[0] + 1
        ow = (wd + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) // strides[1] + 1
        ins = [x.name, const(kernel.astype(np.float32))]
        if bias is not None:
            ins.append(const(bias.astype(np.float32).reshape(-1)))
        return emit("Conv", ins, (1, c_out, oh, ow), kernel_shape=[kh, kw], strides=list(strides),
                    pads=pads, dilations=list(dil), group=group)

    def fused_tail(t: _T, node: dict[str, Any]) -> _T:
        ops = _attr(node, "fused_ops", [])
        rest = ops[1:] if ops and ops[0] == "BiasAdd" else ops
        for op in rest:
            if op != "Relu":
                raise ModelError(f"unsupported fused operation {op}")
            pre, t = t, emit("Relu", [t.name], t.shape)
            relu_of[t.name] = pre.name
            nonneg.add(t.name)
        return t

    def value(ref: str) -> _T | np.ndarray:
        name = ref.split(":")[0].lstrip("^")
        if name in done:
            return done[name]
        node = nodes[name]
        op = node["op"]
        inputs = [i for i in node.get("input", []) if not i.startswith("^")]
        if op == "Const":
            if name not in weights:
                raise ModelError(f"constant {name} has no weights")
            done[name] = weights[name]
            return done[name]
        if op == "Placeholder":
            t = _T("input", (1, 3, input_size, input_size))
            done[name] = t
            return t
        args = [value(i) for i in inputs]
        result: _T | np.ndarray
        if all(isinstance(a, np.ndarray) for a in args):
            raise ModelError(f"constant arithmetic ({op} {name}) is not folded by this converter")
        x = args[0]
        if op in ("Conv2D", "DepthwiseConv2dNative"):
            assert isinstance(x, _T)
            result = conv(x, np.asarray(args[1]), node, op.startswith("Depthwise"), None)
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            assert isinstance(x, _T)
            ops = _attr(node, "fused_ops", [])
            bias = np.asarray(args[2]) if ops and ops[0] == "BiasAdd" else None
            t = conv(x, np.asarray(args[1]), node, op.startswith("Fused"), bias)
            result = fused_tail(t, node)
        elif op in ("Add", "AddV2", "BiasAdd", "Sub", "Mul", "Maximum", "Minimum"):
            a, b = args
            onnx_op = {"AddV2": "Add", "BiasAdd": "Add", "Maximum": "Max", "Minimum": "Min"}.get(op, op)
            tensor = a if isinstance(a, _T) else b
            assert isinstance(tensor, _T)
            names = []
            for v in (a, b):
                names.append(v.name if isinstance(v, _T) else const(as_nchw_const(v, tensor)))
            if isinstance(a, _T) and isinstance(b, _T) and a.shape != b.shape:
                raise ModelError(f"broadcasting between two tensors ({name}) is not supported")
            c = b if isinstance(a, _T) else a
            scalar = None if isinstance(c, _T) or np.asarray(c).size != 1 else float(np.asarray(c).reshape(()))
            if onnx_op == "Max" and scalar == 0.0 and tensor.name in nonneg:
                result = tensor  # max(0, .) of a value that is never negative (ReLU6 as TF writes it)
            elif onnx_op == "Min" and scalar is not None and scalar > 0 and tensor.name in relu_of:
                # min(relu(x), c) is one clip of x (and one mask in the backward pass)
                result = emit("Clip", [relu_of[tensor.name], const(np.array(0, np.float32)),
                                       const(np.array(scalar, np.float32))], tensor.shape)
                nonneg.add(result.name)
            else:
                result = emit(onnx_op, names, tensor.shape)
        elif op == "Relu":
            assert isinstance(x, _T)
            result = emit("Relu", [x.name], x.shape)
            relu_of[result.name] = x.name
            nonneg.add(result.name)
        elif op == "Abs":
            assert isinstance(x, _T)
            result = emit("Abs", [x.name], x.shape)
        elif op == "Identity":
            result = x
        elif op == "Pad":
            assert isinstance(x, _T)
            p = np.asarray(args[1]).reshape(4, 2)  # NHWC (before, after)
            if p[0].any() or p[3].any():
                raise ModelError("padding over batch or channels is not supported")
            pads = [0, 0, int(p[1, 0]), int(p[2, 0]), 0, 0, int(p[1, 1]), int(p[2, 1])]
            shape = (1, x.shape[1], x.shape[2] + pads[2] + pads[6], x.shape[3] + pads[3] + pads[7])
            result = emit("Pad", [x.name, const(np.array(pads, np.int64))], shape, mode="constant")
        elif op == "Mean":
            assert isinstance(x, _T)
            axes = sorted(int(v) for v in np.asarray(args[1]).reshape(-1))
            if axes != [1, 2] or _attr(node, "keep_dims", False):
                raise ModelError("only a global spatial mean is supported")
            result = emit("ReduceMean", [x.name], (1, x.shape[1]), axes=[2, 3], keepdims=0)
        elif op in ("Reshape", "Squeeze"):
            assert isinstance(x, _T)
            flat = int(np.prod(x.shape))
            if len(x.shape) == 4 and (x.shape[2] != 1 or x.shape[3] != 1):
                # TF flattens NHWC: put the tensor back in that order first
                x = emit("Transpose", [x.name], (1, x.shape[2], x.shape[3], x.shape[1]), perm=[0, 2, 3, 1])
            result = emit("Reshape", [x.name, const(np.array([1, flat], np.int64))], (1, flat))
        elif op in ("MatMul", "_FusedMatMul"):
            assert isinstance(x, _T)
            w = np.asarray(args[1], dtype=np.float32)
            if _attr(node, "transpose_a", False) or _attr(node, "transpose_b", False):
                raise ModelError("transposed dense layers are not supported")
            result = emit("MatMul", [x.name, const(w)], (1, w.shape[1]))
            if op == "_FusedMatMul":
                ops = _attr(node, "fused_ops", [])
                if ops and ops[0] == "BiasAdd":
                    result = emit("Add", [result.name, const(np.asarray(args[2], np.float32))], result.shape)
                result = fused_tail(result, node)
        else:
            raise ModelError(f"the converter does not know the operation {op} ({name})")
        done[name] = result
        return result

    out = value(output)
    if not isinstance(out, _T):
        raise ModelError("the chosen output is a constant")
    if len(out.shape) != 2:
        out = emit("Reshape", [out.name, const(np.array([1, int(np.prod(out.shape))], np.int64))],
                   (1, int(np.prod(out.shape))))
    onnx_nodes.append(helper.make_node("Identity", [out.name], ["output"]))
    # keep only what the output needs (a ReLU folded into a clip is left behind otherwise)
    needed, kept = {"output"}, []
    for n in reversed(onnx_nodes):
        if any(o in needed for o in n.output):
            kept.append(n)
            needed.update(n.input)
    onnx_nodes = kept[::-1]
    inits = [i for i in inits if i.name in needed]
    graph = helper.make_graph(
        onnx_nodes, "converted",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, input_size, input_size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(out.shape))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], producer_name=producer)
    model.ir_version = 7
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def convert_tfjs_files(json_bytes: bytes, shard_reader: Callable[[str], bytes], *, output: str,
                       input_size: int, producer: str = "facevault") -> bytes:
    """convert_tfjs_graph for a model.json's bytes; shard_reader(path) returns a shard's bytes."""
    try:
        model_json = json.loads(json_bytes)
        paths = [p for g in model_json["weightsManifest"] for p in g["paths"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"not a TensorFlow.js graph model ({exc})") from None
    return convert_tfjs_graph(model_json, {p: shard_reader(p) for p in paths}, output=output,
                              input_size=input_size, producer=producer)
