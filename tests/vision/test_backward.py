"""The backward ONNX graph: its gradient is the true gradient of the cosine (real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facevault.errors import ModelError
from facevault.vision.backward import CosineGradient, build_cosine_gradient_graph
from facevault.vision.embedder import ArcFaceEmbedder, EmbedderConstants

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "fr_feature.onnx"
PREP = EmbedderConstants(112, "RGB", 127.0, 128.0, 512, "input", "output")

pytestmark = pytest.mark.skipif(not MODEL.is_file(), reason="models/fr_feature.onnx not installed")


def _face_like(seed: int) -> np.ndarray:
    """A smooth 112x112 image (a real crop would do as well; smoothness keeps PRelu kinks few)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(40, 220, size=(8, 8, 3))
    up = np.kron(base, np.ones((14, 14, 1)))
    return np.clip(up + rng.normal(0, 3, up.shape), 0, 255).astype(np.float32)


@pytest.fixture(scope="module")
def parts() -> tuple[CosineGradient, ArcFaceEmbedder]:
    return CosineGradient(MODEL, PREP, threads=1), ArcFaceEmbedder(MODEL, PREP, threads=1)


def _cos(emb: ArcFaceEmbedder, crop: np.ndarray, target: np.ndarray) -> float:
    return float(emb.embed(np.clip(crop, 0, 255).astype(np.float32)).astype(np.float64) @ target)


def test_cosine_matches_the_embedder(parts: tuple[CosineGradient, ArcFaceEmbedder]) -> None:
    grad, emb = parts
    crop, other = _face_like(1), _face_like(2)
    target = emb.embed(other).astype(np.float64)
    cosine, g = grad(crop, target)
    assert g.shape == (112, 112, 3) and g.dtype == np.float32
    assert cosine == pytest.approx(_cos(emb, crop, target), abs=1e-5)


def test_gradient_matches_finite_differences(parts: tuple[CosineGradient, ArcFaceEmbedder]) -> None:
    grad, emb = parts
    rng = np.random.default_rng(7)
    crop = _face_like(3)
    target = emb.embed(_face_like(4)).astype(np.float64)
    cosine, g = grad(crop, target)
    # along the gradient itself: the first-order prediction of a small step holds to 5% (the rest is curvature)
    step = 0.1 / float(np.abs(g).max())
    predicted = cosine - step * float((g.astype(np.float64) ** 2).sum())
    actual = _cos(emb, crop - step * g, target)
    assert abs((cosine - actual) - (cosine - predicted)) < 0.05 * abs(cosine - predicted)
    # random directions: central differences agree in sign and within 25% on the sum
    fd, an = [], []
    for _ in range(6):
        d = rng.standard_normal(crop.shape).astype(np.float32)
        eps = 0.1
        fd.append((_cos(emb, crop + eps * d, target) - _cos(emb, crop - eps * d, target)) / (2 * eps))
        an.append(float((g * d).sum()))
    fd_a, an_a = np.array(fd), np.array(an)
    assert np.corrcoef(fd_a, an_a)[0, 1] > 0.95
    assert np.abs(fd_a - an_a).sum() < 0.25 * np.abs(an_a).sum()


def test_a_wrong_gradient_would_be_caught(parts: tuple[CosineGradient, ArcFaceEmbedder]) -> None:
    """The check above is strong enough: a gradient with one colour channel zeroed fails it."""
    grad, emb = parts
    crop = _face_like(5)
    target = emb.embed(_face_like(6)).astype(np.float64)
    cosine, g = grad(crop, target)
    broken = g.copy()
    broken[..., 1] = 0
    step = 0.1 / float(np.abs(g).max())
    predicted = cosine - step * float((broken.astype(np.float64) * g).sum())
    actual = _cos(emb, crop - step * g, target)
    assert abs((cosine - actual) - (cosine - predicted)) > 0.05 * abs(cosine - predicted)


def test_unsupported_operators_are_refused_by_name() -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    onnx.checker.check_model(model)
    with pytest.raises(ModelError, match="Sigmoid"):
        build_cosine_gradient_graph(model)
