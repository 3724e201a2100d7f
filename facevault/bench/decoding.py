"""IronMask decoding at scale for the benchmarks: TAR and FAR of one setting over every
genuine and impostor probe group of a set of trials.

An enrollment is IronMask's P = R Q with Q Haar and R the plane rotation taking Q t to c
(`ironmask._enroll_from_parts`). For a fixed Q, decoding N probes is Q @ probes.T (one
product for all enrollments sharing Q) followed by R as a rank-2 update and a top-alpha test
per column, so millions of impostor decodes are cheap. Enrollments draw Q from a small
seeded pool (each trial's law is exact; trials sharing a Q are correlated, which widens but
does not bias the estimate). A spot check rebuilds real helpers with the app's enrollment
and decodes with the app's decoder, and counts disagreements (reported, expected 0). List
decoding uses `ironmask.candidates_from_projection`, the code the app runs. Codewords and Q
here are benchmark values from a seeded generator, not secrets.

May import: stdlib, numpy, facevault.core, facevault.bench.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from facevault.bench.images import ImageSet, fuse_embeddings
from facevault.bench.scoring import tar_at_far
from facevault.bench.trials import Trials, _impostor_columns
from facevault.core import ironmask

__all__ = ["Setting", "SettingResult", "evaluate_setting", "default_settings", "far_upper"]


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


def _expand(setting: Setting, x: np.ndarray, seed: bytes | None) -> np.ndarray:
    if setting.expander is None:
        return x
    from facevault.bench import expander

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
    accepted: np.ndarray = ok
    return accepted


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
        return float(1.0 - 0.05 ** (1.0 / trials))
    # Wilson-style bound is enough for reporting
    p = accepts / trials
    z = 1.645
    return float(min(1.0, p + z * math.sqrt(p * (1 - p) / trials) + z * z / (2 * trials)))


def default_settings() -> list[Setting]:
    """Every preset of the app (ironmask.PRESETS) as a setting."""
    out = []
    for name, p in ironmask.PRESETS.items():
        out.append(Setting(name, p.dim, p.alpha, getattr(p, "expander", None)))
    return out




far_upper = _far_upper
