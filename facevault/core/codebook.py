"""The IronMask codebook C(n, a): unit vectors with exactly a non-zero entries +-1/sqrt(a),
its parameters and shipped presets, codewords with their canonical bytes, and drawing a
codeword uniformly with `secrets`.

May import: the standard library, numpy and facevault.errors.
"""

from __future__ import annotations

import math
import os
import secrets
import struct
from dataclasses import dataclass, field

import numpy as np

from facevault.errors import IntegrityError

__all__ = ["MAX_DIM", "CODEWORD_VERSION", "IronMaskParams", "PRESETS", "DEFAULT_PRESET",
           "Codeword", "codebook_bits", "random_codeword", "fresh_generator", "readonly"]

# Codeword entries store the index in 15 bits and the sign in the top bit of a uint16.
MAX_DIM = 1 << 15
CODEWORD_VERSION = 1


def codebook_bits(n: int, a: int) -> float:
    """log2 |C(n, a)| = log2(binom(n, a) * 2^a), from the exact integer."""
    _check_dims(n, a)
    return math.log2(math.comb(n, a)) + a


def _check_dims(n: int, a: int) -> None:
    for name, value in (("dim", n), ("alpha", a)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 2 <= n <= MAX_DIM:
        raise ValueError(f"dim must be in [2, {MAX_DIM}], got {n}")
    if not 1 <= a <= n:
        raise ValueError(f"alpha must be in [1, dim={n}], got {a}")


@dataclass(frozen=True)
class IronMaskParams:
    """Codebook C(dim, alpha): unit vectors with exactly `alpha` entries +-1/sqrt(alpha)."""

    dim: int
    alpha: int

    def __post_init__(self) -> None:
        _check_dims(self.dim, self.alpha)

    @property
    def bits(self) -> float:
        """log2 of the codebook size (brute-force cost in codewords, not the FAR bound)."""
        return codebook_bits(self.dim, self.alpha)


# Tolerance figures: isotropic-noise simulation, angle between enrollment and probe
# at which plain decoding succeeds about half the time. Real faces are not isotropic.
PRESETS: dict[str, IronMaskParams] = {
    # 84.6 bits; chosen by measurement (`facevault bench policy`, docs/BENCHMARKS.md): with the
    # shipped unlock policy on lfw-dev it opened for 97.6% of single photos (3-photo
    # enrollment, 328 attempts) at a FAR of 3.5e-6 (95% upper bound 6.4e-6, 2.0 M impostor
    # attempts), where C(512,16) opened for 88.7% at the same FAR. Its bits only need to
    # put brute force out of reach: 2^83.6 guesses at ~0.1 ms each are 10^13 years.
    "default": IronMaskParams(512, 11),
    # 115.4 bits; the IronMask paper's choice and FaceVault's default before format 2 (vaults
    # made with it keep opening). 99.8% at 39 deg, ~50% near 49 deg, ~0% at 57.
    "paper": IronMaskParams(512, 16),
    # 91.0 bits: 99.4% at 45 deg, ~50% near 53.5 deg (kept: vaults made with it keep opening).
    "tolerant": IronMaskParams(512, 12),
    # 138.4 bits; needs closer probes: 99.7% at 36 deg, ~50% near 45 deg.
    "strict": IronMaskParams(512, 20),
}
DEFAULT_PRESET = "default"


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Codeword:
    """One codeword of C(dim, a), a = len(indices).

    indices: (a,) int64, strictly increasing, each in [0, dim).
    signs:   (a,) int8, each +1 or -1; entry k of the vector is signs[k] / sqrt(a).

    Canonical bytes (`to_bytes`), 5 + 2a bytes:
        version u8 (=1) | dim u16 BE | a u16 BE | a entries u16 BE,
        entry = index | 0x8000 if the sign is negative, entries in increasing index order.
    `from_bytes` accepts only that exact form, so parse-then-serialise is the identity.
    Equality and hashing use the canonical bytes; repr shows only dim (the codeword is secret).
    """

    indices: np.ndarray = field(repr=False)  # the secret: kept out of repr and logs
    signs: np.ndarray = field(repr=False)
    dim: int
    _encoded: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        indices = np.asarray(self.indices)
        signs = np.asarray(self.signs)
        if indices.ndim != 1 or signs.shape != indices.shape:
            raise ValueError("indices and signs must be 1-D arrays of the same length")
        if indices.dtype.kind not in "iu" or signs.dtype.kind not in "iu":
            raise TypeError("indices and signs must be integer arrays")
        _check_dims(self.dim, int(indices.size))
        if np.any(np.diff(indices) <= 0):
            raise ValueError("indices must be strictly increasing")
        if indices[0] < 0 or indices[-1] >= self.dim:
            raise ValueError(f"indices must lie in [0, {self.dim})")
        if not np.all(np.abs(signs) == 1):
            raise ValueError("signs must be +1 or -1")
        object.__setattr__(self, "indices", _readonly(indices.astype(np.int64)))
        object.__setattr__(self, "signs", _readonly(signs.astype(np.int8)))
        words = self.indices.astype(np.uint16) | np.where(self.signs < 0, 0x8000, 0).astype(np.uint16)
        head = struct.pack(">BHH", CODEWORD_VERSION, self.dim, self.indices.size)
        object.__setattr__(self, "_encoded", head + words.astype(">u2").tobytes())

    @property
    def alpha(self) -> int:
        return int(self.indices.size)

    @property
    def params(self) -> IronMaskParams:
        return IronMaskParams(self.dim, self.alpha)

    def to_vector(self) -> np.ndarray:
        """(dim,) float64 unit vector."""
        vector = np.zeros(self.dim, dtype=np.float64)
        vector[self.indices] = self.signs / math.sqrt(self.alpha)
        return vector

    def to_bytes(self) -> bytes:
        return self._encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> "Codeword":
        """Parse canonical bytes; anything else raises IntegrityError."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes")
        data = bytes(data)
        if len(data) < 5:
            raise IntegrityError("Codeword data is truncated.")
        version, dim, a = struct.unpack_from(">BHH", data)
        if version != CODEWORD_VERSION:
            raise IntegrityError(f"Unknown codeword format version {version}.")
        if len(data) != 5 + 2 * a:
            raise IntegrityError("Codeword data has the wrong length.")
        words = np.frombuffer(data, dtype=">u2", offset=5).astype(np.int64)
        try:
            codeword = cls(words & 0x7FFF, np.where(words & 0x8000, -1, 1), dim)
        except ValueError as exc:
            raise IntegrityError(f"Codeword data is not canonical: {exc}.") from None
        if codeword.to_bytes() != data:
            raise IntegrityError("Codeword data is not canonical.")
        return codeword

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codeword):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)


def _fresh_generator() -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(int.from_bytes(os.urandom(32), "big")))


def random_codeword(params: IronMaskParams) -> Codeword:
    """A codeword drawn uniformly from C(params) with the `secrets` module."""
    if not isinstance(params, IronMaskParams):
        raise TypeError("params must be IronMaskParams")
    chosen = sorted(secrets.SystemRandom().sample(range(params.dim), params.alpha))
    bits = secrets.randbits(params.alpha)
    signs = [-1 if (bits >> k) & 1 else 1 for k in range(params.alpha)]
    return Codeword(np.array(chosen, dtype=np.int64), np.array(signs, dtype=np.int8), params.dim)


fresh_generator = _fresh_generator
readonly = _readonly
