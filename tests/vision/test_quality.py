"""Quality gates: each gate on synthetic measures, head pose on rotated landmarks, and the
real pipeline on degraded real photos failing with the right code."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from facevault.vision.landmarks import DetectedFace
from facevault.vision.quality import (
    REASONS,
    QualityGates,
    QualityMeasures,
    assess,
    choose_face,
    head_pose,
)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data"))
GATES = QualityGates()
GOOD = QualityMeasures(
    interocular_px=80, luminance=130, clipped_fraction=0.0, sharpness=0.4,
    yaw_deg=3, pitch_deg=5, residual=2.0,
)


def _face(x: int, y: int, w: int, h: int) -> DetectedFace:
    return DetectedFace(np.zeros((478, 3), np.float32), {}, (x, y, w, h))


def test_good_measures_pass_with_positive_quality() -> None:
    v = assess(GOOD, GATES)
    assert v.ok and v.code is None and v.reason is None and 0 < v.quality <= 1


@pytest.mark.parametrize(
    "change, code",
    [
        ({"interocular_px": 12.0}, "too_small"),
        ({"luminance": 20.0}, "too_dark"),
        ({"luminance": 240.0}, "overexposed"),
        ({"clipped_fraction": 0.6}, "overexposed"),
        ({"yaw_deg": -50.0}, "pose"),
        ({"pitch_deg": 40.0}, "pose"),
        ({"residual": 12.0}, "pose"),
        ({"sharpness": 0.01}, "blurred"),
    ],
)
def test_each_gate_fails_with_its_code(change: dict[str, float], code: str) -> None:
    v = assess(replace(GOOD, **change), GATES)
    assert not v.ok and v.code == code and v.reason == REASONS[code] and v.quality == 0


def test_reasons_are_plain_sentences() -> None:
    assert REASONS["several_faces"] == (
        "Several faces are in view; only you should be in front of the camera."
    )
    assert REASONS["too_small"].startswith("Move closer")
    assert REASONS["too_dark"].startswith("More light, please")
    assert REASONS["overexposed"].startswith("Too much light")
    assert REASONS["blurred"].startswith("Hold still")
    assert REASONS["pose"].startswith("Look straight at the camera")


def test_quality_prefers_bigger_sharper_frontal_faces() -> None:
    q = assess(GOOD, GATES).quality
    assert assess(replace(GOOD, interocular_px=40), GATES).quality < q
    assert assess(replace(GOOD, sharpness=0.07), GATES).quality < q
    assert assess(replace(GOOD, yaw_deg=25), GATES).quality < q


def test_choose_face_rules() -> None:
    assert choose_face([], GATES)[1].code == "no_face"  # type: ignore[union-attr]
    big, small = _face(0, 0, 200, 200), _face(300, 0, 100, 100)  # area ratio 0.25
    chosen, refusal = choose_face([small, big], GATES)
    assert chosen is big and refusal is None
    twin = _face(300, 0, 180, 190)  # area ratio 0.855
    chosen, refusal = choose_face([big, twin], GATES)
    assert chosen is None and refusal is not None and refusal.code == "several_faces"


def _frontal_mesh() -> np.ndarray:
    lm = np.zeros((478, 3), np.float64)
    lm[234] = [-70, 0, 0]
    lm[454] = [70, 0, 0]
    lm[10] = [0, -90, 0]
    lm[152] = [0, 90, 0]
    return lm


@pytest.mark.parametrize("yaw", [-60.0, -20.0, 0.0, 15.0, 45.0])
def test_head_pose_reads_rotation_about_vertical_axis(yaw: float) -> None:
    a = math.radians(yaw)
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    lm = _frontal_mesh() @ rot.T
    got_yaw, got_pitch = head_pose(lm)
    assert abs(abs(got_yaw) - abs(yaw)) < 1e-6 and abs(got_pitch) < 1e-6


@pytest.mark.parametrize("pitch", [-35.0, 10.0, 40.0])
def test_head_pose_reads_nodding(pitch: float) -> None:
    a = math.radians(pitch)
    rot = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    got_yaw, got_pitch = head_pose(_frontal_mesh() @ rot.T)
    assert abs(abs(got_pitch) - abs(pitch)) < 1e-6 and abs(got_yaw) < 1e-6


# --- real photos, real models ---------------------------------------------------------

photos_dir = DATA / "photos"
needs_data = pytest.mark.skipif(
    not photos_dir.is_dir() or not (REPO / "models" / "fr_feature.onnx").is_file(),
    reason=f"real photos ({photos_dir}) or models not available",
)


@dataclass(frozen=True)
class _Frame:
    rgb: np.ndarray
    timestamp_ms: int = 0
    origin: str = "test"


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    from facevault.services.models import face_pipeline

    with face_pipeline(False) as p:
        yield p


def _webcam_scale(pipeline, path: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The photo rescaled so the eyes are 70 px apart, like a webcam at arm's length."""
    import cv2

    from facevault.vision.align import five_points
    from facevault.vision.sources import decode_image

    rgb = decode_image(path)
    obs = pipeline.process(_Frame(rgb))
    assert obs.ok, (path, obs.code)
    five = five_points(obs.landmarks)
    s = 70.0 / float(np.linalg.norm(five[1] - five[0]))
    return cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)


SAMPLE = ["id01/img2.jpg", "id03/img8.jpg", "id05/img14.jpg", "id08/img36.jpg", "id10/img18.jpg"]


@needs_data
@pytest.mark.parametrize("name", SAMPLE)
def test_degradations_fail_with_the_right_code(pipeline, name: str) -> None:  # type: ignore[no-untyped-def]
    import cv2

    rgb = _webcam_scale(pipeline, photos_dir / name)
    assert pipeline.process(_Frame(rgb)).ok
    dark = (rgb.astype(np.float32) * 0.15).astype(np.uint8)
    over = np.clip(rgb.astype(np.float32) * 2.5 + 60, 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(rgb, (0, 0), 3.0)
    small = cv2.resize(rgb, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    assert pipeline.process(_Frame(dark)).code == "too_dark"
    assert pipeline.process(_Frame(over)).code in ("overexposed", "no_face")
    assert pipeline.process(_Frame(blurred)).code == "blurred"
    assert pipeline.process(_Frame(small)).code == "too_small"


@needs_data
def test_overexposure_is_caught_on_most_photos(pipeline) -> None:  # type: ignore[no-untyped-def]
    codes = []
    for name in SAMPLE:
        rgb = _webcam_scale(pipeline, photos_dir / name)
        over = np.clip(rgb.astype(np.float32) * 2.5 + 60, 0, 255).astype(np.uint8)
        codes.append(pipeline.process(_Frame(over)).code)
    assert codes.count("overexposed") >= 4, codes


@needs_data
def test_turned_head_fails_pose(pipeline) -> None:  # type: ignore[no-untyped-def]
    from facevault.vision.sources import decode_image

    path = DATA / "lfw-dev" / "images" / "Allan_Houston" / "Allan_Houston_0001.jpg"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    obs = pipeline.process(_Frame(decode_image(path)))
    assert obs.code == "pose", obs
