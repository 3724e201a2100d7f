"""Passive anti-spoofing model: the crop rule, the input tensor, the manifest constants,
and what the model says on a few real photos versus a synthesised recapture of each.

The full measurement (every attack, every preprocessing variant, ~200 photos) is the
benchmark `facevault bench liveness` (facevault/bench/liveness.py), not a test.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given

from facevault import modelstore, paths
from facevault.errors import ModelError
from facevault.services.models import passive_liveness
from facevault.vision.antispoof import AntispoofPrep, PassiveLiveness, crop_rect, prep_from_manifest
from tests.helpers.media import shared_photos
from tests.strategies import crop_boxes


@given(crop_boxes)
def test_crop_rect_stays_inside_and_keeps_the_face(box: tuple[int, int, float, float, float, float]) -> None:
    w, h, fx, fy, fs, scale = box
    bw = bh = max(4, int(fs * min(w, h)))
    x, y = int(fx * (w - bw)), int(fy * (h - bh))
    cx, cy, cw, ch = crop_rect((x, y, bw, bh), w, h, scale)
    assert 0 <= cx and 0 <= cy and cx + cw <= w and cy + ch <= h
    # the crop covers the face box (up to a pixel of rounding)
    assert cx <= x + 1 and cy <= y + 1 and cx + cw >= x + bw - 2 and cy + ch >= y + bh - 2


def test_crop_rect_is_scale_times_the_box_when_it_fits() -> None:
    assert crop_rect((400, 300, 100, 100), 1000, 800, 2.7) == (315, 215, 270, 270)
    # near the left edge it is shifted, not clipped
    x, y, w, h = crop_rect((10, 300, 100, 100), 1000, 800, 2.7)
    assert (x, w, h) == (0, 270, 270)


def test_tensor_is_raw_pixels_in_the_configured_channel_order(tmp_path) -> None:
    model = modelstore.load_manifest().find("fr_liveness")
    if model is None or not model.path.exists():
        pytest.skip("fr_liveness.onnx not installed")
    crop = np.zeros((128, 128, 3), np.uint8)
    crop[..., 0], crop[..., 1], crop[..., 2] = 10, 20, 30  # R, G, B
    bgr = PassiveLiveness(model.path, AntispoofPrep("BGR", 0.0, 1.0)).tensor(crop)
    rgb = PassiveLiveness(model.path, AntispoofPrep("RGB", 127.0, 128.0)).tensor(crop)
    assert bgr.shape == (1, 3, 128, 128) and bgr.dtype == np.float32
    assert [float(bgr[0, c, 5, 5]) for c in range(3)] == [30.0, 20.0, 10.0]
    assert rgb[0, 0, 0, 0] == pytest.approx((10 - 127) / 128)


def test_manifest_constants_are_verified_and_complete() -> None:
    entry = modelstore.load_manifest().find("fr_liveness")
    assert entry is not None
    prep = prep_from_manifest(entry, paths.manifest_path())
    assert prep == AntispoofPrep("BGR", 0.0, 1.0, 2.7, 0, 128, "input", "output")


def test_unverified_preprocessing_is_refused() -> None:
    unverified = SimpleNamespace(
        name="x", preprocessing=modelstore.Preprocessing((128, 128), None, None, None, 3, "input",
                                                         "output", verified=False),
    )
    with pytest.raises(ModelError, match="not verified"):
        prep_from_manifest(unverified, paths.manifest_path())


@pytest.fixture(scope="module")
def model() -> PassiveLiveness:
    try:
        return passive_liveness()
    except ModelError as exc:
        pytest.skip(f"liveness model not installed: {exc}")


@pytest.mark.skipif(len(shared_photos()) < 8, reason="shared photos not found (FACEVAULT_TEST_DATA)")
def test_real_photos_score_live_and_their_recaptures_do_not(model: PassiveLiveness) -> None:
    from facevault.bench.liveness import recapture
    from facevault.vision.landmarks import FaceLandmarker
    from facevault.vision.sources import decode_image

    rng = np.random.default_rng(7)
    real, fake = [], []
    with FaceLandmarker(modelstore.model_path("landmarker"), video=False) as lm:
        for path in shared_photos()[::8][:6]:
            rgb = decode_image(path, max_side=1280)
            faces = lm.detect(rgb)
            assert faces, path
            real.append(model.score(rgb, faces[0].box))
            attack = recapture(rgb, rng)
            faces = lm.detect(attack)
            assert faces, path
            fake.append(model.score(attack, faces[0].box))
    # with the wrong preprocessing ((x-127)/128 or x/255) every real score is ~0.015
    assert np.median(real) > 0.8, real
    assert np.median(fake) < 0.5, fake
    assert sum(r > f for r, f in zip(real, fake)) >= 5, (real, fake)
