"""`facevault bench accuracy`: TAR and FAR of IronMask settings on real faces, and the
plain-cosine baseline on the same trials.

Role: embed every image of an LFW-layout folder (one folder per identity) with the app's own
landmarker, alignment and embedder through `facevault.bench.lfw._Embedder` (largest face, no
quality gates, per-image cache keyed by model, preprocessing and image sha256); form seeded
trials (from an LFW pairs file, or K enrollment + M probe images per identity); report images
without a detected face, the plain-cosine baseline and, per IronMask setting, codebook bits,
TAR, FAR and trial counts.

How decoding is evaluated at scale.  An enrollment is IronMask's P = R Q with Q Haar and R
the plane rotation taking Q t to c (`ironmask._enroll_from_parts`).  For a fixed Q, decoding
N probes is Q @ probes.T (one product for all enrollments sharing Q) followed by R as a
rank-2 update and a top-alpha test per column, so millions of impostor decodes are cheap.
Enrollments draw Q from a small seeded pool (each trial's law is exact; trials sharing a Q
are correlated, which widens but does not bias the estimate).  A spot check rebuilds real
helpers with `ironmask._enroll_from_parts` and decodes with `ironmask.decode` /
`ironmask.decode_candidates` and counts disagreements (reported, expected 0).
List decoding uses `ironmask.candidates_from_projection`, the code the app runs.

Codewords and Q here are benchmark values from a seeded generator, not secrets.

May import: stdlib, numpy, facevault.core, facevault.bench.lfw (vision lazily through it).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facevault.core import ironmask

__all__ = [
    "Setting",
    "ImageSet",
    "Trials",
    "SettingResult",
    "AccuracyReport",
    "load_images",
    "pair_trials",
    "folder_trials",
    "fuse_embeddings",
    "baseline",
    "evaluate_setting",
    "run_accuracy",
    "default_settings",
    "parse_pairs",
]

FAR_LEVELS: tuple[tuple[str, float], ...] = (("1e-3", 1e-3), ("1e-4", 1e-4), ("1e-5", 1e-5), ("0", 0.0))


@dataclass(frozen=True)
class Setting:
    """One IronMask configuration to measure.

    dim/alpha: the codebook C(dim, alpha) (dim is the expanded dimension with an expander).
    expander: None (plain IronMask on the 512-D embedding) or an expander kind of
        facevault.core.expander (the template is expanded to `dim` before IronMask).
    candidates: list-decoding length per probe frame (1 = plain decoding); every candidate
        is a KDF call, and FAR counts any candidate equal to the enrolled codeword.
    """

    name: str
    dim: int
    alpha: int
    expander: str | None = None
    candidates: int = 1

    @property
    def bits(self) -> float:
        return ironmask.codebook_bits(self.dim, self.alpha)


@dataclass(frozen=True)
class ImageSet:
    """All images of a dataset folder, embedded. Row i of `vectors` is `paths[i]`."""

    paths: tuple[Path, ...]
    identities: tuple[str, ...]
    vectors: np.ndarray = field(repr=False)  # (N, 512) float64 unit rows
    found: np.ndarray = field(repr=False)  # (N,) bool: a face was detected
    gate_ok: np.ndarray = field(repr=False)  # (N,) bool: the default quality gates pass

    @property
    def no_face(self) -> list[str]:
        return [str(p) for p, f in zip(self.paths, self.found) if not f]


@dataclass(frozen=True)
class Trials:
    """enroll[e]: image indices fused into enrollment e; genuine[e]: probe groups of the same
    identity (each group = the frames of one unlock attempt); impostor_groups: probe groups
    of single identities; impostor_ids: identity of each group; enroll_ids: identity per
    enrollment. Impostor trials of e are the groups with another identity (up to a cap)."""

    enroll: tuple[tuple[int, ...], ...]
    enroll_ids: tuple[str, ...]
    genuine: tuple[tuple[tuple[int, ...], ...], ...]
    impostor_groups: tuple[tuple[int, ...], ...]
    impostor_ids: tuple[str, ...]
    max_impostors_per_enrollment: int | None = None
    description: str = ""


@dataclass(frozen=True)
class SettingResult:
    name: str
    dim: int
    alpha: int
    bits: float
    tar: float
    far: float
    genuine_trials: int
    impostor_trials: int
    genuine_accepts: int
    impostor_accepts: int
    expander: str | None
    candidates: int
    far_upper_95: float  # one-sided 95% upper bound on the FAR (3/N rule when 0 accepts)
    plain_tar_at_same_far: float  # plain cosine TAR on the same trials at this FAR
    spot_checks: int
    spot_mismatches: int


@dataclass(frozen=True)
class AccuracyReport:
    images: int
    no_face: list[str]
    trials: str
    enrollments: int
    enroll_k: int
    probe_m: int
    fusion: str
    probe_mode: str
    baseline: dict[str, Any]
    settings: list[SettingResult]
    genuine_scores: np.ndarray = field(repr=False)  # plain cosine, for the plots
    impostor_scores: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("genuine_scores", "impostor_scores")}
        return d


# ----------------------------------------------------------------------------- images


def load_images(
    data_dir: Path,
    *,
    cache_root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageSet:
    """Embed every image under data_dir (or data_dir/images), one folder per identity."""
    from facevault.bench.lfw import _Embedder

    root = data_dir / "images" if (data_dir / "images").is_dir() else data_dir
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
    files = sorted(p for p in root.glob("*/*") if p.suffix.lower() in exts and p.is_file())
    embedder = _Embedder(None, cache_root)
    vecs, found, gate_ok = [], [], []
    try:
        for i, path in enumerate(files):
            v, code, ok = embedder.get(path)
            vecs.append(np.asarray(v, dtype=np.float64))
            found.append(bool(ok))
            gate_ok.append(code is None)
            if progress is not None:
                progress(i + 1, len(files))
    finally:
        embedder.close()
    mat = np.stack(vecs) if vecs else np.zeros((0, 512))
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    return ImageSet(tuple(files), tuple(p.parent.name for p in files), mat,
                    np.array(found, dtype=bool), np.array(gate_ok, dtype=bool))


def fuse_embeddings(images: ImageSet, indices: Sequence[int], mode: str = "quality") -> np.ndarray:
    """Unit template from several images. "mean": plain mean. "quality": weights from the
    detector (no face 0.1, gates fail 0.5, pass 1.0) times agreement with the others
    (cosine to the leave-one-out mean, clipped to [0.05, 1]) so an outlier photo counts less."""
    x = images.vectors[list(indices)]
    if len(indices) == 1 or mode == "mean":
        w = np.ones(len(indices))
    elif mode == "quality":
        det = np.where(~images.found[list(indices)], 0.1, np.where(images.gate_ok[list(indices)], 1.0, 0.5))
        total = x.sum(axis=0)
        loo = total[None, :] - x
        loo /= np.maximum(np.linalg.norm(loo, axis=1, keepdims=True), 1e-12)
        agree = np.clip((x * loo).sum(axis=1), 0.05, 1.0)
        w = det * agree
    else:
        raise ValueError(f"unknown fusion mode {mode!r}")
    t = (w[:, None] * x).sum(axis=0)
    return t / np.linalg.norm(t)


# ----------------------------------------------------------------------------- trials


def parse_pairs(pairs_file: Path) -> list[tuple[str, int, str, int]]:
    """LFW pairs lines as (name_a, i, name_b, j); same-person lines have name_a == name_b."""
    out = []
    for line in Path(pairs_file).read_text().splitlines()[1:]:
        f = line.split()
        if len(f) == 3:
            out.append((f[0], int(f[1]), f[0], int(f[2])))
        elif len(f) == 4:
            out.append((f[0], int(f[1]), f[2], int(f[3])))
    return out


def _index_by_name(images: ImageSet) -> dict[str, int]:
    return {p.name: i for i, p in enumerate(images.paths)}


def pair_trials(images: ImageSet, pairs_file: Path, *, max_impostors: int | None = None) -> Trials:
    """LFW pairs protocol (K = M = 1): each same-person pair enrolls its first image and
    probes with the second; impostor probes are every image of every other identity in the
    folder (so FAR is resolved far below 1/#pairs)."""
    index = _index_by_name(images)
    enroll, ids, genuine = [], [], []
    for a, i, b, j in parse_pairs(pairs_file):
        if a != b:
            continue
        ia, ib = index.get(f"{a}_{i:04d}.jpg"), index.get(f"{b}_{j:04d}.jpg")
        if ia is None or ib is None:
            raise FileNotFoundError(f"pair image missing for {a} {i} {j}")
        enroll.append((ia,))
        ids.append(a)
        genuine.append(((ib,),))
    groups = tuple((i,) for i in range(len(images.paths)))
    return Trials(tuple(enroll), tuple(ids), tuple(genuine), groups, images.identities,
                  max_impostors, f"pairs {Path(pairs_file).name}")


def folder_trials(
    images: ImageSet,
    *,
    enroll_k: int,
    probe_m: int,
    seed: int = 0,
    identities: set[str] | None = None,
    max_impostors: int | None = None,
    impostor_pool: set[str] | None = None,
) -> Trials:
    """Seeded trials: for each identity (of `identities`, default all) with at least K + M
    images, enroll from K images and probe with the remaining images in groups of M
    (genuine); impostor probe groups are M images of one identity from `impostor_pool`
    (default all identities), every such group of another identity being one trial."""
    rnd = random.Random(seed)
    by_id: dict[str, list[int]] = {}
    for i, name in enumerate(images.identities):
        by_id.setdefault(name, []).append(i)
    enroll, ids, genuine = [], [], []
    for name in sorted(by_id):
        if identities is not None and name not in identities:
            continue
        idx = list(by_id[name])
        if len(idx) < enroll_k + probe_m:
            continue
        rnd.shuffle(idx)
        rest = idx[enroll_k:]
        groups = [tuple(rest[k : k + probe_m]) for k in range(0, len(rest) - probe_m + 1, probe_m)]
        enroll.append(tuple(idx[:enroll_k]))
        ids.append(name)
        genuine.append(tuple(groups))
    imp_groups, imp_ids = [], []
    for name in sorted(by_id):
        if impostor_pool is not None and name not in impostor_pool:
            continue
        idx = list(by_id[name])
        rnd.shuffle(idx)
        for k in range(0, len(idx) - probe_m + 1, probe_m):
            imp_groups.append(tuple(idx[k : k + probe_m]))
            imp_ids.append(name)
    return Trials(tuple(enroll), tuple(ids), tuple(genuine), tuple(imp_groups), tuple(imp_ids),
                  max_impostors, f"folders K={enroll_k} M={probe_m} seed={seed}")


def _impostor_columns(trials: Trials, e: int, seed: int) -> np.ndarray:
    """Impostor groups of enrollment e; with a cap, a sample seeded by (seed, e) so the
    plain baseline and every setting see exactly the same impostor trials."""
    ids = np.asarray(trials.impostor_ids)
    cols = np.flatnonzero(ids != trials.enroll_ids[e])
    cap = trials.max_impostors_per_enrollment
    if cap is not None and cols.size > cap:
        rnd = random.Random(seed * 1_000_003 + e)
        cols = np.sort(np.asarray(rnd.sample(list(cols), cap)))
    return cols


# ----------------------------------------------------------------------------- baseline


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> float:
    """TAR with the threshold set so that at most `far` of impostor scores reach it (far 0:
    above the highest impostor score)."""
    if impostor.size == 0 or genuine.size == 0:
        return float("nan")
    imp = np.sort(impostor)
    allowed = int(math.floor(far * imp.size))
    thr = imp[-1] if allowed == 0 else imp[imp.size - allowed - 1]
    return float((genuine > thr).mean())


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    from facevault.bench.lfw import best_threshold

    return best_threshold(scores, same)[0]


def baseline(
    genuine: np.ndarray, impostor: np.ndarray, *, threshold: float | None = None
) -> dict[str, Any]:
    """Plain cosine: accuracy (balanced, at `threshold` if given, else the best one) and
    TAR at each FAR level over the given impostor scores."""
    if threshold is None:
        sample = impostor if impostor.size <= 200_000 else np.random.default_rng(0).choice(impostor, 200_000)
        s = np.concatenate([genuine, sample])
        y = np.concatenate([np.ones(genuine.size, bool), np.zeros(sample.size, bool)])
        threshold = _best_threshold(s, y)
    acc = 0.5 * (float((genuine >= threshold).mean()) + float((impostor < threshold).mean()))
    return {
        "accuracy": acc,
        "threshold": float(threshold),
        "tar_at_far": {k: tar_at_far(genuine, impostor, f) for k, f in FAR_LEVELS},
        "genuine_trials": int(genuine.size),
        "impostor_trials": int(impostor.size),
    }


def pairs_accuracy(images: ImageSet, pairs_file: Path, threshold: float) -> float:
    """Accuracy of plain cosine on an LFW pairs file at a fixed threshold."""
    index = _index_by_name(images)
    hits = 0
    rows = parse_pairs(pairs_file)
    for a, i, b, j in rows:
        s = float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
        hits += (s >= threshold) == (a == b)
    return hits / max(1, len(rows))


def pairs_far0_tar(images: ImageSet, pairs_file: Path) -> float:
    """Plain-cosine TAR at FAR 0 counting only the pairs file's own impostor pairs (the
    published protocol: FAR 0 over 500 DevTest or 3000 View 2 impostor pairs)."""
    index = _index_by_name(images)
    rows = parse_pairs(pairs_file)
    s = np.array([float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
                  for a, i, b, j in rows])
    same = np.array([a == b for a, _, b, _ in rows])
    if same.all() or not same.any():
        return float("nan")
    return float((s[same] > s[~same].max()).mean())


def pairs_threshold(images: ImageSet, pairs_file: Path) -> float:
    index = _index_by_name(images)
    rows = parse_pairs(pairs_file)
    s = np.array([float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
                  for a, i, b, j in rows])
    return _best_threshold(s, np.array([a == b for a, _, b, _ in rows]))


# ----------------------------------------------------------------------------- IronMask


def _expand(setting: Setting, x: np.ndarray, seed: bytes | None) -> np.ndarray:
    if setting.expander is None:
        return x
    from facevault.core import expander

    spec = expander.ExpanderSpec(setting.expander, x.shape[-1], setting.dim)
    return expander.expand(x, spec, seed if seed is not None else b"\0" * 32)


def _rank2(q_y: np.ndarray, u: np.ndarray, v: np.ndarray, cos: float, sin: float) -> np.ndarray:
    """R @ Z for the plane rotation R (u -> c in span(u, v)) without forming R."""
    uz, vz = u @ q_y, v @ q_y
    return q_y + np.outer(u, (cos - 1.0) * uz - sin * vz) + np.outer(v, (cos - 1.0) * vz + sin * uz)


def _accepts(z: np.ndarray, word: ironmask.Codeword, candidates: int) -> np.ndarray:
    """Per column of z = P @ probes: does decoding (or list decoding) yield `word`?"""
    s, sg = word.indices, word.signs.astype(np.float64)
    zs = z[s] * sg[:, None]
    a = np.abs(z)
    a[s] = -1.0
    ok = zs.min(axis=0) > a.max(axis=0)
    if candidates > 1:
        # the listed alternatives differ by at most two swaps and keep the signs, so only
        # columns with every enrolled sign right can list `word`; ask the app's code for them
        maybe = np.flatnonzero(~ok & (zs.min(axis=0) > 0))
        target = word.to_bytes()
        for col in maybe:
            listed = ironmask.candidates_from_projection(z[:, col], word.alpha, candidates)
            ok[col] = any(w.to_bytes() == target for w in listed)
    return ok


def _bench_codeword(params: ironmask.IronMaskParams, rng: np.random.Generator) -> ironmask.Codeword:
    chosen = np.sort(rng.choice(params.dim, params.alpha, replace=False))
    signs = rng.choice(np.array([-1, 1], dtype=np.int8), params.alpha)
    return ironmask.Codeword(chosen.astype(np.int64), signs, params.dim)


def evaluate_setting(
    setting: Setting,
    images: ImageSet,
    trials: Trials,
    *,
    fusion: str = "quality",
    probe_mode: str = "fuse",
    pool: int = 4,
    seed: int = 0,
    spot_checks: int = 4,
    plain: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SettingResult:
    """Decode every genuine and impostor probe group of `trials` under `setting`.

    probe_mode "fuse": a group's frames are fused (mean) into one probe, decoded once.
    probe_mode "any": each frame is decoded on its own (with list decoding if asked);
    the attempt succeeds if any frame lists the enrolled codeword (the app's voting tries
    up to FaceSlotPolicy.max_tries distinct codewords; FAR counts every frame's chances).
    """
    params = ironmask.IronMaskParams(setting.dim, setting.alpha)
    rng = np.random.default_rng([seed, setting.dim, setting.alpha, setting.candidates])
    rnd = random.Random(seed)
    templates = np.stack([fuse_embeddings(images, g, fusion) for g in trials.enroll])

    # probe vectors: one per group ("fuse") or one per frame ("any")
    def group_vectors(groups: Sequence[tuple[int, ...]]) -> tuple[np.ndarray, list[np.ndarray]]:
        if probe_mode == "fuse":
            vecs = np.stack([fuse_embeddings(images, g, "mean") for g in groups]) if groups else np.zeros((0, 512))
            return vecs, [np.array([k]) for k in range(len(groups))]
        if probe_mode != "any":
            raise ValueError(f"unknown probe mode {probe_mode!r}")
        rows, owner = [], []
        for k, g in enumerate(groups):
            for i in g:
                rows.append(images.vectors[i])
                owner.append(k)
        own = np.asarray(owner)
        return np.stack(rows), [np.flatnonzero(own == k) for k in range(len(groups))]

    imp_vecs, imp_cols = group_vectors(trials.impostor_groups)
    gen_groups = [g for gs in trials.genuine for g in gs]
    gen_vecs, gen_cols = group_vectors(gen_groups)
    gen_owner = np.repeat(np.arange(len(trials.genuine)), [len(gs) for gs in trials.genuine])

    g_acc = g_n = i_acc = i_n = 0
    checks = mismatches = 0
    n_enroll = len(trials.enroll)
    done = 0
    for b in range(pool):
        members = list(range(b, n_enroll, pool))
        if not members:
            continue
        exp_seed = rng.bytes(32) if setting.expander is not None else None
        q = ironmask.haar_orthogonal(params.dim, rng)
        x_t = _expand(setting, templates[members], exp_seed)
        q_imp = q @ _expand(setting, imp_vecs, exp_seed).T
        q_gen = q @ _expand(setting, gen_vecs, exp_seed).T
        for k, e in enumerate(members):
            word = _bench_codeword(params, rng)
            u = q @ x_t[k]
            u /= np.linalg.norm(u)
            v, cos, sin = ironmask._rotation_plane(u, word.to_vector())
            # genuine
            mine = np.flatnonzero(gen_owner == e)
            cols = np.concatenate([gen_cols[g] for g in mine]) if mine.size else np.zeros(0, int)
            ok = _accepts(_rank2(q_gen[:, cols], u, v, cos, sin), word, setting.candidates)
            pos = 0
            for g in mine:
                n = gen_cols[g].size
                g_acc += bool(ok[pos : pos + n].any())
                pos += n
            g_n += mine.size
            # impostors
            groups = _impostor_columns(trials, e, seed)
            cols = np.concatenate([imp_cols[g] for g in groups]) if groups.size else np.zeros(0, int)
            ok_i = _accepts(_rank2(q_imp[:, cols], u, v, cos, sin), word, setting.candidates)
            if probe_mode == "fuse":
                i_acc += int(ok_i.sum())
            else:
                sizes = np.array([imp_cols[g].size for g in groups])
                i_acc += int(np.logical_or.reduceat(ok_i, np.concatenate([[0], np.cumsum(sizes)[:-1]])).sum()) if sizes.size else 0
            i_n += groups.size
            if k < spot_checks:
                sample = _sample_rows(gen_vecs, imp_vecs, mine, gen_cols, groups, imp_cols, rnd)
                checks_k, bad = _spot_check(setting, templates[e], word, q, exp_seed, sample,
                                            u, v, cos, sin)
                checks += checks_k
                mismatches += bad
            done += 1
            if progress is not None:
                progress(done, n_enroll)
    tar = g_acc / max(1, g_n)
    far = i_acc / max(1, i_n)
    upper = _far_upper(i_acc, i_n)
    plain_tar = float("nan")
    if plain is not None:
        plain_tar = tar_at_far(plain[0], plain[1], far)
    return SettingResult(setting.name, setting.dim, setting.alpha, round(setting.bits, 2), tar, far,
                         int(g_n), int(i_n), int(g_acc), int(i_acc), setting.expander,
                         setting.candidates, upper, plain_tar, checks, mismatches)


def _sample_rows(gen_vecs: np.ndarray, imp_vecs: np.ndarray, mine: np.ndarray,
                 gen_cols: list[np.ndarray], groups: np.ndarray, imp_cols: list[np.ndarray],
                 rnd: random.Random) -> np.ndarray:
    rows = [gen_vecs[gen_cols[g][0]] for g in mine[:2]]
    for g in rnd.sample(list(groups), min(3, groups.size)):
        rows.append(imp_vecs[imp_cols[g][0]])
    return np.stack(rows) if rows else np.zeros((0, gen_vecs.shape[1]))


def _spot_check(setting: Setting, template: np.ndarray,
                word: ironmask.Codeword, q: np.ndarray, exp_seed: bytes | None, probes: np.ndarray,
                u: np.ndarray, v: np.ndarray, cos: float, sin: float) -> tuple[int, int]:
    """Rebuild the real helper with the app's enrollment and decode `probes` with the app's
    decoder; count disagreements with the fast path."""
    x = _expand(setting, template[None, :], exp_seed)[0]
    helper = ironmask._enroll_from_parts(x, word, q)
    bad = 0
    for p in probes:
        y = _expand(setting, p[None, :], exp_seed)[0]
        if setting.candidates > 1:
            app = word in ironmask.decode_candidates(helper, y, max_candidates=setting.candidates)
        else:
            app = ironmask.decode(helper, y) == word
        fast = bool(_accepts(_rank2((q @ y)[:, None], u, v, cos, sin), word, setting.candidates)[0])
        bad += app != fast
    return len(probes), bad


def _far_upper(accepts: int, trials: int) -> float:
    """One-sided 95% Clopper-Pearson upper bound on a rate (3/N when 0 of N)."""
    if trials == 0:
        return 1.0
    if accepts == 0:
        return 1.0 - 0.05 ** (1.0 / trials)
    # Wilson-style bound is enough for reporting
    p = accepts / trials
    z = 1.645
    return min(1.0, p + z * math.sqrt(p * (1 - p) / trials) + z * z / (2 * trials))


# ----------------------------------------------------------------------------- run


def default_settings() -> list[Setting]:
    """Every preset of the app (ironmask.PRESETS) as a setting."""
    out = []
    for name, p in ironmask.PRESETS.items():
        out.append(Setting(name, p.dim, p.alpha, getattr(p, "expander", None)))
    return out


def plain_scores(images: ImageSet, trials: Trials, *, fusion: str = "quality",
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plain cosine between each enrollment template and its genuine / impostor probe groups
    (groups fused by mean), over the same trials the IronMask settings see."""
    templates = np.stack([fuse_embeddings(images, g, fusion) for g in trials.enroll])
    imp = np.stack([fuse_embeddings(images, g, "mean") for g in trials.impostor_groups])
    gen, impostor = [], []
    for e, t in enumerate(templates):
        for g in trials.genuine[e]:
            gen.append(float(fuse_embeddings(images, g, "mean") @ t))
        cols = _impostor_columns(trials, e, seed)
        impostor.append(imp[cols] @ t)
    return np.asarray(gen), np.concatenate(impostor) if impostor else np.zeros(0)


def run_accuracy(
    images: ImageSet,
    trials: Trials,
    settings: Sequence[Setting],
    *,
    enroll_k: int,
    probe_m: int,
    fusion: str = "quality",
    probe_mode: str = "fuse",
    threshold: float | None = None,
    accuracy_override: float | None = None,
    pool: int = 4,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> AccuracyReport:
    gen, imp = plain_scores(images, trials, fusion=fusion, seed=seed)
    base = baseline(gen, imp, threshold=threshold)
    if accuracy_override is not None:
        base["accuracy"] = accuracy_override
    results = []
    for s in settings:
        cb = None if progress is None else (lambda d, t, name=s.name: progress(name, d, t))
        results.append(evaluate_setting(s, images, trials, fusion=fusion, probe_mode=probe_mode,
                                        pool=pool, seed=seed, plain=(gen, imp), progress=cb))
    return AccuracyReport(len(images.paths), images.no_face, trials.description, len(trials.enroll),
                          enroll_k, probe_m, fusion, probe_mode, base, results, gen, imp)


def report_lines(r: AccuracyReport) -> list[str]:
    b = r.baseline
    lines = [
        f"images                 {r.images} ({len(r.no_face)} without a detected face)",
        f"trials                 {r.trials}; {r.enrollments} enrollments, fusion {r.fusion}, probes {r.probe_mode}",
        f"plain cosine           accuracy {b['accuracy']:.2%}; TAR at FAR "
        + ", ".join(f"{k}: {v:.2%}" for k, v in b["tar_at_far"].items())
        + f" ({b['genuine_trials']} genuine, {b['impostor_trials']} impostor)",
    ]
    if "tar_at_far0_pair_impostors" in b:
        lines.append(f"plain TAR at FAR 0 over the pairs file's impostor pairs only: {b['tar_at_far0_pair_impostors']:.2%}")
    lines.append(f"{'setting':22s} {'dim':>5s} {'a':>3s} {'bits':>6s} {'TAR':>7s} {'FAR':>10s} "
                 f"{'plainTAR@FAR':>12s} {'genuine':>8s} {'impostor':>10s}")
    for s in r.settings:
        lines.append(f"{s.name:22s} {s.dim:5d} {s.alpha:3d} {s.bits:6.1f} {s.tar:7.2%} "
                     f"{s.far:10.2e} {s.plain_tar_at_same_far:12.2%} {s.genuine_trials:8d} {s.impostor_trials:10d}")
    return lines
