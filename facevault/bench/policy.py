"""TAR and FAR of candidate codebooks with the shipped unlock policy replayed exactly: for
every attempt, the codeword guesses `facekey.codeword_guesses` makes (the fused probe, then
each frame most-voted first, then list decoding, at most DecodePolicy.max_tries), and an
attempt opens when one of them is the enrolled codeword.

Enrollment is the product's (`ironmask.enroll` of the fused template of K photos). Genuine
attempts: M further photos of the same person. Impostor attempts: every group of M photos
of another person (M = 1: every photo), against every enrollment that has K photos (the
largest impostor set the data allows). The exact replay is run on every attempt that could
possibly produce the codeword (a cheap necessary condition first: the fused probe's top
coordinates miss at most two of the codeword's support, or some frame's miss none); the
others cannot open, by construction of the decoder.

May import: stdlib, numpy, facevault.core, facevault.bench.images, facevault.bench.ranking.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from facevault.bench.images import ImageSet, fuse_embeddings
from facevault.bench.ranking import wilson

__all__ = ["PolicyRow", "run_policy", "policy_lines", "as_dicts", "far_upper"]


def far_upper(accepts: int, trials: int) -> float:
    """One-sided 95% upper bound on a rate (the 3/N rule at 0 accepts; Wilson otherwise)."""
    if trials == 0:
        return 1.0
    if accepts == 0:
        return 3.0 / trials
    return wilson(accepts, trials, z=1.645)[1]


@dataclass(frozen=True)
class PolicyRow:
    alpha: int
    dim: int
    bits: float
    enroll_k: int
    probe_m: int
    genuine: int
    genuine_accepts: int
    tar: float
    tar_low: float  # 95% Wilson lower bound
    enrollments: int
    impostor: int
    impostor_accepts: int
    far: float
    far_upper: float  # one-sided 95% upper bound
    exact_checks: int  # impostor attempts the prefilter passed to the exact replay


def _groups(indices: Sequence[int], m: int) -> list[tuple[int, ...]]:
    return [tuple(indices[i : i + m]) for i in range(0, len(indices) - m + 1, m)]


def _fused(images: ImageSet, groups: Sequence[tuple[int, ...]]) -> np.ndarray:
    x = np.stack([images.vectors[list(g)].mean(axis=0) for g in groups])
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out


def run_policy(images: ImageSet, *, alphas: Sequence[int], enroll_k: int, probe_m: int, seed: int = 0,
               dim: int = 512, max_enrollments: int | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> list[PolicyRow]:
    from facevault.core import facekey, ironmask
    from facevault.core.facekey import DecodePolicy

    policy = DecodePolicy()
    rng = random.Random(seed)
    by_id: dict[str, list[int]] = {}
    for i, ident in enumerate(images.identities):
        by_id.setdefault(ident, []).append(i)
    for v in by_id.values():
        rng.shuffle(v)
    enrolled_ids = sorted(k for k, v in by_id.items() if len(v) >= enroll_k)
    if max_enrollments is not None:
        enrolled_ids = sorted(rng.sample(enrolled_ids, min(max_enrollments, len(enrolled_ids))))
    groups = [(k, g) for k in sorted(by_id) for g in _groups(by_id[k], probe_m)]
    group_ids = np.array([k for k, _g in groups])
    group_sets = [g for _k, g in groups]
    fused = _fused(images, group_sets)
    frame_idx = np.array(group_sets)  # (G, M)
    rows = []
    for alpha in alphas:
        params = ironmask.IronMaskParams(dim, alpha)
        genuine = g_acc = impostors = i_acc = exact = 0
        for done, ident in enumerate(enrolled_ids):
            mine = by_id[ident]
            template = fuse_embeddings(images, mine[:enroll_k])
            helper, codeword = ironmask.enroll(template, params)
            word = codeword.to_bytes()
            for g in _groups(mine[enroll_k:], probe_m):  # genuine attempts
                genuine += 1
                g_acc += word in facekey.codeword_guesses(helper, [images.vectors[i] for i in g], policy)
            others = np.nonzero(group_ids != ident)[0]
            impostors += len(others)
            support = np.asarray(codeword.indices)
            y = np.abs(fused[others] @ helper.matrix.T.astype(np.float64))
            kth = np.partition(y, dim - alpha, axis=1)[:, dim - alpha][:, None]
            miss = alpha - (y[:, support] >= kth).sum(axis=1)
            maybe = miss <= 2
            if probe_m > 1:  # a frame's own decode may hit where the fused probe does not
                for col in range(probe_m):
                    yf = np.abs(images.vectors[frame_idx[others, col]] @ helper.matrix.T.astype(np.float64))
                    kf = np.partition(yf, dim - alpha, axis=1)[:, dim - alpha][:, None]
                    maybe |= (yf[:, support] >= kf).sum(axis=1) == alpha
            for j in np.nonzero(maybe)[0]:
                exact += 1
                frames = [images.vectors[i] for i in group_sets[others[j]]]
                i_acc += word in facekey.codeword_guesses(helper, frames, policy)
            if progress is not None:
                progress(f"a={alpha} K={enroll_k} M={probe_m}", done + 1, len(enrolled_ids))
        tar = g_acc / genuine if genuine else float("nan")
        rows.append(PolicyRow(alpha, dim, ironmask.codebook_bits(dim, alpha), enroll_k, probe_m, genuine, g_acc,
                              tar, wilson(g_acc, genuine)[0] if genuine else float("nan"),
                              len(enrolled_ids), impostors, i_acc, i_acc / impostors if impostors else 0.0,
                              far_upper(i_acc, impostors), exact))
    return rows


def policy_lines(rows: Sequence[PolicyRow]) -> list[str]:
    lines = [f"{'codebook':>10} {'bits':>6} {'K':>2} {'M':>2} {'TAR':>16} {'95% low':>8} "
             f"{'FAR':>22} {'95% upper':>10}"]
    for r in rows:
        lines.append(f"{'C(%d,%d)' % (r.dim, r.alpha):>10} {r.bits:>6.1f} {r.enroll_k:>2} {r.probe_m:>2} "
                     f"{r.genuine_accepts:>5}/{r.genuine:<4} {r.tar:>6.1%} {r.tar_low:>8.1%} "
                     f"{r.impostor_accepts:>5}/{r.impostor:<9} {r.far:>7.1e} {r.far_upper:>10.1e}")
    return lines


def as_dicts(rows: Sequence[PolicyRow]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
