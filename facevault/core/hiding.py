"""Hiding an IronMask helper behind a second factor: store P' = P Q2, with Q2 a Haar-random
orthogonal matrix drawn from a seed that only the second factor gives (Argon2id of the
passphrase, or the device secret).

Why: for any face x, s(x) = <P x, Decode(P x)> equals cos(x, t) for faces that decode and
stays near the random level for the rest, so the plain helper ranks faces for free
(SECURITY-NOTES attack 2). Any Q2 gives an orthogonal P', so P' alone verifies no guess:
without the seed every face scores like a stranger, and each guess of the second factor
costs its KDF before any face can be scored. (A signed permutation of P's rows would not
do: s is invariant under it.)

Q2 is deterministic from the seed on every machine: its Gaussian entries come from
SHAKE-256(seed) through Box-Muller (not numpy's generator, whose streams may change between
versions), then QR with the sign fix that makes it Haar. Floating-point differences between
LAPACK builds are far below what moves a decode.

May import: stdlib, numpy, facevault.core (crypto, ironmask).
"""

from __future__ import annotations

import hashlib

import numpy as np

from facevault.core import ironmask
from facevault.core.crypto import hkdf_sha256

__all__ = ["rotation_seed", "rotation", "hide", "reveal"]

_SEED_INFO = b"FaceVault helper rotation v2"


def rotation_seed(second_factor_key: bytes) -> bytes:
    """32-byte seed of Q2 from a second factor's key material."""
    return hkdf_sha256(second_factor_key, info=_SEED_INFO)


def _gaussians(seed: bytes, count: int) -> np.ndarray:
    raw = hashlib.shake_256(b"FaceVault Q2\x00" + seed).digest(8 * count)
    u = (np.frombuffer(raw, dtype="<u8") >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    half = count // 2
    u1 = np.maximum(u[:half], 1e-300)
    u2 = u[half : 2 * half]
    radius = np.sqrt(-2.0 * np.log(u1))
    out: np.ndarray = np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])
    return out


def rotation(seed: bytes, n: int) -> np.ndarray:
    """(n, n) float64 Haar-random orthogonal matrix determined by `seed`."""
    g = _gaussians(seed, n * n + (n * n) % 2)[: n * n].reshape(n, n)
    q, r = np.linalg.qr(g)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    out: np.ndarray = q * signs
    return out


def hide(helper: ironmask.Helper, seed: bytes) -> ironmask.Helper:
    """P' = P Q2 (stored as float32, like an enrollment's helper)."""
    q2 = rotation(seed, helper.params.dim)
    return ironmask.Helper((helper.matrix.astype(np.float64) @ q2).astype(np.float32), helper.params)


def reveal(hidden: ironmask.Helper, seed: bytes) -> ironmask.Helper:
    """P = P' Q2^T (float64): the helper that decodes, for the right seed only."""
    q2 = rotation(seed, hidden.params.dim)
    return ironmask.Helper(hidden.matrix.astype(np.float64) @ q2.T, hidden.params)
