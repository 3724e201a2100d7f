"""What every frame source hands out: `Frame`, the `FrameSource` protocol, and the limits
shared by all sources.

May import: stdlib, numpy, facevault.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from facevault.errors import UsageError

__all__ = ["Frame", "FrameSource", "IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "DEFAULT_MAX_SIDE",
           "CAMERA_SIZE", "CAMERA_OPEN_TIMEOUT_S", "IMAGE_STEP_MS", "CAMERA_HINT", "check_max_side"]

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .png .bmp .dib .tif .tiff .webp .pbm .pgm .ppm .pnm .jp2 .exr .hdr .avif"
    .split()
)
VIDEO_EXTENSIONS = frozenset(".avi .mp4 .mkv .mov .webm .m4v".split())
DEFAULT_MAX_SIDE = 1920
CAMERA_SIZE = (640, 480)
CAMERA_OPEN_TIMEOUT_S = 5.0
IMAGE_STEP_MS = 40  # timestamps for still images: 25 "frames" per second
CAMERA_HINT = "Check that a webcam is connected and not used by another app, or pass a video file."


@dataclass(frozen=True)
class Frame:
    """One picture. `rgb` is (H, W, 3) uint8 RGB, C-contiguous."""

    rgb: np.ndarray = field(repr=False)  # a picture of a face: never in a log
    index: int
    timestamp_ms: int
    origin: str


class FrameSource(Protocol):
    spec: str
    is_stream: bool
    is_live: bool
    skipped: list[tuple[str, str]]

    def __enter__(self) -> FrameSource: ...
    def __exit__(self, *exc: object) -> None: ...
    def __iter__(self) -> Iterator[Frame]: ...
    def describe(self) -> str: ...
    def close(self) -> None: ...



def check_max_side(max_side: int) -> int:
    if not isinstance(max_side, int) or max_side < 16:
        raise UsageError(f"max_side must be an integer >= 16, not {max_side!r}")
    return max_side
