"""The photo cloak (issue 16): an identity mask crafted in the aligned 112x112 face and
drawn back into the photo.

Role: for one face of a photo, given its 478 landmarks, find a perturbation of the aligned
crop that turns the face model's embedding away from the face's own (untargeted MI-FGSM:
momentum on L1-normalised gradients, signed steps), or also toward a stand-in identity
(TIP-IM's targeted mode), under input diversity (a random small rotation, scale and shift
of the crop per step), inside a per-pixel budget that follows local contrast
(texture_budget), made in brightness more than in colour (YCbCr, `chroma`), as a slightly
blurred field (`blur`), limited to the face's own outline (oval_mask) or a feathered
ellipse (face_mask).
The perturbation is warped back into the photo with the inverse of the alignment, so on a
face larger than 112 px it is a smooth, upsampled mask. Further face models (`Surrogate`,
an ensemble) each see the face through their own crop and add their normalised gradient.
Gradients come from vision.backward (each model's backward pass as an ONNX graph, no
torch). `STRENGTHS` are the settings the CLI and GUI offer; docs/CLOAK.md has what they measured and how they were chosen.

Also here: finding faces in a photo of any size (`find_faces`) and writing pixels-only
PNG/JPEG bytes (`encode_image`), for services.cloak.

May import: stdlib, numpy, cv2, facevault.vision.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from facevault.vision.align import ARCFACE_SIZE, ARCFACE_TEMPLATE, five_points, similarity_transform
from facevault.vision.backward import CosineGradient

if TYPE_CHECKING:
    from facevault.vision.landmarks import DetectedFace, FaceLandmarker

__all__ = ["CloakSettings", "STRENGTHS", "face_mask", "oval_mask", "FACE_OVAL", "draw_into", "face_region",
           "cloak_face", "encode_image", "OUTPUT_FORMATS", "find_faces", "aligned_crop", "other_alignment",
           "decode_encoded", "texture_budget", "Surrogate", "crop_template"]


@dataclass(frozen=True)
class CloakSettings:
    eps: float = 6.0  # the largest change of a crop pixel, in grey levels (0..255)
    iterations: int = 40
    diversity: bool = True
    seed: int | None = None  # None: a fresh random jitter sequence
    texture: bool = False  # a per-pixel budget that follows the local contrast (see texture_budget)
    texture_ref: float = 0.0  # > 0: contrast that gets `eps` on every face (0: each face's median)
    texture_range: tuple[float, float] = (0.5, 2.0)  # the budget's factors are clipped to this
    blur: float = 0.0  # > 0: the change itself is a Gaussian-blurred field of this sigma (crop pixels)
    chroma: float | None = None  # None: R, G and B each get the budget; a number: the change is
    # made in YCbCr, brightness gets the budget and the two colour components `chroma` times it
    region: Literal["ellipse", "oval"] = "ellipse"  # where the change may go: "ellipse" (face_mask)
    # or "oval" (oval_mask); anything else is refused when the cloak starts
    rotate: float = 4.0  # input diversity: the largest rotation, degrees
    scale: float = 0.05  # input diversity: the largest relative change of size
    shift: float = 3.0  # input diversity: the largest shift, crop pixels


# The strengths the CLI and GUI offer (docs/CLOAK.md has what each measured and how they
# were chosen): a brightness-led, slightly blurred change inside the face's outline, with a
# budget that follows local contrast. Against the RGB-box, blurred-gradient settings before
# them, on LFW DevTrain judged by a third face model, they turn it away as often or more
# with less visible change (FLIP 0.092 -> 0.067, no colour speckles, no streaks in the
# hair) and 48 steps instead of 60.
_PERCEPTUAL = CloakSettings(texture=True, texture_ref=12.6, blur=0.6, chroma=0.25, region="oval", iterations=48)
STRENGTHS: dict[str, CloakSettings] = {
    "low": replace(_PERCEPTUAL, eps=5.2),
    "default": replace(_PERCEPTUAL, eps=7.5),
    "high": replace(_PERCEPTUAL, eps=10.4),
}

# Output formats by file suffix: pixels only (no EXIF, no thumbnail, no ICC profile, no XMP).
OUTPUT_FORMATS = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg"}
JPEG_QUALITY = 95


@functools.lru_cache(maxsize=1)
def face_mask() -> np.ndarray:
    """(112, 112, 1) float32 in 0..1, read-only: a feathered ellipse over the aligned face."""
    yy, xx = np.mgrid[0:ARCFACE_SIZE, 0:ARCFACE_SIZE].astype(np.float32)
    r = ((xx - 56.0) / 50.0) ** 2 + ((yy - 62.0) / 58.0) ** 2
    mask: np.ndarray = np.clip((1.15 - r) / 0.3, 0.0, 1.0)[..., None].astype(np.float32)
    mask.setflags(write=False)
    return mask


# MediaPipe's face-oval landmarks (its FACEMESH_FACE_OVAL contour, in order)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)


def oval_mask(landmarks: np.ndarray, m: np.ndarray, grow: float = 1.08, feather: float = 4.0) -> np.ndarray:
    """(112, 112, 1) float32 in 0..1: the face's own outline (MediaPipe's face oval, taken
    into the crop by `m` and grown by `grow` about its centre), feathered over `feather`
    crop pixels, inside face_mask. Hair, ears and background stay out, where a change shows
    as streaks on large faces. A degenerate outline gives face_mask."""
    import cv2

    pts = np.asarray(landmarks, np.float64)[list(FACE_OVAL), :2] @ m[:, :2].T + m[:, 2]
    centre = pts.mean(axis=0)
    pts = (pts - centre) * grow + centre
    canvas: np.ndarray = np.zeros((ARCFACE_SIZE, ARCFACE_SIZE), np.float32)
    cv2.fillPoly(canvas, [np.round(pts * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    if canvas.sum() < 0.25 * ARCFACE_SIZE * ARCFACE_SIZE:  # not a face outline (e.g. no landmarks)
        return face_mask()
    canvas = cv2.GaussianBlur(canvas, (0, 0), feather / 2)
    out: np.ndarray = (canvas[..., None] * face_mask()).astype(np.float32)
    return out


def draw_into(shape: tuple[int, ...], delta: np.ndarray, m: np.ndarray,
              mask: np.ndarray | None = None) -> np.ndarray:
    """A crop-space change `delta` ((112, 112, 3), masked by `mask`, face_mask by default) as
    a float32 change of a photo of `shape`, through the inverse of the alignment `m` (photo -> crop)."""
    import cv2

    out: np.ndarray = cv2.warpAffine(delta * (face_mask() if mask is None else mask), m, (shape[1], shape[0]),
                                     flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return out


def face_region(shape: tuple[int, ...], m: np.ndarray, margin: float = 12.0) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the part of a photo of `shape` that the aligned crop of `m` (photo ->
    crop) and its jittered copies read from, clipped to the photo."""
    a = np.vstack([m, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(a)[:2]
    lo, hi = -margin, ARCFACE_SIZE + margin
    corners = np.array([[lo, lo], [hi, lo], [lo, hi], [hi, hi]])
    pts = corners @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 2
    h, w = shape[:2]
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))


def find_faces(landmarker: FaceLandmarker, rgb: np.ndarray, max_side: int = 1920) -> list[DetectedFace]:
    """The faces of a photo of any size, largest first: detected on a copy no larger than
    `max_side`, landmarks scaled back to the photo's pixels."""
    from facevault.vision.imaging import resize
    from facevault.vision.landmarks import DetectedFace

    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = rgb if scale == 1.0 else resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), "area")
    faces = landmarker.detect(small)
    if scale == 1.0:
        return faces
    out = []
    for f in faces:
        pts = f.landmarks / np.float32(scale)
        x, y, bw, bh = f.box
        box = (int(x / scale), int(y / scale), int(round(bw / scale)), int(round(bh / scale)))
        out.append(DetectedFace(pts.astype(np.float32), f.blendshapes, box))
    return out


def other_alignment(zoom: float = 0.85, shift: tuple[float, float] = (0.0, 4.0)) -> np.ndarray:
    """The ArcFace template zoomed about the crop's centre and shifted: how another
    system's aligner might crop the same face (a benchmark view the cloak is not made for)."""
    centre = np.array([ARCFACE_SIZE / 2, ARCFACE_SIZE / 2], np.float32)
    out: np.ndarray = ((ARCFACE_TEMPLATE - centre) * zoom + centre + np.asarray(shift, np.float32)).astype(np.float32)
    return out


def aligned_crop(rgb: np.ndarray, landmarks: np.ndarray, template: np.ndarray | None = None) -> np.ndarray:
    """The 112x112 ArcFace crop of the face with these landmarks (as the pipeline aligns it,
    or to another `template`)."""
    from facevault.vision.align import warp

    m, _residual = similarity_transform(five_points(landmarks), ARCFACE_TEMPLATE if template is None else template)
    return warp(rgb, m)


def encode_image(rgb: np.ndarray, suffix: str) -> bytes:
    """(H, W, 3) uint8 RGB as the bytes of a PNG or JPEG file that holds the pixels only."""
    import cv2

    kind = OUTPUT_FORMATS.get(suffix.lower())
    if kind is None:
        raise ValueError(f"unsupported output format {suffix!r} (use .png or .jpg)")
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if kind == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buf = cv2.imencode(kind, np.ascontiguousarray(rgb[..., ::-1]), params)
    if not ok:
        raise RuntimeError(f"encoding the {kind} image failed")
    return bytes(buf.tobytes())


def decode_encoded(data: bytes) -> np.ndarray:
    """The RGB pixels of the bytes `encode_image` made (what a reader of the file sees)."""
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError("the encoded image does not decode")
    return np.ascontiguousarray(img[..., ::-1])


def texture_budget(crop: np.ndarray, ref: float = 0.0,
                   clip: tuple[float, float] = (0.5, 2.0)) -> np.ndarray:
    """(112, 112, 1) float32 factors for the per-pixel budget: the local contrast of the
    crop's luma (Gaussian sigma 2), sqrt(var + C2/2) with SSIM's C2, over `ref` (0: its
    median on this face), clipped to `clip`. SSIM's structure term loses about as much for a change of
    that size anywhere, and a change hides better in texture (hair, brows, edges) than on
    smooth skin."""
    import cv2

    y = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    mean = cv2.GaussianBlur(y, (0, 0), 2.0)
    var = np.maximum(cv2.GaussianBlur(y * y, (0, 0), 2.0) - mean * mean, 0.0)
    contrast = np.sqrt(var + 0.5 * (0.03 * 255) ** 2)
    if ref <= 0.0:
        ref = float(np.median(contrast[face_mask()[..., 0] > 0.5]))
    out: np.ndarray = np.clip(contrast / ref, clip[0], clip[1])[..., None].astype(np.float32)
    return out


# YCbCr (ITU-R BT.601, full range) components to R, G, B: rgb = ycc @ _YCC_TO_RGB
_YCC_TO_RGB = np.linalg.inv(np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5],
                                      [0.5, -0.418688, -0.081312]])).T.astype(np.float32)


def _jitter(rng: np.random.Generator, settings: CloakSettings) -> np.ndarray:
    import cv2

    angle = rng.uniform(-settings.rotate, settings.rotate)
    scale = rng.uniform(1.0 - settings.scale, 1.0 + settings.scale)
    j: np.ndarray = np.asarray(cv2.getRotationMatrix2D((ARCFACE_SIZE / 2, ARCFACE_SIZE / 2), angle, scale),
                               dtype=np.float64)
    j[:, 2] = j[:, 2] + rng.uniform(-settings.shift, settings.shift, 2)
    return j


@dataclass(frozen=True)
class Surrogate:
    """A further identity model the cloak crafts against (an ensemble member): its gradient,
    and the five-point template of its own crop (`gradient.input_size` pixels square)."""

    gradient: CosineGradient
    template: np.ndarray


def crop_template(size: int, zoom: float) -> np.ndarray:
    """The ArcFace template for a `size`-pixel crop that shows 1/zoom times as much around
    the face (zoom < 1: a looser crop, as models trained on wider face boxes want)."""
    centre = ARCFACE_SIZE / 2
    out: np.ndarray = ((ARCFACE_TEMPLATE - centre) * zoom * size / ARCFACE_SIZE + size / 2).astype(np.float32)
    return out


def cloak_face(rgb: np.ndarray, landmarks: np.ndarray, reference: np.ndarray,
               grad: CosineGradient, settings: CloakSettings = CloakSettings(),
               toward: np.ndarray | None = None, others: tuple[Surrogate, ...] = ()) -> Iterator[float]:
    """Cloak one face of `rgb` ((H, W, 3) uint8, changed in place at the end) away from the
    unit embedding `reference` (the face's own). Yields the progress 0..1 after each step.

    `toward` (a unit embedding of a stand-in identity, TIP-IM's targeted mode): the face is
    also pulled toward it (the objective is cos(face, reference) - cos(face, toward)).

    `others`: further models crafted against at once (an ensemble); each sees the face
    through its own crop, is turned away from its own embedding of the uncloaked face, and
    adds its L1-normalised gradient to the momentum (each model counts the same).

    Only the part of the photo around the face is read and changed (face_region), so the
    cost does not grow with the photo's size."""
    import cv2

    m, _residual = similarity_transform(five_points(landmarks), ARCFACE_TEMPLATE)
    x0, y0, x1, y1 = face_region(rgb.shape, m)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    part = rgb[y0:y1, x0:x1]  # a view: the result is written back into `rgb`
    m = m.copy()
    m[:, 2] = m[:, 2] + m[:, :2] @ np.array([x0, y0], np.float64)
    if settings.region == "oval":  # the landmarks in the part's coordinates, as `m` now takes them
        mask = oval_mask(np.asarray(landmarks, np.float64)[:, :2] - np.array([x0, y0], np.float64), m)
    elif settings.region == "ellipse":
        mask = face_mask()
    else:
        raise ValueError(f"unknown cloak region {settings.region!r}")
    image = part.astype(np.float32)
    limit: np.ndarray | float = settings.eps
    if settings.texture:
        limit = settings.eps * texture_budget(cv2.warpAffine(part, m, (ARCFACE_SIZE, ARCFACE_SIZE),
                                                             flags=cv2.INTER_LINEAR), settings.texture_ref,
                                             settings.texture_range)
    # what is optimised: the change in R, G, B, or (chroma given) in Y, Cb, Cr, each inside
    # its own box; `basis` turns it into R, G, B (rows: components)
    if settings.chroma is None:
        basis = np.eye(3, dtype=np.float32)
        box = np.broadcast_to(np.asarray(limit, np.float32), (ARCFACE_SIZE, ARCFACE_SIZE, 3))
    else:
        basis = _YCC_TO_RGB
        factors = np.array([1.0, settings.chroma, settings.chroma], np.float32)
        box = np.broadcast_to(np.asarray(limit, np.float32), (ARCFACE_SIZE, ARCFACE_SIZE, 1)) * factors
    step = 0.2 * box  # ten steps cross the box
    comp = np.zeros((ARCFACE_SIZE, ARCFACE_SIZE, 3), np.float32)
    momentum = np.zeros_like(comp)

    def to_rgb(c: np.ndarray) -> np.ndarray:
        """The RGB change of components `c`: blurred (settings.blur), then through `basis`."""
        if settings.blur > 0:
            c = cv2.GaussianBlur(c, (0, 0), settings.blur)
        out: np.ndarray = (c @ basis).astype(np.float32)
        return out

    delta = to_rgb(comp)
    rng = np.random.default_rng(settings.seed)
    objective = reference if toward is None else np.asarray(reference, np.float32) - np.asarray(toward, np.float32)
    ident = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

    # A face at least as large as the crop: drawing the mask into the photo and sampling it
    # back is (up to interpolation) the identity, so the jittered crop is the photo's crop
    # plus the jittered mask, and the photo is never touched per step (fast on big photos).
    # A smaller face loses detail in the photo; there the mask goes through the photo.
    direct = abs(float(np.linalg.det(m[:, :2]))) <= 1.0

    # every model: (gradient, crop size, 112-crop -> its crop, target)
    members: list[tuple[CosineGradient, int, np.ndarray, np.ndarray]] = [
        (grad, ARCFACE_SIZE, ident, np.asarray(objective, np.float32))]

    def view(j: np.ndarray, size: int = ARCFACE_SIZE) -> np.ndarray:
        mk = (np.vstack([j, [0.0, 0.0, 1.0]]) @ full)[:2]
        if direct:
            base = cv2.warpAffine(image, mk, (size, size), flags=cv2.INTER_LINEAR)
            moved = cv2.warpAffine(delta * mask, j, (size, size), flags=cv2.INTER_LINEAR)
            out: np.ndarray = np.clip(base + moved, 0, 255)
            return out
        return np.asarray(cv2.warpAffine(np.clip(image + draw_into(part.shape, delta, m, mask), 0, 255), mk,
                                         (size, size), flags=cv2.INTER_LINEAR))

    def chain(a: np.ndarray, j: np.ndarray) -> np.ndarray:
        out: np.ndarray = (np.vstack([a, [0.0, 0.0, 1.0]]) @ np.vstack([j, [0.0, 0.0, 1.0]]))[:2]
        return out

    for other in others:
        a, _res = similarity_transform(ARCFACE_TEMPLATE, np.asarray(other.template, np.float32))
        size = other.gradient.input_size
        own = other.gradient.embedding(view(a, size))
        members.append((other.gradient, size, a, own))

    def step_once(j: np.ndarray) -> None:
        nonlocal comp, delta
        total = np.zeros_like(delta)
        for model, size, a, target in members:
            jj = chain(a, j)
            _cos, g = model(view(jj, size), target)
            g = cv2.warpAffine(g, jj, (ARCFACE_SIZE, ARCFACE_SIZE), flags=inverse) * mask
            total += g / (float(np.abs(g).mean()) + 1e-12)
        # back through to_rgb: the transpose of the basis, then the (symmetric) blur
        total = total @ basis.T
        if settings.blur > 0:
            total = np.asarray(cv2.GaussianBlur(total, (0, 0), settings.blur), np.float32)
        momentum[...] += total / (float(np.abs(total).mean()) + 1e-12)
        comp = np.clip(comp - step * np.sign(momentum), -box, box)
        delta = to_rgb(comp)

    for k in range(settings.iterations):
        step_once(_jitter(rng, settings) if settings.diversity else ident)
        yield (k + 1) / settings.iterations
    part[...] = np.clip(np.round(image + draw_into(part.shape, delta, m, mask)), 0, 255).astype(np.uint8)
