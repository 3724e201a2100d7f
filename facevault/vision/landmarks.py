"""MediaPipe FaceLandmarker wrapper: RGB frame -> detected faces with 478 landmarks.

Role: own one MediaPipe Tasks FaceLandmarker (IMAGE mode for stills, VIDEO mode for
streams) and turn its results into frozen `DetectedFace` values in frame pixels.
The bundled detector is the short-range BlazeFace, so a face that is small in a large
still photo is missed; in IMAGE mode a tiled retry finds it (see `detect`).

May import: stdlib, numpy, facevault.errors; mediapipe lazily inside the constructor.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from facevault.errors import Hint, ModelError
from facevault.vision.native_log import native_stderr_to_log

__all__ = ["DetectedFace", "FaceLandmarker", "box_iou"]

log = logging.getLogger(__name__)

# Tiled retry (IMAGE mode only): square windows of this fraction of the short side.
_TILE_FRACTIONS = (0.5,)
_TILE_MIN_SIDE = 480  # frames whose short side is below this are not tiled


@dataclass(frozen=True)
class DetectedFace:
    """One face found in a frame.

    landmarks:   (478, 3) float32; x, y in frame pixels, z in the same pixel scale
                 (MediaPipe's normalised z times the width of the image it ran on).
    blendshapes: name -> score in 0..1 (52 ARKit-style names, e.g. "eyeBlinkLeft").
    box:         (x, y, w, h) int pixel box around the landmarks, clipped to the frame.
    """

    landmarks: np.ndarray = field(repr=False)  # face geometry: biometric, never printed
    blendshapes: dict[str, float] = field(repr=False)
    box: tuple[int, int, int, int]

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def _box_of(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    x0 = max(0, int(np.floor(points[:, 0].min())))
    y0 = max(0, int(np.floor(points[:, 1].min())))
    x1 = min(width, int(np.ceil(points[:, 0].max())))
    y1 = min(height, int(np.ceil(points[:, 1].max())))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class FaceLandmarker:
    """Owns a MediaPipe FaceLandmarker. Use as a context manager or call close().

    video=True uses VIDEO mode (tracking; timestamps must strictly increase);
    video=False uses IMAGE mode and, when nothing is found, retries on tiles.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        video: bool,
        max_faces: int = 3,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        tile_fallback: bool = True,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(
                f"Face landmark model not found: {path}",
                hint=Hint.INSTALL_MODELS,
            )
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import face_landmarker as mp_fl
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
            VisionTaskRunningMode,
        )

        options = mp_fl.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=path.read_bytes()),
            running_mode=VisionTaskRunningMode.VIDEO if video else VisionTaskRunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_presence_confidence,
            min_tracking_confidence=0.5,
            output_face_blendshapes=True,
        )
        try:
            with native_stderr_to_log(log):
                self._task: Any = mp_fl.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(
                f"Face landmark model could not be loaded ({path.name}): {exc}",
                hint=Hint.INSTALL_MODELS,
            ) from exc
        self.video = video
        self.max_faces = max_faces
        self.tile_fallback = tile_fallback and not video
        self._last_ts: int | None = None
        self._closed = False
        self._warm = False  # the first inference prints native notes too

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._task.close()

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- detection ---------------------------------------------------------------
    def _run(self, rgb: np.ndarray, timestamp_ms: int) -> list[DetectedFace]:
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        quiet = native_stderr_to_log(log) if not self._warm else contextlib.nullcontext()
        with quiet:
            if self.video:
                ts = int(timestamp_ms)
                if self._last_ts is not None and ts <= self._last_ts:
                    ts = self._last_ts + 1  # VIDEO mode needs strictly increasing timestamps
                self._last_ts = ts
                result = self._task.detect_for_video(image, ts)
            else:
                result = self._task.detect(image)
        self._warm = True
        h, w = rgb.shape[:2]
        faces = []
        for i, lms in enumerate(result.face_landmarks):
            pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lms], dtype=np.float32)
            shapes: dict[str, float] = {}
            if result.face_blendshapes and i < len(result.face_blendshapes):
                shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
            faces.append(DetectedFace(pts, shapes, _box_of(pts, w, h)))
        return faces

    def _tiled(self, rgb: np.ndarray) -> list[DetectedFace]:
        h, w = rgb.shape[:2]
        found: list[DetectedFace] = []
        for frac in _TILE_FRACTIONS:
            side = int(min(h, w) * frac)
            step = side // 2
            for y0 in range(0, max(1, h - side + step), step):
                for x0 in range(0, max(1, w - side + step), step):
                    y0c, x0c = min(y0, h - side), min(x0, w - side)
                    for f in self._run(rgb[y0c : y0c + side, x0c : x0c + side], 0):
                        pts = f.landmarks.copy()
                        pts[:, 0] += x0c
                        pts[:, 1] += y0c
                        face = DetectedFace(pts, f.blendshapes, _box_of(pts, w, h))
                        if all(box_iou(face.box, g.box) < 0.3 for g in found):
                            found.append(face)
            if found:
                break
        return found

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> list[DetectedFace]:
        """Faces in an (H, W, 3) uint8 RGB frame, largest first."""
        if self._closed:
            raise RuntimeError("FaceLandmarker is closed")
        faces = self._run(rgb, timestamp_ms)
        if not faces and self.tile_fallback and min(rgb.shape[:2]) >= _TILE_MIN_SIDE:
            faces = self._tiled(rgb)
            if faces:
                log.debug("tiled retry found %d face(s)", len(faces))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces[: self.max_faces]
