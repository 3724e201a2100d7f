"""ArcFace five-point alignment as small pure functions.

Role: pick the five ArcFace points from MediaPipe's 478 landmarks, fit a least-squares
similarity transform (Umeyama, no reflection) onto the standard 112x112 template, and
warp the frame with it.

May import: numpy; cv2 lazily (only `warp` uses cv2.warpAffine).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ARCFACE_TEMPLATE",
    "ARCFACE_SIZE",
    "five_points",
    "similarity_transform",
    "transform_points",
    "warp",
]

ARCFACE_SIZE = 112

# (5, 2) float32, 112x112 image coordinates: eye on the image left, eye on the image
# right, nose tip, mouth corner on the image left, mouth corner on the image right.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

# MediaPipe face mesh indices. 33/133 are the corners of the subject's right eye, which
# is on the image left in an unmirrored photo; 362/263 the subject's left eye.
_IMAGE_LEFT_EYE = (33, 133)
_IMAGE_RIGHT_EYE = (362, 263)
_NOSE_TIP = 1
_IMAGE_LEFT_MOUTH = 61
_IMAGE_RIGHT_MOUTH = 291


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(478, 2|3) landmarks in pixels -> (5, 2) float32 points in ARCFACE_TEMPLATE order."""
    lm = np.asarray(landmarks, dtype=np.float32)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] < 2:
        raise ValueError(f"expected (478, 2|3) landmarks, got shape {lm.shape}")
    xy = lm[:, :2]
    return np.stack(
        [
            xy[list(_IMAGE_LEFT_EYE)].mean(axis=0),
            xy[list(_IMAGE_RIGHT_EYE)].mean(axis=0),
            xy[_NOSE_TIP],
            xy[_IMAGE_LEFT_MOUTH],
            xy[_IMAGE_RIGHT_MOUTH],
        ]
    ).astype(np.float32)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst.

    src, dst: (N, 2) points, N >= 2. Returns M, a (2, 3) float64 matrix with
    dst ~= M @ [x, y, 1], and the residual: the RMS distance between the mapped src
    points and dst, in dst units (template pixels for alignment). Never a reflection
    (Umeyama 1991 with the determinant correction).
    """
    s = np.asarray(src, dtype=np.float64)
    d = np.asarray(dst, dtype=np.float64)
    if s.shape != d.shape or s.ndim != 2 or s.shape[1] != 2 or s.shape[0] < 2:
        raise ValueError(f"src and dst must both be (N>=2, 2); got {s.shape} and {d.shape}")
    mu_s, mu_d = s.mean(axis=0), d.mean(axis=0)
    sc, dc = s - mu_s, d - mu_d
    var_s = (sc**2).sum() / len(s)
    if var_s <= 1e-12:
        raise ValueError("source points are degenerate (all at one place)")
    cov = dc.T @ sc / len(s)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1.0
    rot = u @ fix @ vt
    scale = float((sig * np.diag(fix)).sum() / var_s)
    m = np.empty((2, 3), dtype=np.float64)
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    mapped = transform_points(m, s)
    residual = float(np.sqrt(((mapped - d) ** 2).sum(axis=1).mean()))
    return m, residual


def transform_points(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine matrix to (N, 2) points; returns (N, 2) float64."""
    p = np.asarray(points, dtype=np.float64)
    out: np.ndarray = p @ m[:, :2].T + m[:, 2]
    return out


def warp(rgb: np.ndarray, m: np.ndarray, size: int = ARCFACE_SIZE) -> np.ndarray:
    """Warp an (H, W, 3) uint8 frame with M into a (size, size, 3) uint8 crop."""
    import cv2

    out = cv2.warpAffine(
        rgb, m.astype(np.float64), (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)
    )
    return np.ascontiguousarray(out)
