"""vision.weights: subnormal float32 weights are zeroed in the protobuf, nothing else moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from facevault.errors import ModelError
from facevault.vision.embedder import ArcFaceEmbedder, EmbedderConstants
from facevault.vision.weights import without_subnormals

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "fr_feature.onnx"
TINY = np.float32(np.finfo(np.float32).tiny)


def _model(weights: np.ndarray, *, packed_floats: bool, bias0: float = 1e-40) -> bytes:
    """x (1x4) @ W (4x3) + b, W stored as raw_data or as float_data, b as raw_data."""
    w = numpy_helper.from_array(weights, "W")
    if packed_floats:  # the other way a TensorProto may hold floats
        w = helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.ravel().tolist())
    b = numpy_helper.from_array(np.array([bias0, 0.5, -2.0], np.float32), "b")
    shape = numpy_helper.from_array(np.array([1, 3], np.int64), "shape")  # not floats: never touched
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["s"]),
         helper.make_node("Reshape", ["s", "shape"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w, b, shape])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


@pytest.mark.parametrize("packed_floats", [False, True])
def test_subnormals_become_zero_and_nothing_else_changes(packed_floats: bool) -> None:
    weights = np.array([[1.0, TINY / 4, -TINY / 1000], [2.0, 3.0, -TINY / 2], [TINY, -TINY, 0.0],
                        [1e-30, -7.5, 4.0]], np.float32)
    data = _model(weights, packed_floats=packed_floats)
    out, count = without_subnormals(data)
    assert count == 4  # three in W, one in b; TINY itself is the smallest normal float
    assert len(out) == len(data)
    got = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(out).graph.initializer}
    want_w = weights.copy()
    want_w[np.abs(want_w) < TINY] = 0
    np.testing.assert_array_equal(got["W"], want_w)
    np.testing.assert_array_equal(got["b"], np.array([0.0, 0.5, -2.0], np.float32))
    np.testing.assert_array_equal(got["shape"], np.array([1, 3], np.int64))
    x = np.array([[1.0, -2.0, 0.5, 3.0]], np.float32)
    run = [ort.InferenceSession(d, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0] for d in (data, out)]
    np.testing.assert_allclose(run[0], run[1], rtol=0, atol=1e-6)


def test_a_model_without_subnormals_is_returned_unchanged() -> None:
    clean = _model(np.full((4, 3), 1e-30, np.float32), packed_floats=False, bias0=0.0)
    assert without_subnormals(clean) == (clean, 0)


@pytest.mark.parametrize("junk", [b"\xff\xff\xff", b"\x3a\x05ab", b"not a model at all" * 3])
def test_bytes_that_are_not_a_model_are_refused(junk: bytes) -> None:
    with pytest.raises(ModelError):
        without_subnormals(junk)


@pytest.mark.skipif(not MODEL.is_file(), reason="models/fr_feature.onnx not installed")
def test_the_shipped_embedder_gives_the_same_embedding_with_its_subnormals_zeroed() -> None:
    data = MODEL.read_bytes()
    out, count = without_subnormals(data)
    assert count == 8938  # what fr_feature.onnx (sha256 87aacdfe...) carries
    rng = np.random.default_rng(3)
    base = rng.uniform(30, 220, size=(8, 8, 3))
    crop = np.clip(np.kron(base, np.ones((14, 14, 1))) + rng.normal(0, 4, (112, 112, 3)), 0, 255).astype(np.uint8)
    x = ((crop.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)[None]
    shipped = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0][0]
    patched = ort.InferenceSession(out, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0][0]
    cosine = float(shipped @ patched / np.linalg.norm(shipped) / np.linalg.norm(patched))
    assert cosine > 1 - 1e-6
    # and the embedder is the patched one
    emb = ArcFaceEmbedder(MODEL, EmbedderConstants(112, "RGB", 127.0, 128.0, 512, "input", "output"), threads=1)
    np.testing.assert_allclose(emb.embed(crop), patched / np.linalg.norm(patched), atol=1e-6)
