"""Streams: a camera (`camera:N`) or a video file through OpenCV, iterated once, frames
converted to RGB with strictly increasing timestamps (MediaPipe VIDEO mode needs that).
A missing camera, or one lost mid-stream, raises CameraError and never hangs.

May import: stdlib, numpy, facevault.errors, facevault.vision.sources.frame; cv2 lazily.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from facevault.errors import CameraError, SourceError, UsageError
from facevault.vision.sources.frame import (
    CAMERA_HINT as _CAMERA_HINT,
    CAMERA_OPEN_TIMEOUT_S,
    CAMERA_SIZE,
    DEFAULT_MAX_SIDE,
    Frame,
    check_max_side,
)

from facevault.vision.sources.images import downscale as _downscale, to_rgb8 as _to_rgb8

__all__ = ["CaptureFactory", "VideoSource", "CameraSource"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- captures

CaptureFactory = Callable[[int | str, int], Any]


def _default_capture_factory(target: int | str, api: int) -> Any:
    import cv2

    # OpenCV's own "[ WARN ] can't open camera by index" lines would bury our message;
    # a failure to open is reported as CameraError/SourceError instead.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2.VideoCapture(target, api)


class _CaptureStream:
    """Shared iteration for OpenCV captures: single pass, RGB conversion, timestamps."""

    is_stream = True
    is_live = False
    spec: str
    max_side: int
    skipped: list[tuple[str, str]]

    def __init__(self) -> None:
        self._cap: Any = None
        self._first: np.ndarray | None = None
        self._iterated = False
        self.skipped = []

    def __enter__(self) -> _CaptureStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def _convert(self, frame: np.ndarray) -> np.ndarray:
        return _to_rgb8(_downscale(frame, self.max_side))

    def _read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        return frame if ok and frame is not None and frame.size else None

    def _timestamp(self, index: int) -> float | None:
        return None

    def _lost(self, index: int) -> Iterator[Frame]:
        return iter(())

    def _origin(self, index: int) -> str:
        return self.spec

    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            raise UsageError(f"{self.describe()} can be read only once; open it again.")
        if self._cap is None:
            raise SourceError(f"{self.describe()} is closed")
        self._iterated = True
        index, last_ts = 0, -1
        frame, self._first = self._first, None
        while True:
            if frame is None:
                frame = self._read()
                if frame is None:
                    yield from self._lost(index)
                    return
            stamp = self._timestamp(index)
            ts = max(last_ts + 1, int(round(stamp)) if stamp is not None else last_ts + 1)
            last_ts = ts
            yield Frame(rgb=self._convert(frame), index=index, timestamp_ms=ts, origin=self._origin(index))
            index += 1
            frame = None

    def describe(self) -> str:
        return self.spec


class VideoSource(_CaptureStream):
    """Frames of a video file. Ends at the end of the file; no frame at all -> SourceError."""

    def __init__(self, path: str | Path, *, max_side: int = DEFAULT_MAX_SIDE,
                 _capture_factory: CaptureFactory | None = None) -> None:
        super().__init__()
        import cv2

        self.path = Path(path)
        self.spec = str(path)
        self.max_side = check_max_side(max_side)
        factory = _capture_factory or _default_capture_factory
        self._cap = factory(str(self.path), cv2.CAP_ANY)
        hint = "Use an .avi/.mp4 video that plays in a media player, or a folder of photos."
        if not self._cap.isOpened():
            self.close()
            raise SourceError(f"{self.path}: cannot be opened as a video", hint=hint)
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.5 < fps < 1000 else 30.0
        self._first = self._read()
        if self._first is None:
            self.close()
            raise SourceError(f"{self.path}: the video holds no readable frame", hint=hint)

    def _timestamp(self, index: int) -> float | None:
        import cv2

        pos = float(self._cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0) if index else 0.0
        return pos if pos > 0 else index * 1000.0 / self.fps

    def _origin(self, index: int) -> str:
        return f"{self.spec}#{index}"

    def describe(self) -> str:
        return f"video {self.path}"


class CameraSource(_CaptureStream):
    """A live webcam. Opening fails fast (CameraError) when there is no camera or it
    delivers nothing within `open_timeout_s`; losing it mid-stream raises CameraError."""

    is_live = True

    def __init__(
        self,
        index: int,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        size: tuple[int, int] = CAMERA_SIZE,
        open_timeout_s: float = CAMERA_OPEN_TIMEOUT_S,
        _capture_factory: CaptureFactory | None = None,
    ) -> None:
        super().__init__()
        self.index = index
        self.spec = f"camera:{index}"
        self.max_side = check_max_side(max_side)
        self._t0 = 0.0
        factory = _capture_factory or _default_capture_factory
        result: dict[str, Any] = {}
        abandoned = threading.Event()

        def opener() -> None:  # runs in a thread: VideoCapture and the first read may block
            cap = None
            try:
                import cv2

                api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
                cap = factory(index, api)
                if cap.isOpened():
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
                    ok, frame = cap.read()
                    result["frame"] = frame if ok and frame is not None and frame.size else None
            except Exception as exc:  # reported to the caller below
                result["error"] = exc
            finally:
                result["cap"] = cap
                if abandoned.is_set() and cap is not None:
                    cap.release()

        thread = threading.Thread(target=opener, name=f"open-camera-{index}", daemon=True)
        thread.start()
        thread.join(open_timeout_s)
        if thread.is_alive():
            abandoned.set()
            raise CameraError(
                f"Camera {index} did not deliver a frame within {open_timeout_s:g} s",
                hint=_CAMERA_HINT,
            )
        self._cap = result.get("cap")
        if "error" in result:
            self.close()
            raise CameraError(f"Camera {index} could not be opened: {result['error']}", hint=_CAMERA_HINT)
        if "frame" not in result:
            self.close()
            raise CameraError(f"No camera at index {index} (it could not be opened)", hint=_CAMERA_HINT)
        if result["frame"] is None:
            self.close()
            raise CameraError(f"No camera at index {index} delivers frames", hint=_CAMERA_HINT)
        self._first = result["frame"]
        self._t0 = time.monotonic()

    def _timestamp(self, index: int) -> float | None:
        return (time.monotonic() - self._t0) * 1000.0

    def _lost(self, index: int) -> Iterator[Frame]:
        raise CameraError(
            f"camera stopped delivering frames (camera {self.index}, after {index} frames)",
            hint="Check the cable, or close other apps that use the camera, then try again.",
        )

    def describe(self) -> str:
        return f"camera {self.index}"


