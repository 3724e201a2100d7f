"""Frame sources: a camera, a video file, an image file, a folder of images, or a list of
image files, all behind one iterable of `Frame` (see docs/ARCHITECTURE.md, "Frames").

Every frame comes out as 8-bit RGB, C-contiguous, no larger than `max_side`, upright
(EXIF orientation applied), with a strictly increasing `timestamp_ms` (MediaPipe VIDEO
mode needs that). Failures raise SourceError / CameraError with a plain message and a hint;
in a folder or image list, unreadable items are skipped and listed in `source.skipped`.

Decisions worth knowing:
  - A truncated JPEG (no end-of-image marker after the scan) is rejected, even though the
    decoder would return a half-grey picture: a half-grey face gives a wrong embedding.
  - Transparent pixels are composited on white; 16-bit images are scaled (x / 257).
  - Big JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg when that still leaves at
    least `max_side` pixels, then INTER_AREA-resized: an 8000x6000 photo never occupies
    144 MB.
  - Stream sources (camera, video) can be iterated once; image sources any number of times.

May import: stdlib, numpy, facevault.errors; cv2 only lazily, inside functions.
"""

from __future__ import annotations

import logging
import re
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from facevault.errors import CameraError, SourceError, UsageError

__all__ = [
    "Frame",
    "FrameSource",
    "CameraSource",
    "VideoSource",
    "ImageListSource",
    "open_source",
    "decode_image",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .png .bmp .dib .tif .tiff .webp .pbm .pgm .ppm .pnm .jp2 .exr .hdr .avif"
    .split()
)
VIDEO_EXTENSIONS = frozenset(".avi .mp4 .mkv .mov .webm .m4v".split())
DEFAULT_MAX_SIDE = 1920
CAMERA_SIZE = (640, 480)
CAMERA_OPEN_TIMEOUT_S = 5.0
_IMAGE_STEP_MS = 40  # timestamps for still images: 25 "frames" per second
_CAMERA_HINT = "Check that a webcam is connected and not used by another app, or pass a video file."


@dataclass(frozen=True)
class Frame:
    """One picture. `rgb` is (H, W, 3) uint8 RGB, C-contiguous."""

    rgb: np.ndarray
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


# --------------------------------------------------------------------------- images


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
        self.max_side = _check_max_side(max_side)
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
            yield Frame(rgb=rgb, index=count, timestamp_ms=count * _IMAGE_STEP_MS, origin=str(path))
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


def _check_max_side(max_side: int) -> int:
    if not isinstance(max_side, int) or max_side < 16:
        raise UsageError(f"max_side must be an integer >= 16, not {max_side!r}")
    return max_side


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
        self.max_side = _check_max_side(max_side)
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
        self.max_side = _check_max_side(max_side)
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


# --------------------------------------------------------------------------- open_source

_CAMERA_RE = re.compile(r"camera:(\S*)")


def open_source(spec: str, *, max_side: int = DEFAULT_MAX_SIDE) -> FrameSource:
    """Open `camera:N`, a video file, an image file or a folder of images.

    Cameras and videos are opened (and their first frame read) here, so failures surface
    at once. Close the source with `with` or `.close()`.
    """
    _check_max_side(max_side)
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError("No input given", hint="Pass camera:N, a video, a photo or a folder.")
    match = _CAMERA_RE.fullmatch(spec.strip())
    if match:
        if not match.group(1).isdigit():
            raise UsageError(f"Bad camera spec {spec!r}", hint="Write camera:0 for the first webcam.")
        return CameraSource(int(match.group(1)), max_side=max_side)
    path = Path(spec).expanduser()
    if not path.exists():
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", spec):  # some scheme we do not know
            raise UsageError(
                f"Unknown input {spec!r}", hint="Pass camera:N, a video, a photo or a folder."
            )
        raise SourceError(f"No such file or folder: {spec}", hint="Check the path.")
    if path.is_dir():
        return _folder_source(path, max_side)
    if not path.is_file():
        raise SourceError(f"{spec} is not a regular file or folder", hint="Check the path.")
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return VideoSource(path, max_side=max_side)
    if suffix in IMAGE_EXTENSIONS or _looks_like_image(path):
        return ImageListSource([path], max_side=max_side, spec=str(path), strict=True)
    if path.stat().st_size == 0:
        raise _bad_image("the file is empty", path)
    try:
        return VideoSource(path, max_side=max_side)
    except SourceError:
        raise SourceError(
            f"{spec}: not an image or video FaceVault can read",
            hint="Use a JPEG/PNG photo, an .avi/.mp4 video or a folder of photos.",
        ) from None
