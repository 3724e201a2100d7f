"""The TensorFlow.js -> ONNX converter (modelstore.tfjs) and the backward pass of what it writes.

A small TF.js graph with the operations the cloak's second face model uses (SAME and
VALID convolutions with strides, a depthwise convolution, batch-norm arithmetic with
constants, ReLU6 written as TF writes it, an explicit pad, a flatten of a spatial tensor,
a dense layer, a global mean, float16-quantised weights) is converted and compared with a
numpy implementation of TensorFlow's NHWC semantics; then the cosine gradient of the
converted graph is checked against finite differences (vision.backward)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from facevault.errors import ModelError
from facevault.modelstore.tfjs import convert_tfjs_graph

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _s(text: str) -> dict[str, str]:
    return {"s": base64.b64encode(text.encode()).decode()}


def _conv_attrs(stride: int, padding: str) -> dict[str, object]:
    return {"strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}}, "padding": _s(padding),
            "data_format": _s("NHWC"), "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}


def _tf_pad_same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    h = x.shape[1]
    out = -(-h // s)
    total = max((out - 1) * s + k - h, 0)
    a, b = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (a, b), (a, b), (0, 0)))


def _tf_conv(x: np.ndarray, w: np.ndarray, s: int, padding: str, depthwise: bool = False) -> np.ndarray:
    k = w.shape[0]
    if padding == "SAME":
        x = _tf_pad_same(x, k, s)
    n, h, wd, c = x.shape
    oh, ow = (h - k) // s + 1, (wd - k) // s + 1
    cols = np.stack([x[:, i:i + s * oh:s, j:j + s * ow:s, :] for i in range(k) for j in range(k)], axis=3)
    cols = cols.reshape(n, oh, ow, k, k, c)
    if depthwise:  # w: k, k, c, 1
        return np.einsum("nhwijc,ijc->nhwc", cols, w[..., 0])
    return np.einsum("nhwijc,ijco->nhwo", cols, w)


def _model(rng: np.random.Generator, size: int = 11) -> tuple[dict[str, object], dict[str, bytes], dict[str, np.ndarray]]:
    side = (-(-size // 2) + 2 - 3) // 2 + 1  # after the strided SAME conv, the pad and the VALID conv
    consts = {
        "w1": rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32),
        "bn_mul": rng.uniform(0.5, 1.5, 4).astype(np.float32),
        "bn_add": rng.normal(0, 0.2, 4).astype(np.float32),
        "six": np.array(6.0, np.float32),
        "zero": np.array(0.0, np.float32),
        "dw": rng.normal(0, 0.4, (3, 3, 4, 1)).astype(np.float32),
        "floor": np.array(-0.5, np.float32),
        "ceiling": np.array(4.0, np.float32),
        "pads": np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32),
        "w2": rng.normal(0, 0.3, (3, 3, 4, 6)).astype(np.float32),
        "bias2": rng.normal(0, 0.1, 6).astype(np.float32),
        "shape": np.array([-1, 6 * side * side], np.int32),
        "dense": rng.normal(0, 0.2, (6 * side * side, 5)).astype(np.float32),
        "axes": np.array([1, 2], np.int32),
    }
    nodes = [{"name": "x", "op": "Placeholder"}]
    nodes += [{"name": k, "op": "Const"} for k in consts]
    nodes += [
        {"name": "c1", "op": "Conv2D", "input": ["x", "w1"], "attr": _conv_attrs(2, "SAME")},
        {"name": "m1", "op": "Mul", "input": ["c1", "bn_mul"]},
        {"name": "a1", "op": "AddV2", "input": ["m1", "bn_add"]},
        {"name": "r1", "op": "Relu", "input": ["a1"]},
        {"name": "mn1", "op": "Minimum", "input": ["r1", "six"]},
        {"name": "mx1", "op": "Maximum", "input": ["mn1", "zero"]},
        {"name": "d1", "op": "DepthwiseConv2dNative", "input": ["mx1", "dw"], "attr": _conv_attrs(1, "SAME")},
        {"name": "ab", "op": "Abs", "input": ["d1"]},
        {"name": "sb", "op": "Sub", "input": ["d1", "ab"]},  # 2 * min(d1, 0)
        {"name": "res", "op": "AddV2", "input": ["sb", "mx1"]},  # a residual of two tensors
        {"name": "lo", "op": "Maximum", "input": ["floor", "res"]},  # max/min with constants (not a ReLU)
        {"name": "hi", "op": "Minimum", "input": ["lo", "ceiling"]},
        {"name": "p", "op": "Pad", "input": ["hi", "pads"]},
        {"name": "c2", "op": "_FusedConv2D", "input": ["p", "w2", "bias2"],
         "attr": {**_conv_attrs(2, "VALID"), "fused_ops": {"list": {"s": [base64.b64encode(b).decode()
                                                                            for b in (b"BiasAdd", b"Relu")]}}}},
        {"name": "flat", "op": "Reshape", "input": ["c2", "shape"]},
        {"name": "out", "op": "MatMul", "input": ["flat", "dense"]},
        {"name": "gap", "op": "Mean", "input": ["c2", "axes"]},
    ]
    # one shard; w2 stored as float16 and dw as uint8 (TF.js's two weight quantisations), the rest float32
    manifest, blob = [], b""
    for k, v in consts.items():
        entry = {"name": k, "shape": list(v.shape), "dtype": "int32" if v.dtype == np.int32 else "float32"}
        if k == "w2":
            entry["quantization"] = {"dtype": "float16"}
            consts[k] = v.astype(np.float16).astype(np.float32)
            blob += v.astype("<f2").tobytes()
        elif k == "dw":
            lo, scale = float(v.min()), float(v.max() - v.min()) / 255
            q = np.round((v - lo) / scale).astype(np.uint8)
            entry["quantization"] = {"dtype": "uint8", "min": lo, "scale": scale}
            consts[k] = q.astype(np.float32) * np.float32(scale) + np.float32(lo)
            blob += q.tobytes()
        else:
            blob += v.astype("<i4" if v.dtype == np.int32 else "<f4").tobytes()
        manifest.append(entry)
    model = {"format": "graph-model", "modelTopology": {"node": nodes},
             "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": manifest}]}
    return model, {"group1-shard1of1.bin": blob}, consts


def _reference(x: np.ndarray, c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    a1 = _tf_conv(x, c["w1"], 2, "SAME") * c["bn_mul"] + c["bn_add"]
    mx1 = np.maximum(np.minimum(np.maximum(a1, 0), 6), 0)
    d1 = _tf_conv(mx1, c["dw"], 1, "SAME", depthwise=True)
    res = (d1 - np.abs(d1)) + mx1
    p = np.pad(np.minimum(np.maximum(c["floor"], res), c["ceiling"]), ((0, 0), (1, 1), (1, 1), (0, 0)))
    c2 = np.maximum(_tf_conv(p, c["w2"], 2, "VALID") + c["bias2"], 0)
    return c2.reshape(1, -1) @ c["dense"], c2.mean(axis=(1, 2))


@pytest.mark.parametrize("output", ["out", "gap"])
def test_the_converted_graph_computes_what_tensorflow_would(output: str) -> None:
    rng = np.random.default_rng(3)
    model, shards, consts = _model(rng, 12)  # 12: TF's SAME padding puts the odd pixel after
    data = convert_tfjs_graph(model, shards, output=output, input_size=12)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    for _ in range(3):
        x = rng.uniform(-1, 1, (1, 12, 12, 3)).astype(np.float32)
        (got,) = session.run(["output"], {"input": np.ascontiguousarray(x.transpose(0, 3, 1, 2))})
        want = _reference(x.astype(np.float64), {k: v.astype(np.float64) for k, v in consts.items()})
        expected = want[0] if output == "out" else want[1]
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # deterministic: the install step checks the converted file's sha256
    assert convert_tfjs_graph(model, shards, output=output, input_size=12) == data


@pytest.mark.parametrize("output, dim", [("out", 5), ("gap", 6)])
def test_the_backward_pass_of_a_converted_graph_matches_finite_differences(tmp_path, output: str, dim: int) -> None:
    from facevault.vision.backward import CosineGradient
    from facevault.vision.embedder import EmbedderConstants

    rng = np.random.default_rng(5)
    model, shards, _consts = _model(rng, 16)
    path = tmp_path / "small.onnx"
    path.write_bytes(convert_tfjs_graph(model, shards, output=output, input_size=16))
    grad = CosineGradient(path, EmbedderConstants(16, "BGR", 127.5, 64.0, dim, "input", "output"), threads=1)
    crop = np.kron(rng.uniform(30, 220, (4, 4, 3)), np.ones((4, 4, 1))).astype(np.float32)
    target = rng.normal(size=dim)
    target /= np.linalg.norm(target)
    cosine, g = grad(crop, target)
    assert grad.embedding(crop) @ target == pytest.approx(cosine, abs=1e-5)
    fd, an = [], []
    for _ in range(8):
        d = rng.standard_normal(crop.shape).astype(np.float32)
        h = 0.05
        fd.append((grad(crop + h * d, target)[0] - grad(crop - h * d, target)[0]) / (2 * h))
        an.append(float((g * d).sum()))
    fd_a, an_a = np.array(fd), np.array(an)
    assert np.corrcoef(fd_a, an_a)[0, 1] > 0.99
    assert np.abs(fd_a - an_a).sum() < 0.1 * np.abs(an_a).sum()


def test_unknown_operations_and_missing_weights_are_refused_by_name() -> None:
    rng = np.random.default_rng(1)
    model, shards, _ = _model(rng)
    nodes = model["modelTopology"]["node"]  # type: ignore[index]
    nodes.append({"name": "odd", "op": "Sigmoid", "input": ["out"]})
    with pytest.raises(ModelError, match="Sigmoid"):
        convert_tfjs_graph(model, shards, output="odd", input_size=11)
    short = {k: v[:-8] for k, v in shards.items()}
    with pytest.raises(ModelError, match="shorter"):
        convert_tfjs_graph(model, short, output="out", input_size=11)
    with pytest.raises(ModelError, match="no node"):
        convert_tfjs_graph(json.loads(json.dumps(model)), shards, output="nothing", input_size=11)
