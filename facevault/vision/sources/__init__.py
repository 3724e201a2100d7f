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

    frame.py    Frame, the FrameSource protocol, shared limits
    images.py   decoding photos; a list or a folder of them
    streams.py  a camera or a video through OpenCV

May import: stdlib, numpy, facevault.errors; cv2 only lazily, inside functions.
"""

from __future__ import annotations

import re
from pathlib import Path

from facevault.errors import SourceError, UsageError
from facevault.vision.sources.frame import (
    DEFAULT_MAX_SIDE,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    Frame,
    FrameSource,
    check_max_side,
)
from facevault.vision.sources.images import (
    ImageListSource,
    bad_image as _bad_image,
    decode_image,
    folder_source as _folder_source,
    looks_like_image as _looks_like_image,
)
from facevault.vision.sources.streams import CameraSource, VideoSource

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


_CAMERA_RE = re.compile(r"camera:(\S*)")


def open_source(spec: str, *, max_side: int = DEFAULT_MAX_SIDE) -> FrameSource:
    """Open `camera:N`, a video file, an image file or a folder of images.

    Cameras and videos are opened (and their first frame read) here, so failures surface
    at once. Close the source with `with` or `.close()`.
    """
    check_max_side(max_side)
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

