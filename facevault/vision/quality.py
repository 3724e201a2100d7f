"""Quality gates: is this face good enough to embed, and if not, what should the user do?

Role: pick the one prominent face among the detected ones, measure size, exposure,
sharpness and head pose, and return a verdict with a machine code and a plain sentence.
Thresholds live in the frozen `QualityGates`; they were calibrated on the real photos in
the shared data folder and LFW (see tests/vision/test_quality.py and the commit log).

May import: stdlib, numpy, facevault.vision.landmarks (types only); cv2 lazily.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from facevault.vision.landmarks import DetectedFace

__all__ = [
    "QualityGates",
    "QualityMeasures",
    "Verdict",
    "REASONS",
    "choose_face",
    "head_pose",
    "measure",
    "assess",
]

REASONS: dict[str, str] = {
    "no_face": "No face found. Face the camera in good light.",
    "several_faces": "Several faces are in view; only you should be in front of the camera.",
    "too_small": "Move closer: your face is too small in the picture.",
    "too_dark": "More light, please: your face is too dark.",
    "overexposed": "Too much light: your face is washed out.",
    "pose": "Look straight at the camera.",
    "blurred": "Hold still: the picture is blurred.",
}


@dataclass(frozen=True)
class QualityGates:
    """Thresholds. Distances in frame pixels, luminance in 0..255, angles in degrees."""

    several_faces_area_ratio: float = 0.6  # second face area / first: above this, refuse
    min_interocular_px: float = 28.0  # distance between eye centres in the frame
    min_luminance: float = 45.0  # mean luma of the face region (aligned crop centre)
    max_luminance: float = 220.0
    max_clipped_fraction: float = 0.25  # share of face pixels at >= 250
    max_yaw_deg: float = 35.0
    max_pitch_deg: float = 30.0
    max_residual: float = 8.5  # RMS of the 5-point fit, in template pixels (112 scale)
    min_sharpness: float = 0.05  # var(Laplacian) / (var(gray) + 25) on the aligned crop
    enforce: bool = True  # False: report what would fail (Verdict.advisory) but accept

    @classmethod
    def off(cls) -> QualityGates:
        """The default thresholds, reported but not enforced (benchmarks: every detected
        face is embedded, the largest when there are several)."""
        return cls(enforce=False)


@dataclass(frozen=True)
class QualityMeasures:
    interocular_px: float
    luminance: float  # mean luma 0..255 of the face region
    clipped_fraction: float  # 0..1
    sharpness: float  # normalised variance of the Laplacian, dimensionless
    yaw_deg: float  # signed; 0 = facing the camera
    pitch_deg: float
    residual: float  # alignment fit RMS in template pixels


@dataclass(frozen=True)
class Verdict:
    """ok=True with code/reason None, or ok=False with a code from REASONS and its sentence.
    With gates that are not enforced, ok=True and `advisory` names the gate that would fail."""

    ok: bool
    code: str | None
    reason: str | None
    quality: float  # 0..1, higher is better; 0 when not ok
    measures: QualityMeasures | None = None
    advisory: str | None = None

    @classmethod
    def fail(cls, code: str, measures: QualityMeasures | None = None) -> Verdict:
        return cls(False, code, REASONS[code], 0.0, measures)


def choose_face(
    faces: Sequence[DetectedFace], gates: QualityGates
) -> tuple[DetectedFace | None, Verdict | None]:
    """The one prominent face, or a failing verdict (no_face / several_faces)."""
    if not faces:
        return None, Verdict.fail("no_face")
    ranked = sorted(faces, key=lambda f: f.area, reverse=True)
    if len(ranked) > 1 and ranked[0].area > 0:
        if ranked[1].area / ranked[0].area > gates.several_faces_area_ratio:
            if not gates.enforce:
                return ranked[0], Verdict(True, None, None, 0.0, advisory="several_faces")
            return None, Verdict.fail("several_faces")
    return ranked[0], None


def head_pose(landmarks: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees from the 3-D landmarks (pixel-scaled z).

    Yaw: angle of the cheek-to-cheek line (234 -> 454) out of the image plane.
    Pitch: angle of the forehead-to-chin line (10 -> 152) out of the image plane.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    across = lm[454] - lm[234]
    down = lm[152] - lm[10]
    yaw = math.degrees(math.atan2(across[2], math.hypot(across[0], across[1])))
    pitch = math.degrees(math.atan2(down[2], math.hypot(down[0], down[1])))
    return yaw, pitch


def _face_region(aligned: np.ndarray) -> np.ndarray:
    """Luma of the inner face in an aligned 112x112 crop (eyes to chin, cheek to cheek)."""
    rgb = aligned.astype(np.float32)
    luma: np.ndarray = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return luma[30:104, 24:88]


def measure(
    face: DetectedFace, aligned: np.ndarray, five: np.ndarray, residual: float
) -> QualityMeasures:
    """Measurements for one face: five = its (5, 2) frame points, aligned = 112 crop."""
    import cv2

    region = _face_region(aligned)
    gray = cv2.cvtColor(aligned, cv2.COLOR_RGB2GRAY).astype(np.float32)[16:108, 16:96]
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=1)
    sharp = float(lap.var() / (gray.var() + 25.0))
    yaw, pitch = head_pose(face.landmarks)
    return QualityMeasures(
        interocular_px=float(np.linalg.norm(five[1] - five[0])),
        luminance=float(region.mean()),
        clipped_fraction=float((region >= 250).mean()),
        sharpness=sharp,
        yaw_deg=yaw,
        pitch_deg=pitch,
        residual=float(residual),
    )


def _score(m: QualityMeasures, g: QualityGates) -> float:
    """0..1 weight for fusion: bigger, sharper, more frontal, better-exposed is better."""
    size = min(1.0, m.interocular_px / max(1.0, 2.5 * g.min_interocular_px))
    sharp = min(1.0, m.sharpness / max(1e-6, 3.0 * g.min_sharpness))
    turn = max(abs(m.yaw_deg) / max(1.0, g.max_yaw_deg), abs(m.pitch_deg) / max(1.0, g.max_pitch_deg))
    pose = max(0.0, 1.0 - turn)
    light = 1.0 - min(1.0, abs(m.luminance - 128.0) / 128.0)
    return float(max(0.05, size * (0.5 + 0.5 * sharp) * (0.5 + 0.5 * pose) * (0.5 + 0.5 * light)))


def assess(m: QualityMeasures, gates: QualityGates) -> Verdict:
    """Apply the gates in the order a user should fix things: light, pose, distance, blur.

    Pose comes before size because a turned head shortens the eye distance: the user
    should first be told to look at the camera, not to move closer.
    """
    verdict = _assess(m, gates)
    if verdict.ok or gates.enforce:
        return verdict
    return Verdict(True, None, None, _score(m, gates), m, advisory=verdict.code)


def _assess(m: QualityMeasures, gates: QualityGates) -> Verdict:
    if m.luminance < gates.min_luminance:
        return Verdict.fail("too_dark", m)
    if m.luminance > gates.max_luminance or m.clipped_fraction > gates.max_clipped_fraction:
        return Verdict.fail("overexposed", m)
    if (
        abs(m.yaw_deg) > gates.max_yaw_deg
        or abs(m.pitch_deg) > gates.max_pitch_deg
        or m.residual > gates.max_residual
    ):
        return Verdict.fail("pose", m)
    if m.interocular_px < gates.min_interocular_px:
        return Verdict.fail("too_small", m)
    if m.sharpness < gates.min_sharpness:
        return Verdict.fail("blurred", m)
    return Verdict(True, None, None, _score(m, gates), m)
