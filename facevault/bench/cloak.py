"""`facevault bench cloak`: how well the photo cloak protects, and what it costs, on an
LFW-layout folder (docs/CLOAK.md is made from its output).

For each of N same-person pairs (a, b) of the pairs file, photo a is cloaked as a user
would cloak it (services.cloak, the largest face), and compared with the uncloaked photo b:

  - cost: SSIM (luma, Gaussian window sigma 1.5), PSNR and, with the cloak-bench extra,
    NVIDIA's FLIP (how visible the change is when flipping between the two) over the
    face's box, seconds per face;
  - FaceVault's own model (the one the mask is made with): same-person verification fails
    when the cosine is below the model's FAR-1e-3 threshold; IronMask: a key sealed to
    photo b (default preset, the unlock's list decoding) opens with photo a or not;
  - the held-out model (facevault.bench.heldout, never used to craft): verification at its
    FAR-1e-3 distance, and identification: the rank of a's true identity among a gallery
    of one photo per identity (b for a's own identity);
  - each after saving as PNG, after JPEG quality 75, and after a 2x downscale; and the
    originals, uncloaked, as the baseline.

Both thresholds are measured in the same run on all different-person pairs of the pairs
file's photos. Descriptors of the uncloaked benchmark photos may be cached on disk with
--embedding-cache (plaintext embeddings: benchmark photos only).

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime through facevault.vision.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facevault.core import fsutil, ironmask
from facevault.core.facekey import DecodePolicy

__all__ = ["VARIANTS", "VARIANT_TEXT", "VariantStats", "CloakBenchReport", "run_cloak_bench", "report_lines",
           "ssim_psnr", "read_pairs", "flip_error"]

VARIANTS = ("original", "png", "jpeg75", "half", "realigned")
VARIANT_TEXT = {"original": "uncloaked original", "png": "cloaked, saved as PNG",
                "realigned": "cloaked, PNG, own model on another alignment (zoom 0.85, 4 px down)",
                "jpeg75": "cloaked, then JPEG quality 75", "half": "cloaked, then downscaled 2x"}


def read_pairs(pairs_file: Path, images: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(same-person pairs, every photo the file names) from an LFW pairs file."""

    def img(name: str, i: str) -> Path:
        return images / name / f"{name}_{int(i):04d}.jpg"

    same: list[tuple[Path, Path]] = []
    every: dict[Path, None] = {}
    for line in pairs_file.read_text().splitlines()[1:]:
        f = line.split()
        if len(f) == 3:
            same.append((img(f[0], f[1]), img(f[0], f[2])))
            every[img(f[0], f[1])] = every[img(f[0], f[2])] = None
        elif len(f) == 4:
            every[img(f[0], f[1])] = every[img(f[2], f[3])] = None
    return same, list(every)


def _ssim(x: np.ndarray, y: np.ndarray) -> float:
    from facevault.vision.imaging import gaussian_blur

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = gaussian_blur(x, 1.5), gaussian_blur(y, 1.5)
    sxx = gaussian_blur(x * x, 1.5) - mx * mx
    syy = gaussian_blur(y * y, 1.5) - my * my
    sxy = gaussian_blur(x * y, 1.5) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def ssim_psnr(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """SSIM (Wang et al. 2004, Gaussian sigma 1.5) on luma, the mean SSIM of the R, G and B
    channels (which also sees colour changes), and PSNR (dB) of two RGB uint8 images."""
    w = np.array([0.299, 0.587, 0.114], np.float64)
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    luma = _ssim(fa @ w, fb @ w)
    rgb = float(np.mean([_ssim(fa[..., c], fb[..., c]) for c in range(3)]))
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    psnr = 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
    return luma, rgb, psnr


def flip_error(a: np.ndarray, b: np.ndarray, ppd: float = 67.0) -> float | None:
    """Mean FLIP error (Andersson et al. 2020: what a viewer sees when flipping between two
    pictures; 0 is no visible difference) of two RGB uint8 images at `ppd` pixels per
    degree (67: a 0.7 m viewing distance from a 24-inch 4K screen at 100%), or None when
    the flip-evaluator package (the cloak-bench extra) is not installed."""
    try:
        import flip_evaluator
    except ImportError:
        return None
    _map, mean, _params = flip_evaluator.evaluate(a.astype(np.float32) / 255, b.astype(np.float32) / 255, "LDR",
                                                  applyMagma=False, parameters={"ppd": ppd})
    return float(mean)


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    z, p = 1.96, k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


@dataclass
class VariantStats:
    n: int = 0
    own_fail: int = 0  # same-person check fails (below the FAR-1e-3 threshold, or no face)
    own_no_face: int = 0
    vault_opens: int = 0
    own_cos: list[float] = field(default_factory=list)
    held_n: int = 0
    held_fail: int = 0
    held_no_face: int = 0
    rank1_miss: int = 0
    top5_miss: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"pairs": self.n, "own_verification_fails": self.own_fail, "own_no_face": self.own_no_face,
                "ironmask_opens": self.vault_opens,
                "own_cosine_median": float(np.median(self.own_cos)) if self.own_cos else None,
                "heldout_pairs": self.held_n, "heldout_verification_fails": self.held_fail,
                "heldout_no_face": self.held_no_face, "heldout_not_rank1": self.rank1_miss,
                "heldout_not_top5": self.top5_miss}


@dataclass
class CloakBenchReport:
    strength: str
    pairs: int
    photos: int
    identities: int
    gallery: int
    own_threshold: float
    own_impostors: int
    heldout: str | None
    held_threshold: float | None
    held_impostors: int
    held_tar: float | None
    ssim: list[float] = field(default_factory=list)
    ssim_colour: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    flip: list[float] = field(default_factory=list)  # FLIP mean error of the face's box (if installed)
    seconds: list[float] = field(default_factory=list)
    variants: dict[str, VariantStats] = field(default_factory=lambda: {v: VariantStats() for v in VARIANTS})
    skipped: int = 0  # pairs whose uncloaked photos show no face to either model
    stand_ins: int = 0  # targeted mode: stand-in identities (0: untargeted)
    crafted_with: tuple[str, ...] = ()  # the models the cloak was crafted against

    def as_dict(self) -> dict[str, Any]:
        def med(x: list[float]) -> float | None:
            return float(np.median(x)) if x else None

        return {"strength": self.strength, "crafted_with": list(self.crafted_with), "stand_ins": self.stand_ins, "pairs": self.pairs, "skipped_pairs": self.skipped,
                "photos": self.photos, "identities": self.identities, "gallery": self.gallery,
                "own_threshold_far_1e3": self.own_threshold, "own_impostor_pairs": self.own_impostors,
                "heldout_model": self.heldout, "heldout_threshold_far_1e3": self.held_threshold,
                "heldout_impostor_pairs": self.held_impostors, "heldout_tar_far_1e3": self.held_tar,
                "face_ssim_median": med(self.ssim), "face_ssim_min": min(self.ssim) if self.ssim else None,
                "face_ssim_p10": float(np.percentile(self.ssim, 10)) if self.ssim else None,
                "face_ssim_colour_median": med(self.ssim_colour),
                "face_psnr_median": med(self.psnr), "face_flip_median": med(self.flip),
                "face_flip_p90": float(np.percentile(self.flip, 90)) if self.flip else None,
                "seconds_per_face_median": med(self.seconds),
                "variants": {k: v.as_dict() for k, v in self.variants.items()}}


class _HeldCache:
    """Held-out descriptors of uncloaked benchmark photos, in memory and, if asked, on disk."""

    def __init__(self, model: Any, root: Path | None) -> None:
        self.model = model
        self.folder = None if root is None else fsutil.private_folder(root / f"heldout-{model.model_digest[:16]}")

    def get(self, path: Path) -> np.ndarray | None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if self.folder is not None:
            f, none = self.folder / f"{digest}.npy", self.folder / f"{digest}.none"
            if f.is_file():
                return np.asarray(np.load(f, allow_pickle=False), np.float64)
            if none.is_file():
                return None
        from facevault.vision.sources import decode_image

        d = self.model.describe(decode_image(path))
        if self.folder is not None:
            if d is None:
                fsutil.write_private(self.folder / f"{digest}.none", b"", replace=True)
            else:
                buf = io.BytesIO()
                np.save(buf, d, allow_pickle=False)
                fsutil.write_private(self.folder / f"{digest}.npy", buf.getvalue(), replace=True)
        return None if d is None else np.asarray(d, np.float64)


def _impostor_quantile(vectors: np.ndarray, ids: Sequence[str], far: float, *, distance: bool) -> tuple[float, int]:
    """The score at which a fraction `far` of different-person pairs pass."""
    labels = np.array(ids)
    if distance:
        sq = (vectors ** 2).sum(1)
        scores = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * vectors @ vectors.T, 0.0))
    else:
        scores = vectors @ vectors.T
    iu = np.triu_indices(len(labels), 1)
    diff = labels[iu[0]] != labels[iu[1]]
    imp = scores[iu][diff]
    q = far if distance else 1 - far
    return float(np.quantile(imp, q)), int(imp.size)


def _nearest_face(faces: list[Any], centre: tuple[float, float]) -> Any:
    def dist(f: Any) -> float:
        x, y, w, h = f.box
        return float((x + w / 2 - centre[0]) ** 2 + (y + h / 2 - centre[1]) ** 2)

    return min(faces, key=dist) if faces else None


def run_cloak_bench(data: Path, pairs_file: Path, *, limit: int = 100, strength: str = "default",
                    gallery_size: int | None = None, threshold_photos: int | None = None,
                    heldout: bool = True, cache_root: Path | None = None, seed: int = 0, start: int = 0,
                    examples: Path | None = None, targets: int = 0,
                    progress: Callable[[str, int, int], None] | None = None) -> CloakBenchReport:
    from facevault.bench.images import ImageEmbedder
    from facevault.services.cloak import CloakTools, cloak_image
    from facevault.services.progress import drive
    from facevault.vision.align import ARCFACE_TEMPLATE, five_points, similarity_transform
    from facevault.vision.cloak import decode_encoded, encode_image, face_region, other_alignment
    from facevault.vision.imaging import jpeg_round_trip, resize
    from facevault.vision.sources import decode_image

    images = data / "images" if (data / "images").is_dir() else data
    same, every = read_pairs(pairs_file, images)
    every = [p for p in every if p.is_file()]
    if threshold_photos is not None:
        keep = set(every[:threshold_photos]) | {p for pair in same for p in pair}
        every = [p for p in every if p in keep]
    say = progress or (lambda _what, _done, _total: None)

    embedder = ImageEmbedder(None, cache_root)
    own: dict[Path, np.ndarray] = {}
    for i, p in enumerate(every):
        v, _code, found = embedder.get(p)
        if found:
            own[p] = np.asarray(v, np.float64) / max(float(np.linalg.norm(v)), 1e-12)
        say("own model, uncloaked photos", i + 1, len(every))
    embedder.close()
    held_model = None
    held: dict[Path, np.ndarray] = {}
    if heldout:
        from facevault.bench.heldout import NAME, HeldOutModel

        held_model = HeldOutModel()
        cache = _HeldCache(held_model, cache_root)
        for i, p in enumerate(every):
            d = cache.get(p)
            if d is not None:
                held[p] = d
            say("held-out model, uncloaked photos", i + 1, len(every))

    own_paths = list(own)
    own_thr, own_imp = _impostor_quantile(np.stack([own[p] for p in own_paths]),
                                          [p.parent.name for p in own_paths], 1e-3, distance=False)
    held_thr, held_imp, held_tar = None, 0, None
    gallery_ids: list[str] = []
    gallery: np.ndarray | None = None
    if held:
        hp = list(held)
        held_thr, held_imp = _impostor_quantile(np.stack([held[p] for p in hp]), [p.parent.name for p in hp],
                                                1e-3, distance=True)
        genuine = [float(np.linalg.norm(held[a] - held[b])) for a, b in same if a in held and b in held]
        held_tar = float(np.mean(np.array(genuine) <= held_thr)) if genuine else None
        first: dict[str, Path] = {}
        for p in hp:
            first.setdefault(p.parent.name, p)
        gallery_ids = sorted(first)
        if gallery_size is not None:
            probe_ids = {a.parent.name for a, _b in same}
            gallery_ids = sorted(set(gallery_ids[:gallery_size]) | (probe_ids & set(gallery_ids)))
        gallery = np.stack([held[first[i]] for i in gallery_ids])

    usable = [(a, b) for a, b in same if a in own and b in own and (not heldout or b in held)]
    step = max(1, len(usable) // max(1, limit))
    chosen = usable[start::step][:limit]
    report = CloakBenchReport(strength, len(chosen), len(every), len({p.parent.name for p in every}),
                              len(gallery_ids), own_thr, own_imp, NAME if heldout else None,
                              held_thr, held_imp, held_tar)
    report.skipped = len(same) - len(usable)
    policy = DecodePolicy()
    params = ironmask.PRESETS[ironmask.DEFAULT_PRESET]
    tools = CloakTools()
    report.crafted_with = tools.model_names
    other = other_alignment()
    towards = None
    if targets > 0:
        towards = _stand_ins(pairs_file, images, {p.parent.name for p in every}, targets, tools)
        report.stand_ins = len(towards)
    try:
        for k, (a, b) in enumerate(chosen):
            say(f"cloaking ({strength})", k, len(chosen))
            original = decode_image(a)
            rgb = original.copy()
            cloaked = drive(cloak_image(rgb, tools, strength=strength, faces="largest", name=a.name,
                                        seed=seed + k, towards=towards))
            face, _ref, seconds = cloaked[0]
            report.seconds.append(seconds)
            m, _ = similarity_transform(five_points(face.landmarks), ARCFACE_TEMPLATE)
            x0, y0, x1, y1 = face_region(rgb.shape, m, margin=0.0)
            s, s_rgb, ps = ssim_psnr(original[y0:y1, x0:x1], rgb[y0:y1, x0:x1])
            report.ssim.append(s)
            report.ssim_colour.append(s_rgb)
            report.psnr.append(ps)
            visible = flip_error(original[y0:y1, x0:x1], rgb[y0:y1, x0:x1])
            if visible is not None:
                report.flip.append(visible)
            png = decode_encoded(encode_image(rgb, ".png"))
            h, w = rgb.shape[:2]
            variants = {"original": (original, 1.0), "png": (png, 1.0), "jpeg75": (jpeg_round_trip(png, 75), 1.0),
                        "half": (resize(png, (w // 2, h // 2), "area"), 0.5), "realigned": (png, 1.0)}
            if examples is not None and k < 4:
                _write_example(examples, a, original, png, (x0, y0, x1, y1))
            helper, codeword = ironmask.enroll(own[b], params)
            rgb_b = decode_image(b)
            found_b = tools.faces(rgb_b)
            realigned_b = tools.embedding(rgb_b, found_b[0], other) if found_b else own[b]
            x, y, bw, bh = face.box
            for name, (pixels, scale) in variants.items():
                st = report.variants[name]
                st.n += 1
                found = _nearest_face(tools.faces(pixels), ((x + bw / 2) * scale, (y + bh / 2) * scale))
                if found is None:
                    st.own_no_face += 1
                    st.own_fail += 1
                else:
                    if name == "realigned":  # both photos through the other aligner
                        e = tools.embedding(pixels, found, other)
                        cos = float(e @ realigned_b)
                    else:
                        e = tools.embedding(pixels, found)
                        cos = float(e @ own[b])
                    st.own_cos.append(cos)
                    st.own_fail += cos < own_thr
                    if name != "realigned":  # the key was sealed through the usual alignment
                        st.vault_opens += codeword in ironmask.decode_candidates(helper, e, policy.list_candidates)
                if held_model is None or gallery is None or held_thr is None or name == "realigned":
                    continue
                st.held_n += 1
                d = held_model.describe(pixels)
                if d is None:
                    st.held_no_face += 1
                    st.held_fail += 1
                    st.rank1_miss += 1
                    st.top5_miss += 1
                    continue
                true_d = float(np.linalg.norm(d - held[b]))
                st.held_fail += true_d > held_thr
                me = a.parent.name
                others = np.linalg.norm(gallery - d, axis=1)
                others = others[[i != me for i in gallery_ids]]
                rank = 1 + int(np.sum(others < true_d))
                st.rank1_miss += rank > 1
                st.top5_miss += rank > 5
        say(f"cloaking ({strength})", len(chosen), len(chosen))
    finally:
        tools.close()
    return report


def _stand_ins(pairs_file: Path, images: Path, people: set[str], n: int, tools: Any) -> np.ndarray:
    """Stand-in identities for the targeted mode: the first photo of `n` people of the other
    LFW pairs file (DevTrain for DevTest and back) who are not among `people`."""
    from facevault.services.cloak import stand_ins

    other = pairs_file.with_name(pairs_file.name.replace("DevTest", "DevTrain") if "DevTest" in pairs_file.name
                                 else pairs_file.name.replace("DevTrain", "DevTest"))
    if other == pairs_file or not other.is_file():
        raise ValueError(f"--targets needs the other pairs file beside {pairs_file}")
    _same, photos = read_pairs(other, images)
    chosen: dict[str, Path] = {}
    for p in photos:
        if p.parent.name not in people and p.parent.name not in chosen and p.is_file():
            chosen[p.parent.name] = p
        if len(chosen) == n:
            break
    return stand_ins(list(chosen.values()), tools)


def _write_example(folder: Path, source: Path, before: np.ndarray, after: np.ndarray,
                   box: tuple[int, int, int, int]) -> None:
    """before | after | difference x10 (grey is no change), at 100%, for docs/CLOAK.md."""
    from facevault.vision.cloak import encode_image

    diff = np.clip(128 + 10 * (after.astype(np.int16) - before.astype(np.int16)), 0, 255).astype(np.uint8)
    strip = np.concatenate([before, after, diff], axis=1)
    fsutil.private_folder(folder)
    fsutil.write_private(folder / f"{source.stem}.png", encode_image(strip, ".png"), replace=True)


def _rate(k: int, n: int) -> str:
    if n == 0:
        return "-"
    lo, hi = _wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.0f}% (95% CI {100 * lo:.0f}-{100 * hi:.0f}%)"


def report_lines(r: CloakBenchReport) -> list[str]:
    d = r.as_dict()
    mode = f", targeted toward {r.stand_ins} stand-in identities" if r.stand_ins else ""
    out = [f"photo cloak, strength {r.strength}{mode}: {r.pairs} same-person pairs "
           f"({r.photos} photos of {r.identities} people for the thresholds)",
           f"  face-region SSIM (luma) median {d['face_ssim_median']:.3f} (10th percentile "
           f"{d['face_ssim_p10']:.3f}, lowest {d['face_ssim_min']:.3f}); RGB-channel SSIM median "
           f"{d['face_ssim_colour_median']:.3f}; "
           f"PSNR median {d['face_psnr_median']:.1f} dB, {d['seconds_per_face_median']:.2f} s per face (median)",
           ("  FLIP (visible difference when flipping, 0 none; 67 px per degree) of the face's box: median "
            f"{d['face_flip_median']:.3f}, 90th percentile {d['face_flip_p90']:.3f}" if r.flip else
            "  FLIP: not measured (install the cloak-bench extra)"),
           f"  crafted against: {', '.join(r.crafted_with) or '-'}",
           f"  own model FAR-1e-3 cosine threshold {r.own_threshold:.3f} ({r.own_impostors} different-person pairs)"]
    if r.heldout:
        out.append(f"  held-out model: {r.heldout}; FAR-1e-3 distance {r.held_threshold:.3f} "
                   f"({r.held_impostors} different-person pairs, TAR {100 * (r.held_tar or 0):.1f}% there); "
                   f"gallery of {r.gallery} identities")
    else:
        out.append("  held-out model: not installed, not measured")
    for name in VARIANTS:
        v = r.variants[name]
        out.append(f"  {VARIANT_TEXT[name]}:")
        med = f"{np.median(v.own_cos):.2f}" if v.own_cos else "-"
        out.append(f"    own model: verification fails {_rate(v.own_fail, v.n)}; IronMask opens "
                   f"{v.vault_opens}/{v.n}; cosine median {med}")
        if v.held_n:
            out.append(f"    held-out: verification fails {_rate(v.held_fail, v.held_n)} "
                       f"(no face {v.held_no_face}); not rank 1 {_rate(v.rank1_miss, v.held_n)}; "
                       f"not in top 5 {_rate(v.top5_miss, v.held_n)}")
    return out
