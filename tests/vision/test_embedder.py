"""ArcFaceEmbedder: unit-norm deterministic output, colour order honoured, model errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from facevault.errors import Hint, ModelError
from facevault.vision.embedder import ArcFaceEmbedder, EmbedderConstants

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "fr_feature.onnx"
PREP = EmbedderConstants(112, "RGB", 127.0, 128.0, 512, "input", "output")

needs_model = pytest.mark.skipif(not MODEL.is_file(), reason="models/fr_feature.onnx not installed")


@pytest.fixture(scope="module")
def embedder() -> ArcFaceEmbedder:
    if not MODEL.is_file():
        pytest.skip("models/fr_feature.onnx not installed")
    return ArcFaceEmbedder(MODEL, PREP, threads=1)


def _crop(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(14, 14, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(base, np.ones((8, 8, 1), np.uint8)))  # 112x112x3


@needs_model
def test_unit_norm_float32_and_deterministic(embedder: ArcFaceEmbedder) -> None:
    crop = _crop(1)
    a, b = embedder.embed(crop), embedder.embed(crop.copy())
    assert a.shape == (512,) and a.dtype == np.float32
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    np.testing.assert_array_equal(a, b)


@needs_model
def test_batch_matches_single(embedder: ArcFaceEmbedder) -> None:
    crops = np.stack([_crop(2), _crop(3), _crop(4)])
    batch = embedder.embed_batch(crops)
    assert batch.shape == (3, 512)
    for i in range(3):
        np.testing.assert_allclose(batch[i], embedder.embed(crops[i]), atol=1e-6)
    assert float(batch[0] @ batch[1]) < 0.999  # different inputs, different vectors


@needs_model
def test_colour_order_is_honoured() -> None:
    crop = _crop(5)
    rgb_model = ArcFaceEmbedder(MODEL, PREP, threads=1)
    bgr_model = ArcFaceEmbedder(MODEL, dataclasses.replace(PREP, colour_order="BGR"), threads=1)
    np.testing.assert_allclose(bgr_model.embed(crop[..., ::-1].copy()), rgb_model.embed(crop), atol=1e-6)
    assert float(bgr_model.embed(crop) @ rgb_model.embed(crop)) < 0.999


@needs_model
def test_wrong_crop_shape_is_a_value_error(embedder: ArcFaceEmbedder) -> None:
    with pytest.raises(ValueError):
        embedder.embed(np.zeros((100, 100, 3), np.uint8))


def test_missing_model_names_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        ArcFaceEmbedder(tmp_path / "nope.onnx", PREP)
    assert info.value.hint is Hint.INSTALL_MODELS


def test_corrupt_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07this is not an onnx graph" * 50)
    with pytest.raises(ModelError) as info:
        ArcFaceEmbedder(bad, PREP)
    assert info.value.hint is Hint.INSTALL_MODELS


@needs_model
@pytest.mark.parametrize(
    "change",
    [{"input_size": 128}, {"input_name": "data"}, {"output_name": "fc1"}, {"colour_order": "YUV"}],
)
def test_manifest_that_does_not_match_the_graph_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ModelError):
        ArcFaceEmbedder(MODEL, dataclasses.replace(PREP, **change))  # type: ignore[arg-type]
