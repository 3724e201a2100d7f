"""Image operations on numpy arrays for the parts of FaceVault that change pictures rather
than read faces from them (the benchmarks' synthetic attacks, JPEG round trips), so that
vision stays the only package that touches OpenCV.

Images are (H, W) or (H, W, C) arrays, uint8 or float32; sizes are (width, height) as in
OpenCV; `interp` is one of "nearest", "linear", "cubic", "area".

May import: stdlib, numpy; cv2 lazily, inside functions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resize", "gaussian_blur", "perspective_matrix", "warp_perspective", "fill_ellipse",
           "jpeg_round_trip"]


def _flag(interp: str) -> int:
    import cv2

    flags = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
             "area": cv2.INTER_AREA}
    try:
        return int(flags[interp])
    except KeyError:
        raise ValueError(f"unknown interpolation {interp!r}") from None


def resize(img: np.ndarray, size: tuple[int, int], interp: str = "linear") -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.resize(img, (int(size[0]), int(size[1])), interpolation=_flag(interp)))


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return np.asarray(cv2.GaussianBlur(img, (0, 0), float(sigma)))


def perspective_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(3, 3) homography taking the 4 points `src` to `dst` ((4, 2) float32 each)."""
    import cv2

    return np.asarray(cv2.getPerspectiveTransform(np.asarray(src, np.float32), np.asarray(dst, np.float32)))


def warp_perspective(img: np.ndarray, m: np.ndarray, size: tuple[int, int], interp: str = "linear",
                     border: float | tuple[float, ...] = 0.0) -> np.ndarray:
    import cv2

    value = border if isinstance(border, tuple) else (border,) * 4
    return np.asarray(cv2.warpPerspective(img, m, (int(size[0]), int(size[1])), flags=_flag(interp),
                                          borderValue=value))


def fill_ellipse(img: np.ndarray, centre: tuple[float, float], axes: tuple[float, float],
                 angle_deg: float, value: float) -> np.ndarray:
    """Draw a filled ellipse (full axes lengths) into `img` in place and return it."""
    import cv2

    cv2.ellipse(img, (centre, axes, float(angle_deg)), value, -1)
    return img


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode an RGB uint8 image as JPEG at `quality` and decode it again."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise RuntimeError("JPEG round trip failed")
    return np.ascontiguousarray(decoded[..., ::-1])
