"""Seeded non-linear, almost-isometric expander for the generalised IronMask.

Role: map a unit template t in R^n to a unit vector in R^m (m > n) so that IronMask can use a
higher-dimensional codebook C(m, a) with more noise tolerance per codebook bit (Kim, Seo,
Shin, Pattern Recognition 2025). Every parameter derives from a public 32-byte seed stored with
the helper data; the expander is not secret.

Construction ("mixL", L in (0, 1]): z = W t with W an (m, n) standard Gaussian matrix from
the seed, so z_j ~ N(0, 1) for unit t; each output coordinate is

    f_j = sqrt(L) * z_j + sqrt(1 - L) * (|z_j| - sqrt(2/pi)) / sqrt(1 - 2/pi)

then f is normalised. Both parts have unit variance and are uncorrelated, so
E<f(s), f(t)> = L * rho + (1 - L) * k_abs(rho) for rho = <s, t>, with
k_abs(rho) = ((2/pi)(sqrt(1 - rho^2) + rho * asin(rho)) - 2/pi) / (1 - 2/pi): an even, convex
function with k_abs(0) = 0 and k_abs(1) = 1. L = 1 is a linear (semi-orthogonal up to scale)
expander: its image is an n-dimensional subspace, and the codeword becomes a planted sparse
vector in a known subspace (found in seconds: see facevault.bench.attacks). L < 1 moves a
fraction 1 - L of the energy into |z| features whose span (linear in t t^T, dimension
n(n+1)/2 > m) is all of R^m, so no subspace contains the image. The price: genuine cosines
contract (0.65 -> 0.58 at L = 0.73). How much linear energy an attacker can exploit is measured,
not assumed (BENCHMARKS.md).

May import: the standard library and numpy. Nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ExpanderSpec", "KINDS", "linear_fraction", "gaussian_matrix", "expand", "expected_cosine"]

_ABS_MEAN = math.sqrt(2.0 / math.pi)
_ABS_STD = math.sqrt(1.0 - 2.0 / math.pi)
SEED_SIZE = 32

# kind name -> linear energy fraction L
KINDS: dict[str, float] = {
    "linear": 1.0,
    "mix73": 0.73,  # the linear share of a ReLU feature, for comparison
    "mix50": 0.50,
    "mix35": 0.35,
    "mix25": 0.25,
}


def linear_fraction(kind: str) -> float:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown expander kind {kind!r}; known: {', '.join(KINDS)}") from None


@dataclass(frozen=True)
class ExpanderSpec:
    """kind (see KINDS), input dimension n, output dimension m >= n."""

    kind: str
    in_dim: int
    out_dim: int

    def __post_init__(self) -> None:
        linear_fraction(self.kind)
        for name in ("in_dim", "out_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an int >= 2")
        if self.out_dim < self.in_dim:
            raise ValueError("out_dim must be at least in_dim")


def gaussian_matrix(spec: ExpanderSpec, seed: bytes) -> np.ndarray:
    """(m, n) float64 standard Gaussian matrix, a pure function of the 32-byte seed."""
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_SIZE:
        raise ValueError(f"seed must be {SEED_SIZE} bytes")
    rng = np.random.Generator(np.random.PCG64(int.from_bytes(bytes(seed), "big")))
    return rng.standard_normal((spec.out_dim, spec.in_dim))


def expand(x: np.ndarray, spec: ExpanderSpec, seed: bytes, *, matrix: np.ndarray | None = None) -> np.ndarray:
    """Expand unit rows x (shape (n,) or (k, n)) to unit rows of dimension m.

    `matrix` may pass gaussian_matrix(spec, seed) when expanding many batches."""
    x = np.asarray(x, dtype=np.float64)
    single = x.ndim == 1
    rows = x[None, :] if single else x
    if rows.shape[-1] != spec.in_dim:
        raise ValueError(f"expected {spec.in_dim}-dimensional input, got {rows.shape[-1]}")
    if not np.all(np.isfinite(rows)):
        raise ValueError("input contains non-finite values")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("input contains a zero vector")
    rows = rows / norms
    w = gaussian_matrix(spec, seed) if matrix is None else matrix
    z = rows @ w.T
    lin = linear_fraction(spec.kind)
    f = math.sqrt(lin) * z
    if lin < 1.0:
        f += math.sqrt(1.0 - lin) * (np.abs(z) - _ABS_MEAN) / _ABS_STD
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    out: np.ndarray = f[0] if single else f
    return out


def expected_cosine(kind: str, rho: float) -> float:
    """The large-m limit of <f(s), f(t)> for <s, t> = rho."""
    lin = linear_fraction(kind)
    rho = max(-1.0, min(1.0, rho))
    k_abs = ((2 / math.pi) * (math.sqrt(1 - rho * rho) + rho * math.asin(rho)) - 2 / math.pi) / (1 - 2 / math.pi)
    return lin * rho + (1 - lin) * k_abs
