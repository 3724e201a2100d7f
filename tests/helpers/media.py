"""Test media made on the fly: videos from photos, EXIF-rotated JPEGs, shared-data lookup.

Used by tests of frame sources, the pipeline and the CLI. Imports numpy and cv2 (tests
only). Never copies photos from the shared data folder into the repository: everything is
written to a temporary path the caller gives.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared test data folder (FACEVAULT_TEST_DATA, else <repo>/../shared/data)."""
    return Path(os.environ.get("FACEVAULT_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_photos(limit: int | None = None) -> list[Path]:
    """Photos under shared data photos/idNN/, sorted; empty list when the data is absent."""
    root = shared_data_dir() / "photos"
    paths = sorted(root.glob("id*/*.jpg"))
    return paths[:limit] if limit is not None else paths


def read_bgr(path: str | Path) -> np.ndarray:
    """Decode a photo to BGR uint8 (handles non-ASCII paths)."""
    import cv2

    img = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode {path}")
    return img


def letterbox(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fit an image into size=(width, height) keeping its aspect ratio, black borders."""
    import cv2

    w, h = size
    scale = min(w / bgr.shape[1], h / bgr.shape[0])
    nw, nh = max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale))
    resized = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y : y + nh, x : x + nw] = resized
    return out


def make_video(
    paths: Sequence[str | Path | np.ndarray],
    out: str | Path,
    *,
    fps: float = 10,
    size: tuple[int, int] = (640, 480),
    frames_per_image: int = 1,
) -> int:
    """Write an MJPG .avi of the given photos (paths, or BGR arrays), each letterboxed into
    `size` and repeated `frames_per_image` times. Returns the number of frames written."""
    import cv2

    out = Path(out)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), size)
    if not writer.isOpened():
        raise RuntimeError(f"VideoWriter cannot write {out}")
    count = 0
    try:
        for item in paths:
            bgr = item if isinstance(item, np.ndarray) else read_bgr(item)
            frame = letterbox(bgr, size)
            for _ in range(frames_per_image):
                writer.write(frame)
                count += 1
    finally:
        writer.release()
    return count


def exif_app1(orientation: int) -> bytes:
    """A minimal APP1 Exif segment holding only IFD0 with the Orientation tag."""
    tiff = b"II*\x00" + struct.pack("<I", 8)  # little-endian header, IFD0 at offset 8
    tiff += struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff += struct.pack("<I", 0)  # no next IFD
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def jpeg_with_orientation(bgr: np.ndarray, orientation: int, quality: int = 95) -> bytes:
    """Encode `bgr` as JPEG and insert an EXIF orientation tag right after SOI.

    The stored pixels are `bgr` as given: a viewer that honours EXIF shows them turned.
    """
    import cv2

    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    data = buf.tobytes()
    return data[:2] + exif_app1(orientation) + data[2:]
