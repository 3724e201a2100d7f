"""`facevault bench liveness`: what the passive model fr_liveness.onnx says on real photos
versus synthesised presentation attacks, for one or several preprocessing variants.

Role: decode real photos, synthesise "photos of photos" and screens from each (recapture
with perspective warp, screen moire, glare, paper print, JPEG recompression,
downscale-upscale), find the face with the MediaPipe landmarker, and score the crop with
`PassiveLiveness` under each candidate `AntispoofPrep`. Reports, per variant and class,
the mean softmax on real photos and on every attack, and the ROC AUC of that class as a
"real" score (1.0 = perfect separation, 0.5 = chance, < 0.5 = the class means "attack").

The attack synthesis draws from a numpy Generator seeded by `seed` so that a run can be
repeated; nothing here is a secret.

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime lazily or through
facevault.vision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facevault.vision import imaging as im

from facevault.vision.antispoof import AntispoofPrep

__all__ = [
    "ATTACKS",
    "VARIANTS",
    "ConditionStats",
    "VariantReport",
    "AntispoofReport",
    "THRESHOLDS",
    "auc",
    "sample_photos",
    "run_antispoof_eval",
    "format_report",
    "recapture",
    "screen_moire",
    "glare",
    "paper",
    "jpeg_recompress",
    "downscale_upscale",
]

Attack = Callable[[np.ndarray, np.random.Generator], np.ndarray]

_FRAME = (640, 480)  # (w, h) of the simulated webcam picture for recaptures


# ------------------------------------------------------------------ attack synthesis


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A smooth, dim indoor-looking background (blurred coloured noise)."""
    grey = rng.uniform(50, 160, size=(6, 8, 1))
    small = (grey + rng.uniform(-15, 15, size=(6, 8, 3))).astype(np.float32)
    return im.resize(small, (w, h), "cubic")


def _place(
    rgb_f: np.ndarray, rng: np.random.Generator, *, fill: float, jitter: float
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a float image as a tilted flat picture into a webcam frame.

    Returns (frame float32 without background, mask float32 0..1)."""
    w, h = _FRAME
    ih, iw = rgb_f.shape[:2]
    s = fill * min(w / iw, h / ih)
    pw, ph = iw * s, ih * s
    x0, y0 = (w - pw) / 2 + rng.uniform(-0.05, 0.05) * w, (h - ph) / 2 + rng.uniform(-0.05, 0.05) * h
    dst = np.array([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]], np.float32)
    dst += rng.uniform(-jitter, jitter, size=(4, 2)).astype(np.float32) * np.float32(min(pw, ph))
    src = np.array([[0, 0], [iw, 0], [iw, ih], [0, ih]], np.float32)
    m = im.perspective_matrix(src, dst)
    warped = im.warp_perspective(rgb_f, m, (w, h), "area")
    mask = im.warp_perspective(np.ones((ih, iw), np.float32), m, (w, h), "linear")
    return warped, mask[..., None]


def _camera(frame: np.ndarray, rng: np.random.Generator, *, blur: float, quality: int) -> np.ndarray:
    """What a webcam adds: defocus, sensor noise, 8-bit clipping, JPEG."""
    if blur > 0:
        frame = im.gaussian_blur(frame, blur)
    frame = frame + rng.normal(0, 3.0, size=frame.shape).astype(np.float32)
    out = np.clip(frame, 0, 255).astype(np.uint8)
    return _jpeg(out, quality)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    return im.jpeg_round_trip(rgb, quality)


def _recapture_of(display: np.ndarray, rng: np.random.Generator, *, fill: float = 0.85) -> np.ndarray:
    w, h = _FRAME
    warped, mask = _place(display, rng, fill=fill, jitter=0.06)
    frame = warped * mask + _background(rng, w, h) * (1 - mask)
    return _camera(frame, rng, blur=float(rng.uniform(0.6, 1.2)), quality=85)


def recapture(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A printed photo held up to the webcam: smaller contrast, tilted, refocused."""
    f = 18 + rgb.astype(np.float32) * 0.82  # print range: no true black, no true white
    gamma = rng.uniform(0.9, 1.15)
    return _recapture_of(255 * (f / 255) ** gamma, rng)


def screen_moire(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone/monitor showing the photo: RGB sub-pixel stripes that alias into moire
    when the camera resamples them, plus a raised black level and a blue cast."""
    k = 3  # each pixel becomes 3 sub-pixel columns
    h, w = rgb.shape[:2]
    big = im.resize(rgb, (w * k, h * k), "nearest").astype(np.float32)
    stripes = np.zeros((1, w * k, 3), np.float32)
    for c in range(3):
        stripes[0, c::k, c] = 1.0
    grid = np.ones((h * k, 1, 1), np.float32)
    grid[k - 1 :: k] = 0.55  # dark rows between pixel rows
    shown = big * (0.35 + 0.65 * stripes) * grid
    # a few % of interference fringes the camera adds at this distance
    yy, xx = np.mgrid[0 : h * k, 0 : w * k].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(6, 14) * k
    fringes = 1 + 0.12 * np.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period)
    shown = shown * fringes[..., None]
    shown = 25 + shown * 0.9 * np.array([0.92, 0.97, 1.08], np.float32)
    return _recapture_of(shown, rng, fill=0.9)


def glare(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A glossy print or screen with a specular reflection across part of the face."""
    f = 18 + rgb.astype(np.float32) * 0.85
    h, w = f.shape[:2]
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.25, 0.6) * h
    ax, ay = rng.uniform(0.12, 0.25) * w, rng.uniform(0.06, 0.14) * h
    blob = np.zeros((h, w), np.float32)
    im.fill_ellipse(blob, (cx, cy), (2 * ax, 2 * ay), float(rng.uniform(0, 180)), 1.0)
    blob = im.gaussian_blur(blob, max(2.0, 0.05 * min(h, w)))
    f = f + blob[..., None] * rng.uniform(120, 200)
    return _recapture_of(np.clip(f, 0, 255), rng)


def paper(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An inkjet print: desaturated, warm paper white, fibre texture, halftone dots."""
    f = rgb.astype(np.float32)
    grey = f.mean(axis=2, keepdims=True)
    f = grey + 0.75 * (f - grey)
    f = 22 + f * 0.78 * np.array([1.0, 0.97, 0.9], np.float32)
    h, w = f.shape[:2]
    fibres = im.gaussian_blur(rng.normal(0, 1, (h, w)).astype(np.float32), 1.5)
    blotch = im.resize(rng.normal(0, 1, (max(2, h // 40), max(2, w // 40))).astype(np.float32),
                       (w, h), "cubic")
    f = f * (1 + 0.05 * fibres[..., None] + 0.04 * blotch[..., None])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dots = 0.5 + 0.5 * np.sin(xx * 2.2) * np.sin(yy * 2.2)
    f = f * (0.93 + 0.07 * dots[..., None])
    return _recapture_of(np.clip(f, 0, 255), rng)


def jpeg_recompress(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A picture that went through messaging apps: JPEG twice at low quality."""
    return _jpeg(_jpeg(rgb, int(rng.integers(12, 20))), int(rng.integers(25, 40)))


def downscale_upscale(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A low-resolution copy blown up again (thumbnail of a profile photo)."""
    h, w = rgb.shape[:2]
    f = float(rng.uniform(3.0, 5.0))
    small = im.resize(rgb, (max(8, int(w / f)), max(8, int(h / f))), "area")
    return im.resize(small, (w, h), "linear")


ATTACKS: dict[str, Attack] = {
    "recapture": recapture,
    "screen_moire": screen_moire,
    "glare": glare,
    "paper": paper,
    "jpeg": jpeg_recompress,
    "downup": downscale_upscale,
}

# Candidate preprocessings (real_class is irrelevant here: all three classes are reported).
VARIANTS: dict[str, AntispoofPrep] = {
    "RGB raw x2.7": AntispoofPrep("RGB", 0.0, 1.0, 2.7),
    "BGR raw x2.7": AntispoofPrep("BGR", 0.0, 1.0, 2.7),
    "RGB (x-127)/128 x2.7": AntispoofPrep("RGB", 127.0, 128.0, 2.7),
    "BGR (x-127)/128 x2.7": AntispoofPrep("BGR", 127.0, 128.0, 2.7),
    "RGB x/255 x2.7": AntispoofPrep("RGB", 0.0, 255.0, 2.7),
    "RGB raw x1.5": AntispoofPrep("RGB", 0.0, 1.0, 1.5),
}


# ------------------------------------------------------------------ statistics


def auc(positives: Sequence[float] | np.ndarray, negatives: Sequence[float] | np.ndarray) -> float:
    """ROC AUC: P(a positive scores above a negative), ties count one half."""
    pos, neg = np.asarray(positives, np.float64), np.asarray(negatives, np.float64)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(allv.size, np.float64)
    sorted_v = allv[order]
    i = 0
    while i < allv.size:  # average ranks over ties
        j = i
        while j + 1 < allv.size and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[: pos.size].sum()
    return float((r_pos - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


@dataclass(frozen=True)
class ConditionStats:
    """Scores of one condition ("real" or an attack) under one variant."""

    name: str
    images: int  # images tried
    faces: int  # images in which a face was found (and scored)
    mean_probs: tuple[float, float, float]
    auc_vs_real: tuple[float, float, float]  # per class, real as positives; nan for "real"
    pass_rate: tuple[float, float, float]  # share with that class's prob >= 0.5
    real_pass: tuple[float, ...] = ()  # share with p[prep.real_class] >= each of THRESHOLDS


@dataclass(frozen=True)
class VariantReport:
    name: str
    prep: AntispoofPrep
    conditions: tuple[ConditionStats, ...]
    pooled_auc: tuple[float, float, float]  # per class, real vs every attack pooled


@dataclass(frozen=True)
class AntispoofReport:
    photos: int
    variants: tuple[VariantReport, ...]
    seed: int
    skipped: tuple[tuple[str, str], ...] = field(default=())


THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def _stats(
    name: str, tried: int, probs: list[np.ndarray], real: list[np.ndarray], real_class: int
) -> ConditionStats:
    p = np.stack(probs) if probs else np.full((0, 3), np.nan)
    r = np.stack(real) if real else np.full((0, 3), np.nan)
    mean = tuple(float(v) for v in (p.mean(axis=0) if len(p) else [math.nan] * 3))
    rate = tuple(float(v) for v in ((p >= 0.5).mean(axis=0) if len(p) else [math.nan] * 3))
    aucs: tuple[float, ...] = ((math.nan,) * 3 if name == "real"
                               else tuple(auc(r[:, c], p[:, c]) for c in range(3)))
    passes = tuple(float((p[:, real_class] >= t).mean()) if len(p) else math.nan for t in THRESHOLDS)
    return ConditionStats(name, tried, len(probs), mean, aucs, rate, passes)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the run


def sample_photos(data_dir: Path, *, lfw: int = 150) -> list[Path]:
    """The photos of the documented run: data_dir/photos/id*/*.jpg plus every 20th LFW
    person's first image, starting at the 8th, up to `lfw` of them."""
    photos = sorted((data_dir / "photos").glob("id*/*.jpg"))
    people = sorted((data_dir / "lfw-dev" / "images").glob("*/*_0001.jpg"))
    return photos + people[7::20][:lfw]


def run_antispoof_eval(
    photos: Iterable[Path],
    *,
    variants: dict[str, AntispoofPrep] | None = None,
    attacks: dict[str, Attack] | None = None,
    seed: int = 0,
    model_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AntispoofReport:
    """Score every photo and every attack made from it under every variant.

    `photos`: real face photos (e.g. shared photos/ and an LFW sample). The face box comes
    from the MediaPipe landmarker in IMAGE mode (largest face). Images without a face are
    counted, not scored.
    """
    from facevault import modelstore
    from facevault.errors import SourceError
    from facevault.vision.antispoof import PassiveLiveness
    from facevault.vision.landmarks import FaceLandmarker
    from facevault.vision.sources import decode_image

    variants = dict(VARIANTS if variants is None else variants)
    attacks = dict(ATTACKS if attacks is None else attacks)
    paths = list(photos)
    path = model_path or modelstore.model_path("liveness")
    models = {name: PassiveLiveness(path, prep) for name, prep in variants.items()}
    rng = np.random.default_rng(seed)
    conds = ["real", *attacks]
    probs: dict[tuple[str, str], list[np.ndarray]] = {(v, c): [] for v in variants for c in conds}
    tried = {c: 0 for c in conds}
    skipped: list[tuple[str, str]] = []
    with FaceLandmarker(modelstore.model_path("landmarker"), video=False) as lm:
        for i, p in enumerate(paths):
            try:
                rgb = decode_image(p, max_side=1280)
            except SourceError as exc:
                skipped.append((str(p), str(exc)))
                continue
            for cond in conds:
                img = rgb if cond == "real" else attacks[cond](rgb, rng)
                tried[cond] += 1
                faces = lm.detect(img)
                if not faces:
                    continue
                for v, model in models.items():
                    probs[(v, cond)].append(model.probabilities(img, faces[0].box))
            if progress is not None:
                progress(i + 1, len(paths))
    reports = []
    for v, prep in variants.items():
        real = probs[(v, "real")]
        cs = tuple(_stats(c, tried[c], probs[(v, c)], real, prep.real_class) for c in conds)
        pooled_neg = [x for c in attacks for x in probs[(v, c)]]
        r = np.stack(real) if real else np.zeros((0, 3))
        n = np.stack(pooled_neg) if pooled_neg else np.zeros((0, 3))
        pooled = tuple(auc(r[:, k], n[:, k]) for k in range(3))
        reports.append(VariantReport(v, prep, cs, pooled))  # type: ignore[arg-type]
    return AntispoofReport(len(paths), tuple(reports), seed, tuple(skipped))


def format_report(report: AntispoofReport) -> str:
    """A plain-text table per variant: faces found, mean softmax, AUC per class vs real."""
    lines = [f"passive liveness model on {report.photos} photos (attack seed {report.seed})"]
    for v in report.variants:
        lines.append("")
        lines.append(f"== {v.name}   pooled AUC real-vs-attacks per class: "
                     + " ".join(f"c{k}={a:.3f}" for k, a in enumerate(v.pooled_auc)))
        lines.append(f"{'condition':<14}{'faces':>11}  {'mean p0':>8}{'mean p1':>8}{'mean p2':>8}"
                     f"  {'AUC c0':>7}{'AUC c1':>7}{'AUC c2':>7}  {'p0>=.5':>7}")
        for c in v.conditions:
            lines.append(
                f"{c.name:<14}{f'{c.faces}/{c.images}':>11}  "
                + "".join(f"{m:8.3f}" for m in c.mean_probs) + "  "
                + "".join(f"{a:7.3f}" for a in c.auc_vs_real) + f"  {c.pass_rate[0]:7.2f}"
            )
        lines.append(f"share with p(real class {v.prep.real_class}) >= threshold:")
        lines.append(f"{'condition':<14}" + "".join(f"{t:>7.2f}" for t in THRESHOLDS))
        for c in v.conditions:
            lines.append(f"{c.name:<14}" + "".join(f"{r:7.2f}" for r in c.real_pass))
    if report.skipped:
        lines.append(f"\n{len(report.skipped)} unreadable photo(s) skipped")
    return "\n".join(lines)
