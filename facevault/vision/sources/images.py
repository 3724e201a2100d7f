"""Still images: decoding one file to 8-bit upright RGB (EXIF orientation, grayscale,
RGBA, 16-bit, huge photos decoded at a reduced scale), and sources over a list or a folder.

Decisions worth knowing:
  - A truncated JPEG (no end-of-image marker after the scan) is rejected, even though the
    decoder would return a half-grey picture: a half-grey face gives a wrong embedding.
  - Transparent pixels are composited on white; 16-bit images are scaled (x / 257).
  - Big JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg when that still leaves at
    least `max_side` pixels, then INTER_AREA-resized: an 8000x6000 photo never occupies
    144 MB.

May import: stdlib, numpy, facevault.errors, facevault.vision.sources.frame; cv2 lazily.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facevault.errors import SourceError
from facevault.vision.sources.frame import (
    DEFAULT_MAX_SIDE,
    IMAGE_EXTENSIONS,
    IMAGE_STEP_MS,
    VIDEO_EXTENSIONS,
    Frame,
    check_max_side,
)

__all__ = ["decode_image", "ImageListSource", "folder_source", "looks_like_image", "bad_image",
           "downscale", "to_rgb8"]

def _bad_image(message: str, path: Path | str) -> SourceError:
    return SourceError(f"{path}: {message}", hint="Use a JPEG or PNG photo of a face.")


def _tiff_orientation(tiff: bytes) -> int:
    """The Orientation tag (0x0112) of IFD0 in a TIFF/EXIF block, 1 when absent or odd."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    e = "<" if tiff[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(e + "I", tiff, 4)
    if offset + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(e + "H", tiff, offset)
    for i in range(count):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(tiff):
            break
        tag, kind, _n = struct.unpack_from(e + "HHI", tiff, pos)
        if tag == 0x0112 and kind == 3:
            (value,) = struct.unpack_from(e + "H", tiff, pos + 8)
            return value if 1 <= value <= 8 else 1
    return 1


@dataclass(frozen=True)
class _JpegInfo:
    width: int
    height: int
    components: int
    precision: int
    orientation: int
    complete: bool  # an end-of-image marker follows the first scan


def _jpeg_info(data: bytes) -> _JpegInfo | None:
    """Walk the JPEG marker segments up to the first scan. None when not a JPEG."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos, size, orientation = 2, None, 1
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            orientation = _tiff_orientation(body[6:])
        elif marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if len(body) >= 6:
                precision, height, width, comps = struct.unpack_from(">BHHB", body, 0)
                size = (width, height, comps, precision)
        elif marker == 0xDA:
            if size is None:
                return None
            complete = data.find(b"\xff\xd9", pos + 2 + length) >= 0
            return _JpegInfo(size[0], size[1], size[2], size[3], orientation, complete)
        pos += 2 + length
    if size is None:
        return None
    return _JpegInfo(size[0], size[1], size[2], size[3], orientation, False)


def _png_orientation(data: bytes) -> int:
    """The orientation in a PNG eXIf chunk (before the image data), 1 when absent."""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"eXIf":
            return _tiff_orientation(data[pos + 8 : pos + 8 + length])
        if kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    return 1


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a stored picture upright according to its EXIF orientation (1..8)."""
    import cv2

    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(img), -1)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


def _downscale(img: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _to_rgb8(img: np.ndarray) -> np.ndarray:
    """Any decoded OpenCV picture (BGR/BGRA/gray, 8/16-bit or float) -> (H, W, 3) uint8 RGB."""
    import cv2

    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = (np.clip(np.nan_to_num(img), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f"unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2RGB))
    if channels == 2:  # gray + alpha
        img = np.dstack([img[:, :, 0], img[:, :, 0], img[:, :, 0], img[:, :, 1]])
        channels = 4
    if channels == 4:
        alpha = img[:, :, 3:4].astype(np.uint16)
        colour = img[:, :, :3].astype(np.uint16)
        img = ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    elif channels != 3:
        raise ValueError(f"unsupported channel count {channels}")
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def decode_image(path: str | Path, *, max_side: int = DEFAULT_MAX_SIDE) -> np.ndarray:
    """Read one image file into an upright (H, W, 3) uint8 RGB array no larger than max_side.

    Raises SourceError with a plain message for missing, empty, truncated, corrupt or
    non-image files.
    """
    import cv2

    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise SourceError(f"No such file or folder: {path}", hint="Check the path.") from None
    except OSError as exc:
        raise _bad_image(f"cannot be read ({exc.strerror or exc})", path) from None
    if data.size == 0:
        raise _bad_image("the file is empty", path)
    head = data[:65536].tobytes()
    jpeg = _jpeg_info(data.tobytes()) if head[:2] == b"\xff\xd8" else None
    orientation = 1
    flags = cv2.IMREAD_UNCHANGED
    if jpeg is not None:
        if not jpeg.complete:
            raise _bad_image("the JPEG file is truncated (no end-of-image marker)", path)
        orientation = jpeg.orientation
        longest = max(jpeg.width, jpeg.height)
        if jpeg.precision == 8 and jpeg.components in (1, 3):
            for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8),
                                    (4, cv2.IMREAD_REDUCED_COLOR_4),
                                    (2, cv2.IMREAD_REDUCED_COLOR_2)):
                if longest // factor >= max_side:
                    flags = reduced | cv2.IMREAD_IGNORE_ORIENTATION
                    break
    elif head[:8] == b"\x89PNG\r\n\x1a\n":
        orientation = _png_orientation(head)
    try:
        img = cv2.imdecode(data, flags)
    except cv2.error:
        img = None
    if img is None or img.size == 0:
        raise _bad_image("not an image, or the image data is corrupt", path)
    del data
    try:
        rgb = _to_rgb8(_downscale(img, max_side))
    except ValueError as exc:
        raise _bad_image(str(exc), path) from None
    return np.ascontiguousarray(_apply_orientation(rgb, orientation))


_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"BM", b"II*\x00", b"MM\x00*", b"GIF8",
          b"\x00\x00\x00\x0cjP  ", b"v/1\x01", b"#?RADIANCE", b"#?RGBE")


def _looks_like_image(path: Path) -> bool:
    """Cheap check of the first bytes, so big non-image files are never read whole."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return True
    return len(head) >= 2 and head[0:1] == b"P" and head[1:2] in b"123456"


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.casefold())]


class ImageListSource:
    """Still images from a list of files (a folder, one photo, or a benchmark list).

    With `strict=True` (a single photo) a bad file raises SourceError; otherwise it is
    skipped and recorded in `skipped` as (origin, reason). When nothing at all could be
    read, iteration ends with SourceError.
    """

    is_stream = False
    is_live = False

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        spec: str | None = None,
        strict: bool = False,
        skipped: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.max_side = check_max_side(max_side)
        self.spec = spec if spec is not None else f"{len(self.paths)} images"
        self.strict = strict
        self._pre_skipped = list(skipped)
        self.skipped: list[tuple[str, str]] = list(skipped)
        if not self.paths:
            raise SourceError(f"No images to read in {self.spec}", hint="Add JPEG or PNG photos.")

    def describe(self) -> str:
        if len(self.paths) == 1 and self.strict:
            return f"photo {self.paths[0]}"
        return f"{len(self.paths)} images from {self.spec}"

    def __enter__(self) -> ImageListSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def __iter__(self) -> Iterator[Frame]:
        self.skipped = list(self._pre_skipped)
        count = 0
        for path in self.paths:
            try:
                rgb = decode_image(path, max_side=self.max_side)
            except SourceError as exc:
                if self.strict:
                    raise
                reason = str(exc).removeprefix(f"{path}: ")
                self.skipped.append((str(path), reason))
                continue
            yield Frame(rgb=rgb, index=count, timestamp_ms=count * IMAGE_STEP_MS, origin=str(path))
            count += 1
        if count == 0:
            reasons = "; ".join(f"{Path(o).name}: {r}" for o, r in self.skipped[:3])
            raise SourceError(
                f"No readable image in {self.spec} ({reasons})",
                hint="Use JPEG or PNG photos of a face.",
            )


def _folder_source(folder: Path, max_side: int) -> ImageListSource:
    entries = sorted(folder.iterdir(), key=lambda p: _natural_key(p.name))
    paths: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for entry in entries:
        if entry.is_dir():
            skipped.append((str(entry), "a folder (sub-folders are not searched)"))
        elif entry.suffix.lower() in VIDEO_EXTENSIONS:
            skipped.append((str(entry), "a video (open it on its own)"))
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            paths.append(entry)
        else:
            try:
                is_image = entry.is_file() and _looks_like_image(entry)
            except OSError as exc:
                skipped.append((str(entry), f"cannot be read ({exc.strerror or exc})"))
                continue
            if is_image:
                paths.append(entry)
            else:
                skipped.append((str(entry), "not an image file"))
    if not paths:
        what = "is empty" if not entries else "holds no image files"
        raise SourceError(f"The folder {folder} {what}", hint="Choose a folder with JPEG or PNG photos.")
    return ImageListSource(paths, max_side=max_side, spec=str(folder), skipped=skipped)


folder_source = _folder_source
looks_like_image = _looks_like_image
bad_image = _bad_image
downscale = _downscale
to_rgb8 = _to_rgb8
