"""A first photo cloak (issue 16, not finished): an identity mask crafted in the aligned
112x112 face and drawn back into the photo.

Role: for one face of a photo, given its 478 landmarks, find a perturbation of the aligned
crop that turns the face model's embedding away from the face's own (untargeted MI-FGSM:
momentum on L1-normalised gradients, signed steps, an L-inf box of `eps` grey levels in the
crop), under input diversity (a random small rotation, scale and shift of the crop per
step, so the mask does not rely on one exact alignment), limited to a feathered ellipse
over the face. The perturbation is warped back into the photo with the inverse of the
alignment, so on a face larger than 112 px it is a smooth, upsampled mask. Gradients come
from vision.backward (the model's backward pass as an ONNX graph, no torch).

What is measured (LFW DevTest same-person pairs, 250 px photos, re-detected after the
cloak, one run): see docs/CLOAK.md. Not done yet: the CLI, the GUI dialog, the benchmark
command, a perceptual budget, targeted (TIP-IM) mode and an ensemble of surrogates.

May import: stdlib, numpy, cv2, facevault.vision.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from facevault.vision.align import ARCFACE_SIZE, ARCFACE_TEMPLATE, five_points, similarity_transform
from facevault.vision.backward import CosineGradient

__all__ = ["CloakSettings", "face_mask", "draw_into", "cloak_face"]


@dataclass(frozen=True)
class CloakSettings:
    eps: float = 6.0  # the largest change of a crop pixel, in grey levels (0..255)
    iterations: int = 40
    diversity: bool = True
    seed: int | None = None  # None: a fresh random jitter sequence


@functools.lru_cache(maxsize=1)
def face_mask() -> np.ndarray:
    """(112, 112, 1) float32 in 0..1, read-only: a feathered ellipse over the aligned face."""
    yy, xx = np.mgrid[0:ARCFACE_SIZE, 0:ARCFACE_SIZE].astype(np.float32)
    r = ((xx - 56.0) / 50.0) ** 2 + ((yy - 62.0) / 58.0) ** 2
    mask: np.ndarray = np.clip((1.15 - r) / 0.3, 0.0, 1.0)[..., None].astype(np.float32)
    mask.setflags(write=False)
    return mask


def draw_into(shape: tuple[int, ...], delta: np.ndarray, m: np.ndarray) -> np.ndarray:
    """A crop-space change `delta` ((112, 112, 3), masked by `face_mask`) as a float32 change
    of a photo of `shape`, through the inverse of the alignment `m` (photo -> crop)."""
    import cv2

    out: np.ndarray = cv2.warpAffine(delta * face_mask(), m, (shape[1], shape[0]),
                                     flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return out


def _jitter(rng: np.random.Generator) -> np.ndarray:
    import cv2

    angle, scale = rng.uniform(-4.0, 4.0), rng.uniform(0.95, 1.05)
    j: np.ndarray = np.asarray(cv2.getRotationMatrix2D((ARCFACE_SIZE / 2, ARCFACE_SIZE / 2), angle, scale),
                               dtype=np.float64)
    j[:, 2] = j[:, 2] + rng.uniform(-3.0, 3.0, 2)
    return j


def cloak_face(rgb: np.ndarray, landmarks: np.ndarray, reference: np.ndarray,
               grad: CosineGradient, settings: CloakSettings = CloakSettings()) -> Iterator[float]:
    """Cloak one face of `rgb` ((H, W, 3) uint8, changed in place at the end) away from the
    unit embedding `reference` (the face's own). Yields the progress 0..1 after each step."""
    import cv2

    m, _residual = similarity_transform(five_points(landmarks), ARCFACE_TEMPLATE)
    mask = face_mask()
    image = rgb.astype(np.float32)
    delta = np.zeros((ARCFACE_SIZE, ARCFACE_SIZE, 3), np.float32)
    momentum = np.zeros_like(delta)
    step = 2.0 * settings.eps / 10.0
    rng = np.random.default_rng(settings.seed)
    ident = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for k in range(settings.iterations):
        j = _jitter(rng) if settings.diversity else ident
        mk = (np.vstack([j, [0.0, 0.0, 1.0]]) @ full)[:2]
        crop = cv2.warpAffine(np.clip(image + draw_into(rgb.shape, delta, m), 0, 255), mk, (ARCFACE_SIZE, ARCFACE_SIZE),
                              flags=cv2.INTER_LINEAR)
        _cos, g = grad(crop, reference)
        g = cv2.warpAffine(g, j, (ARCFACE_SIZE, ARCFACE_SIZE), flags=inverse) * mask
        momentum += g / (float(np.abs(g).mean()) + 1e-12)
        delta = np.clip(delta - step * np.sign(momentum), -settings.eps, settings.eps)
        yield (k + 1) / settings.iterations
    rgb[...] = np.clip(np.round(image + draw_into(rgb.shape, delta, m)), 0, 255).astype(np.uint8)
