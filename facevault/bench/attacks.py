"""Attacks measured on the product's own helper data.

Role:
- `dictionary_rows`: the false-accept (dictionary) attack per setting: expected guesses 1/FAR
  (the 95% upper FAR bound when no false accept was seen, i.e. a lower bound on the work) times
  one Argon2id derivation at the default cost measured here (core/kdf.py DEFAULT_PARAMS).
- `subspace_attack`: the planted-sparse-vector attack on an expanded IronMask. The linear part
  of the expander spans a known n-dimensional subspace U = span(P W) of R^m; starting from s
  guessed support coordinates (given by an oracle here, so the measured rate is the rate *given
  a right guess*), alternate "project on U" and "keep the top a coordinates with their signs".
  Work = binom(m, s) 2^s / success rate starts.
- `multisketch_attack`: Zhu & Wang's probabilistic linear regression (PoPETs 2025) on k helpers
  of the same face enrolled from captures `angle` degrees apart: choose r rows of the stacked
  helpers, hope none is on a codeword's support (rows off the support satisfy P_j t ~ 0), solve
  for t by least squares, decode. We measure the success rate when the rows are right (oracle
  row choice, full scale n = 512, a = 16) and multiply by the exact probability that random rows
  are right; the product is the expected number of trials.

Enrollments use `ironmask._enroll_from_parts` (the app's enrollment) with Haar Q from a seeded
generator; templates are synthetic unit vectors or given embeddings. Nothing here is a secret.

May import: stdlib, numpy, facevault.core.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from typing import Any

import numpy as np

from facevault.core import ironmask

__all__ = [
    "DictionaryRow",
    "dictionary_rows",
    "SubspaceResult",
    "subspace_attack",
    "MultiSketchResult",
    "multisketch_attack",
    "log2_comb",
    "AssistedResult",
    "assisted_attack",
]


def log2_comb(n: int, k: int) -> float:
    return math.log2(math.comb(n, k)) if 0 <= k <= n else float("-inf")


@dataclass(frozen=True)
class DictionaryRow:
    name: str
    bits: float
    far: float
    far_used: float  # far, or its 95% upper bound when no false accept was observed
    kdf_seconds: float
    log2_guesses: float
    seconds: float  # expected seconds on one machine like this one (one KDF call per guess)


def dictionary_rows(settings: Sequence[dict[str, Any]], kdf_seconds: float) -> list[DictionaryRow]:
    """settings: dicts with name, bits, far, far_upper_95 (a bench accuracy JSON's settings)."""
    rows = []
    for s in settings:
        far = float(s["far"])
        used = far if far > 0 else float(s["far_upper_95"])
        rows.append(DictionaryRow(s["name"], float(s["bits"]), far, used, kdf_seconds,
                                  -math.log2(used), kdf_seconds / used))
    return rows


def _quantize(x: np.ndarray, a: int) -> np.ndarray:
    """Columns of x -> nearest codewords (top a |entries| with signs), as float vectors."""
    idx = np.argpartition(-np.abs(x), a - 1, axis=0)[:a]
    out = np.zeros_like(x)
    cols = np.arange(x.shape[1])[None, :]
    out[idx, cols] = np.sign(x[idx, cols]) / math.sqrt(a)
    return out


@dataclass(frozen=True)
class SubspaceResult:
    kind: str
    refit: bool
    dim: int
    alpha: int
    guessed: int  # s: support coordinates given to the attacker
    trials: int
    successes: int
    subspace_energy: float  # ||Proj_U c||^2 (a random unit vector: n/m)
    log2_work: float  # log2(binom(m, s) 2^s / rate), inf when never successful


def _refit(cur: np.ndarray, p: np.ndarray, w: np.ndarray, lin: float, steps: int = 2) -> np.ndarray:
    """Attacker's non-linear step: for each column q (a codeword guess), fit t with
    f(t) ~ P^T q by Gauss-Newton on the known expander, and return P f(t)."""
    target = p.T @ cur  # (m, k) points in expanded space
    t = np.linalg.lstsq(w, target, rcond=None)[0]  # start from the linear part
    mu, sd = math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)
    for _ in range(steps):
        z = w @ t
        h = math.sqrt(lin) * z + math.sqrt(1 - lin) * (np.abs(z) - mu) / sd
        scale = np.linalg.norm(h, axis=0) / np.maximum(np.linalg.norm(target, axis=0), 1e-12)
        for k in range(t.shape[1]):
            d = math.sqrt(lin) + math.sqrt(1 - lin) * np.sign(z[:, k]) / sd
            step = np.linalg.lstsq(d[:, None] * w, scale[k] * target[:, k] - h[:, k], rcond=None)[0]
            t[:, k] += step
    t /= np.linalg.norm(t, axis=0, keepdims=True)
    out: np.ndarray = p @ _expand_with(t.T, w, lin).T
    return out


def _expand_with(t: np.ndarray, w: np.ndarray, lin: float) -> np.ndarray:
    z = t @ w.T
    f = math.sqrt(lin) * z
    if lin < 1.0:
        f += math.sqrt(1 - lin) * (np.abs(z) - math.sqrt(2 / math.pi)) / math.sqrt(1 - 2 / math.pi)
    out: np.ndarray = f / np.linalg.norm(f, axis=1, keepdims=True)
    return out


def subspace_attack(kind: str, dim: int, alpha: int, templates: np.ndarray, *, guessed: Sequence[int] = (1, 2, 3),
                    starts: int = 16, iterations: int = 12, seed: int = 0,
                    refit: bool = False) -> list[SubspaceResult]:
    """Run the planted-sparse-vector attack against helpers of `templates` (unit rows, 512-D).

    refit=False: alternate projection on U = span(P W) and quantisation (uses only the
    expander's linear part). refit=True: replace the projection by a Gauss-Newton fit of a
    template through the known non-linear expander (the attacker knows the seed)."""
    from facevault.bench import expander

    rng = np.random.default_rng(seed)
    ironmask.IronMaskParams(dim, alpha)  # validates dim and alpha
    spec = expander.ExpanderSpec(kind, templates.shape[1], dim)
    results = []
    stats = {s: [0, 0] for s in guessed}
    energy = []
    for t in templates:
        exp_seed = rng.bytes(32)
        w = expander.gaussian_matrix(spec, exp_seed)
        x = expander.expand(t, spec, exp_seed, matrix=w)
        word = ironmask.Codeword(np.sort(rng.choice(dim, alpha, replace=False)),
                                 rng.choice(np.array([-1, 1], np.int8), alpha), dim)
        helper = ironmask._enroll_from_parts(x, word, ironmask.haar_orthogonal(dim, rng))
        p = helper.matrix.astype(np.float64)
        basis, _ = np.linalg.qr(p @ w)  # what the attacker computes from public data
        c = word.to_vector()
        energy.append(float(np.sum((basis.T @ c) ** 2)))
        for s in guessed:
            x0 = np.zeros((dim, starts))
            for k in range(starts):
                pick = rng.choice(alpha, s, replace=False)
                x0[word.indices[pick], k] = word.signs[pick]
            lin = expander.linear_fraction(kind)
            def step(q: np.ndarray, p: np.ndarray = p, w: np.ndarray = w, lin: float = lin,
                     basis: np.ndarray = basis) -> np.ndarray:
                return _refit(q, p, w, lin) if refit else basis @ (basis.T @ q)

            cur = step(x0 / math.sqrt(alpha))
            for _ in range(iterations):
                cur = step(_quantize(cur, alpha))
            ok = np.all(np.abs(_quantize(cur, alpha) - c[:, None]) < 1e-9, axis=0)
            stats[s][0] += int(ok.sum())
            stats[s][1] += starts
    for s in guessed:
        hit, n = stats[s]
        rate = hit / n if n else 0.0
        # enumerate s coordinates and signs; binom(a, s) of those starts are right guesses
        work = (log2_comb(dim, s) + s - log2_comb(alpha, s) - math.log2(rate)) if rate > 0 else float("inf")
        results.append(SubspaceResult(kind, refit, dim, alpha, s, n, hit, float(np.mean(energy)), work))
    return results


@dataclass(frozen=True)
class MultiSketchResult:
    sketches: int  # k helpers of the same face
    angle_deg: float  # angle between the enrollment templates
    rows: int  # r equations used per trial
    oracle_trials: int
    oracle_successes: int  # right rows given: did least squares + decode find c_1?
    log2_p_rows: float  # log2 probability that r random rows avoid every support
    log2_trials: float  # expected trials: -(log2_p_rows + log2 oracle rate); inf if never


def _noisy(t: np.ndarray, deg: float, rng: np.random.Generator) -> np.ndarray:
    n = rng.standard_normal(t.size)
    n -= (n @ t) * t
    n /= np.linalg.norm(n)
    th = math.radians(deg)
    return math.cos(th) * t + math.sin(th) * n


def multisketch_attack(n: int, alpha: int, sketches: int, angle_deg: float, rows: int, *,
                       trials: int = 8, seed: int = 0) -> MultiSketchResult:
    """Zhu-Wang linear regression with oracle row choice at full scale; see the module doc.

    Enrollment templates are drawn `angle_deg / sqrt(2)` from a common centre in independent
    directions, so two of them are about `angle_deg` apart."""
    rng = np.random.default_rng(seed)
    ironmask.IronMaskParams(n, alpha)  # validates n and alpha
    hits = 0
    for _ in range(trials):
        centre = rng.standard_normal(n)
        centre /= np.linalg.norm(centre)
        helpers, words = [], []
        for _ in range(sketches):
            t = _noisy(centre, angle_deg / math.sqrt(2), rng) if angle_deg > 0 else centre
            word = ironmask.Codeword(np.sort(rng.choice(n, alpha, replace=False)),
                                     rng.choice(np.array([-1, 1], np.int8), alpha), n)
            helpers.append(ironmask._enroll_from_parts(t, word, ironmask.haar_orthogonal(n, rng)))
            words.append(word)
        off = [np.setdiff1d(np.arange(n), w.indices) for w in words]
        pool = np.concatenate([h.matrix.astype(np.float64)[o] for h, o in zip(helpers, off)])
        chosen = pool[rng.choice(pool.shape[0], min(rows, pool.shape[0]), replace=False)]
        _, _, vt = np.linalg.svd(chosen, full_matrices=True)
        guess = vt[-1]
        for cand in (guess, -guess):
            if ironmask.decode(helpers[0], cand) == words[0]:
                hits += 1
                break
    total, bad = sketches * n, sketches * alpha
    log2_p = log2_comb(total - bad, rows) - log2_comb(total, rows)
    rate = hits / trials
    log2_t = -(log2_p + math.log2(rate)) if rate > 0 else float("inf")
    return MultiSketchResult(sketches, angle_deg, rows, trials, hits, log2_p, log2_t)


@dataclass(frozen=True)
class AssistedResult:
    kind: str
    dim: int
    alpha: int
    enrollments: int
    faces_per_enrollment: int  # the most similar other-identity faces, out of `pool`
    pool: int
    plain_hits: int  # faces whose plain decode gives the codeword
    refit_hits: int  # faces that reach it after refit iterations started from the face
    refit_far_lower: float  # refit_hits / (enrollments * pool): a lower bound on the attacker's FAR


def assisted_attack(kind: str, dim: int, alpha: int, templates: np.ndarray, impostors: Sequence[np.ndarray],
                    *, faces: int = 32, iterations: int = 6, seed: int = 0) -> AssistedResult:
    """Dictionary attack with iterative refinement: start the refit iteration from each of the
    `faces` impostor faces most similar to the template (of impostors[i], the other-identity
    faces for templates[i]), instead of plain decoding. Any success among the top `faces` of a
    pool of N faces is a FAR of at least successes / N for an attacker who tries every face."""
    from facevault.bench import expander

    rng = np.random.default_rng(seed)
    spec = expander.ExpanderSpec(kind, templates.shape[1], dim)
    lin = expander.linear_fraction(kind)
    plain_hits = refit_hits = 0
    pool = 0
    for t, imp in zip(templates, impostors):
        exp_seed = rng.bytes(32)
        w = expander.gaussian_matrix(spec, exp_seed)
        word = ironmask.Codeword(np.sort(rng.choice(dim, alpha, replace=False)),
                                 rng.choice(np.array([-1, 1], np.int8), alpha), dim)
        helper = ironmask._enroll_from_parts(expander.expand(t, spec, exp_seed, matrix=w), word,
                                             ironmask.haar_orthogonal(dim, rng))
        p = helper.matrix.astype(np.float64)
        c = word.to_vector()
        top = imp[np.argsort(-(imp @ t))[:faces]]
        pool = imp.shape[0]
        cur = p @ expander.expand(top, spec, exp_seed, matrix=w).T
        plain_hits += int(np.all(np.abs(_quantize(cur, alpha) - c[:, None]) < 1e-9, axis=0).sum())
        for _ in range(iterations):
            cur = _refit(_quantize(cur, alpha), p, w, lin)
        refit_hits += int(np.all(np.abs(_quantize(cur, alpha) - c[:, None]) < 1e-9, axis=0).sum())
    n = len(templates)
    return AssistedResult(kind, dim, alpha, n, faces, pool, plain_hits, refit_hits,
                          refit_hits / max(1, n * pool))
