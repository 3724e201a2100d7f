"""Gradients of an embedding model without torch: its backward pass as a second ONNX graph.

Role: the photo cloak (issue 16) needs d(similarity)/d(pixels) of the face model. The
models FaceVault ships use only Conv, PRelu, Add and Reshape/Flatten, so the adjoint of
each node is another ONNX node (ConvTranspose with the same weights, a Where on the sign,
a sum, a Reshape back); `build_cosine_gradient_graph` writes the forward graph, a cosine
to a given unit vector, and that backward pass into one model which the onnxruntime the
app already ships can run. An operator outside that set is refused by name, never
approximated. tests/vision/test_backward.py checks the result against finite
differences on the real model.

May import: stdlib, numpy, facevault.errors, facevault.vision.embedder; onnx and onnxruntime
lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facevault.errors import Hint, ModelError
from facevault.vision.embedder import EmbedderConstants, constants_of_entry, cpu_session_options, model_bytes

if TYPE_CHECKING:  # pragma: no cover
    import onnx

__all__ = ["SUPPORTED_OPS", "build_cosine_gradient_graph", "CosineGradient"]

SUPPORTED_OPS = frozenset({"Conv", "PRelu", "Add", "Reshape", "Flatten", "Relu", "Clip", "Max", "Min",
                           "Mul", "Sub", "Abs", "Pad", "ReduceMean", "MatMul", "Transpose", "Identity"})

_TARGET = "fv_target"
_COSINE = "fv_cosine"
_GRAD = "fv_grad_input"
_EMBEDDING = "fv_embedding"


def _static_shapes(model: "onnx.ModelProto") -> dict[str, list[int]]:
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    shapes: dict[str, list[int]] = {}
    for info in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = [d.dim_value for d in info.type.tensor_type.shape.dim]
        if dims and all(d > 0 for d in dims):
            shapes[info.name] = dims
    for init in inferred.graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def build_cosine_gradient_graph(model: "onnx.ModelProto") -> "onnx.ModelProto":
    """Return a model with inputs (the embedder's input, `fv_target` 1xD unit vector) and
    outputs (`fv_cosine` [1], `fv_grad_input` shaped like the input): the cosine between
    the model's embedding and the target, and its gradient with respect to the input."""
    import onnx
    from onnx import helper, TensorProto

    graph = model.graph
    unsupported = sorted({n.op_type for n in graph.node} - SUPPORTED_OPS)
    if unsupported:
        raise ModelError(f"the cloak cannot differentiate this model: it uses {', '.join(unsupported)} "
                         f"(supported: {', '.join(sorted(SUPPORTED_OPS))})")
    if len(graph.output) != 1:
        raise ModelError("the cloak needs a model with one output (the embedding)")
    initialisers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initialisers]
    if len(inputs) != 1:
        raise ModelError("the cloak needs a model with one image input")
    x_name, y_name = inputs[0].name, graph.output[0].name
    shapes = _static_shapes(model)
    if x_name not in shapes or y_name not in shapes:
        raise ModelError("the cloak needs a model with fixed input and output shapes")
    out_dim = int(np.prod(shapes[y_name]))

    nodes = list(graph.node)
    extra: list[onnx.NodeProto] = []
    consts: list[onnx.TensorProto] = []
    counter = [0]

    def fresh(stem: str) -> str:
        counter[0] += 1
        return f"fv_bw_{stem}_{counter[0]}"

    def const(value: np.ndarray, stem: str) -> str:
        name = fresh(stem)
        consts.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, ins: list[str], **attrs: Any) -> str:
        out = fresh(op.lower())
        extra.append(helper.make_node(op, ins, [out], **attrs))
        return out

    # the loss: cos = <y/|y|, t>, and dcos/dy = (t - cos * y/|y|) / |y|
    flat_shape = const(np.array([1, out_dim], dtype=np.int64), "shape")
    y = node("Reshape", [y_name, flat_shape])
    norm = node("Sqrt", [node("ReduceSum", [node("Mul", [y, y])], axes=[1], keepdims=1)])
    y_hat = node("Div", [y, norm])
    cosine = node("ReduceSum", [node("Mul", [y_hat, _TARGET])], axes=[1], keepdims=0)
    extra.append(helper.make_node("Identity", [cosine], [_COSINE]))
    extra.append(helper.make_node("Identity", [y_hat], [_EMBEDDING]))
    grad_y = node("Div", [node("Sub", [_TARGET, node("Mul", [cosine, y_hat])]), norm])
    grad_y = node("Reshape", [grad_y, const(np.array(shapes[y_name], dtype=np.int64), "shape")])

    grads: dict[str, list[str]] = {y_name: [grad_y]}

    def total(name: str) -> str | None:
        parts = grads.get(name)
        if not parts:
            return None
        acc = parts[0]
        for part in parts[1:]:
            acc = node("Add", [acc, part])
        return acc

    zero = const(np.array(0.0, dtype=np.float32), "zero")
    one = const(np.array(1.0, dtype=np.float32), "one")

    def flag(condition: str) -> str:
        # a 0/1 float mask: a Mul by it is exact and, on onnxruntime's CPU kernels, about ten
        # times faster than a Where over the same tensor
        return node("Cast", [condition], to=1)
    const_values = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    for n in reversed(nodes):
        g = total(n.output[0])
        if g is None:
            continue  # this node does not reach the embedding
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Identity":
            grads.setdefault(n.input[0], []).append(g)
        elif n.op_type in ("Reshape", "Flatten"):
            back = node("Reshape", [g, node("Shape", [n.input[0]])])
            grads.setdefault(n.input[0], []).append(back)
        elif n.op_type == "Add":
            for operand in n.input:
                if operand in initialisers:
                    continue
                if shapes.get(operand) != shapes.get(n.output[0]):
                    raise ModelError("the cloak cannot differentiate a broadcasting Add in this model")
                grads.setdefault(operand, []).append(g)
        elif n.op_type == "PRelu":
            x, slope = n.input[0], n.input[1]
            # g * slope where x <= 0: g * (slope + [x > 0] * (1 - slope))
            factor = node("Add", [slope, node("Mul", [flag(node("Greater", [x, zero])),
                                                      node("Sub", [one, slope])])])
            grads.setdefault(x, []).append(node("Mul", [g, factor]))
        elif n.op_type == "Relu":
            grads.setdefault(n.input[0], []).append(node("Mul", [g, flag(node("Greater", [n.input[0], zero]))]))
        elif n.op_type == "Clip":
            x = n.input[0]
            keep = flag(node("Not", [node("Or", [node("Less", [x, n.input[1]]), node("Greater", [x, n.input[2]])])]))
            grads.setdefault(x, []).append(node("Mul", [g, keep]))
        elif n.op_type in ("Max", "Min"):
            tensors = [i for i in n.input if i not in initialisers]
            if len(tensors) != 1 or len(n.input) != 2:
                raise ModelError(f"the cloak can only differentiate a {n.op_type} with a constant")
            x = tensors[0]
            c = n.input[1] if n.input[0] == x else n.input[0]
            passes = node("Greater" if n.op_type == "Max" else "Less", [x, c])
            grads.setdefault(x, []).append(node("Mul", [g, flag(passes)]))
        elif n.op_type in ("Mul", "Sub"):
            a, b = n.input[0], n.input[1]
            for operand, other, sign in ((a, b, 1.0), (b, a, -1.0 if n.op_type == "Sub" else 1.0)):
                if operand in initialisers:
                    continue
                if shapes.get(operand) != shapes.get(n.output[0]):
                    raise ModelError(f"the cloak cannot differentiate a broadcasting {n.op_type} in this model")
                part = node("Mul", [g, other]) if n.op_type == "Mul" else g
                if sign < 0:
                    part = node("Neg", [part])
                grads.setdefault(operand, []).append(part)
        elif n.op_type == "Abs":
            grads.setdefault(n.input[0], []).append(node("Mul", [g, node("Sign", [n.input[0]])]))
        elif n.op_type == "Pad":
            x = n.input[0]
            if attrs.get("mode", b"constant") not in (b"constant", "constant") or len(n.input) > 2 \
                    or n.input[1] not in const_values or x not in shapes:
                raise ModelError("the cloak can only differentiate a constant zero Pad")
            pads = [int(v) for v in const_values[n.input[1]]]
            rank = len(shapes[x])
            starts = pads[:rank]
            ends = [starts[i] + shapes[x][i] for i in range(rank)]
            back = node("Slice", [g, const(np.array(starts, np.int64), "starts"),
                                  const(np.array(ends, np.int64), "ends")])
            grads.setdefault(x, []).append(back)
        elif n.op_type == "ReduceMean":
            x = n.input[0]
            axes = [int(a) for a in attrs.get("axes", [])]
            if x not in shapes or sorted(axes) != [2, 3] or len(shapes[x]) != 4:
                raise ModelError("the cloak can only differentiate a global spatial ReduceMean")
            count = shapes[x][2] * shapes[x][3]
            lifted = node("Reshape", [g, const(np.array(shapes[x][:2] + [1, 1], np.int64), "shape")])
            back = node("Expand", [node("Mul", [lifted, const(np.array(1.0 / count, np.float32), "scale")]),
                                   const(np.array(shapes[x], np.int64), "shape")])
            grads.setdefault(x, []).append(back)
        elif n.op_type == "MatMul":
            x, w = n.input[0], n.input[1]
            if w not in const_values or x in initialisers:
                raise ModelError("the cloak can only differentiate a MatMul by constant weights")
            back = node("MatMul", [g, const(np.ascontiguousarray(const_values[w].T), "weights")])
            grads.setdefault(x, []).append(back)
        elif n.op_type == "Transpose":
            perm = [int(p) for p in attrs["perm"]]
            inverse = [perm.index(i) for i in range(len(perm))]
            grads.setdefault(n.input[0], []).append(node("Transpose", [g], perm=inverse))
        elif n.op_type == "Conv":
            x, w = n.input[0], n.input[1]
            if x in initialisers:
                continue
            if x not in shapes or n.output[0] not in shapes:
                raise ModelError("the cloak needs fixed shapes inside this model")
            kernel = list(attrs.get("kernel_shape", shapes[w][2:]))
            strides = list(attrs.get("strides", [1] * len(kernel)))
            pads = list(attrs.get("pads", [0] * (2 * len(kernel))))
            dilations = list(attrs.get("dilations", [1] * len(kernel)))
            if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ModelError("the cloak cannot differentiate a Conv with auto_pad")
            in_hw, out_hw = shapes[x][2:], shapes[n.output[0]][2:]
            output_padding = []
            for i, k in enumerate(kernel):
                natural = strides[i] * (out_hw[i] - 1) + dilations[i] * (k - 1) + 1 - pads[i] - pads[i + len(kernel)]
                output_padding.append(in_hw[i] - natural)
            if any(p < 0 or p >= max(strides[i], dilations[i]) for i, p in enumerate(output_padding)):
                raise ModelError("the cloak cannot differentiate a Conv of this shape")
            back = node("ConvTranspose", [g, w], kernel_shape=kernel, strides=strides, pads=pads,
                        dilations=dilations, group=int(attrs.get("group", 1)),
                        output_padding=output_padding)
            grads.setdefault(x, []).append(back)
    g_in = total(x_name)
    if g_in is None:
        raise ModelError("the model's output does not depend on its input")
    extra.append(helper.make_node("Identity", [g_in], [_GRAD]))

    new_graph = helper.make_graph(
        nodes + extra, f"{graph.name or 'embedder'}_cosine_gradient",
        [inputs[0], helper.make_tensor_value_info(_TARGET, TensorProto.FLOAT, [1, out_dim])],
        [helper.make_tensor_value_info(_COSINE, TensorProto.FLOAT, [1]),
         helper.make_tensor_value_info(_EMBEDDING, TensorProto.FLOAT, [1, out_dim]),
         helper.make_tensor_value_info(_GRAD, TensorProto.FLOAT, shapes[x_name])],
        list(graph.initializer) + consts)
    # opset 12: the source nodes keep their meaning and ReduceSum still takes `axes` as an attribute
    out = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", 12)])
    out.ir_version = 7
    onnx.checker.check_model(out)
    return out


class CosineGradient:
    """Cosine similarity of a crop's embedding to a unit target, and its gradient with
    respect to the crop's pixels ((size, size, 3) float32 RGB, 0..255). The preprocessing
    constants are the embedder's own (from the manifest), never guessed."""

    def __init__(self, model_path: Path, constants: EmbedderConstants, *, threads: int = 2) -> None:
        import onnx
        import onnxruntime as ort

        try:
            source = onnx.load_from_string(model_bytes(Path(model_path)))
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse error is a bad model file
            raise ModelError(f"cannot read the face model {model_path.name}: {exc}",
                             hint=Hint.INSTALL_MODELS) from exc
        graph = build_cosine_gradient_graph(source)
        self._session = ort.InferenceSession(graph.SerializeToString(), cpu_session_options(threads),
                                             providers=["CPUExecutionProvider"])
        self._c = constants

    @classmethod
    def from_entry(cls, entry: object, *, threads: int = 2) -> CosineGradient:
        """For a modelstore.ModelEntry (its path and preprocessing record)."""
        path, constants = constants_of_entry(entry)
        return cls(path, constants, threads=threads)

    @property
    def input_size(self) -> int:
        return self._c.input_size

    def _feed(self, crop_rgb: np.ndarray, target: np.ndarray | None) -> dict[str, np.ndarray]:
        c = self._c
        size = c.input_size
        if crop_rgb.shape != (size, size, 3):
            raise ValueError(f"expected a {size}x{size}x3 crop, got {crop_rgb.shape}")
        pixels = crop_rgb[..., ::-1] if c.colour_order == "BGR" else crop_rgb
        x = ((pixels.astype(np.float32) - c.mean) / c.std).transpose(2, 0, 1)[None]
        t = np.zeros((1, c.output_dim), np.float32) if target is None else \
            np.asarray(target, dtype=np.float32).reshape(1, -1)
        return {c.input_name: np.ascontiguousarray(x), _TARGET: t}

    def embedding(self, crop_rgb: np.ndarray) -> np.ndarray:
        """The model's unit embedding of the crop (the same pixels as __call__ takes)."""
        (e,) = self._session.run([_EMBEDDING], self._feed(crop_rgb, None))
        return np.asarray(e[0], np.float32)

    def __call__(self, crop_rgb: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        c = self._c
        bgr = c.colour_order == "BGR"
        cosine, grad = self._session.run([_COSINE, _GRAD], self._feed(crop_rgb, target))
        g = grad[0].transpose(1, 2, 0) / c.std
        if bgr:
            g = g[..., ::-1]
        return float(cosine[0]), np.ascontiguousarray(g, dtype=np.float32)
