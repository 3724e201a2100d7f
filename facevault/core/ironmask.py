"""IronMask fuzzy extractor (Kim et al., CVPR 2021) over unit face embeddings.

Role: the codebook C(n, a), uniform codeword sampling, Haar-random orthogonal matrices,
the plane rotation that builds the helper matrix P = R Q, decoding (plain and list
decoding), and the canonical byte encodings of codewords and helper data.

May import: the standard library, numpy and facevault.errors. Nothing else.

What the helper reveals.  Given the template t and the codeword c, P is uniformly
distributed on {M in O(n) : M t = c} (the left stabiliser of c acts transitively on
that set and P's law is invariant under it). So P tells an attacker exactly that
t lies in the finite set P^T C (|C| = 2^bits) and nothing else; in particular P is
*not* independent of t jointly with c (P^T c = t). Anyone holding P can test a
candidate face by decoding it, which is the false-accept attack: the honest security
level is about -log2(FAR) key-derivation calls, not `bits`.

Randomness.  Codewords come from `secrets`; Q from a numpy Generator (PCG64 seeded
with 256 bits from os.urandom). Tests inject fixed parts through `_enroll_from_parts`.
"""

from __future__ import annotations

import math
import os
import secrets
import struct
from dataclasses import dataclass, field

import numpy as np

from facevault.errors import IntegrityError

__all__ = [
    "MAX_DIM",
    "IronMaskParams",
    "PRESETS",
    "DEFAULT_PRESET",
    "Codeword",
    "Helper",
    "codebook_bits",
    "random_codeword",
    "haar_orthogonal",
    "rotation_matrix",
    "enroll",
    "decode",
    "decode_candidates",
    "candidates_from_projection",
    "helper_to_bytes",
    "helper_from_bytes",
]

# Codeword entries store the index in 15 bits and the sign in the top bit of a uint16.
MAX_DIM = 1 << 15

CODEWORD_VERSION = 1
HELPER_MAGIC = b"FVIM"
HELPER_VERSION = 1
_HELPER_HEADER = struct.Struct(">4sBBHH")  # magic, version, dtype code, n, a
_DTYPE_CODES: dict[int, np.dtype] = {1: np.dtype("<f4"), 2: np.dtype("<f8")}
# Largest accepted relative error ||P^T P x - x|| / ||x|| on load, per storage dtype.
_ORTHO_TOL = {1: 1e-5, 2: 1e-10}  # measured at dim 512: 4e-8 (float32)
_ORTHO_PROBES = 8
# Below this sine the rotation plane is numerically undefined (u = +-c).
_PARALLEL_EPS = 1e-12
MAX_CANDIDATES = 256


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
    # 115.4 bits; the paper's choice. 99.8% at 39 deg, ~50% near 49 deg, ~35% at 50, ~0% at 57.
    "default": IronMaskParams(512, 16),
    # 91.0 bits; tolerates more noise for fewer bits: 99.4% at 45 deg, ~50% near 53.5 deg.
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


@dataclass(frozen=True, eq=False)
class Helper:
    """Public helper data P = R Q.

    matrix: (dim, dim) float32 (what `enroll` produces: 1 MiB at dim 512) or float64,
            orthogonal, read-only. Decoding always computes in float64.
    params: the codebook the helper was made for.
    """

    matrix: np.ndarray = field(repr=False)
    params: IronMaskParams

    def __post_init__(self) -> None:
        if not isinstance(self.params, IronMaskParams):
            raise TypeError("params must be IronMaskParams")
        matrix = np.asarray(self.matrix)
        n = self.params.dim
        if matrix.shape != (n, n):
            raise ValueError(f"matrix must have shape ({n}, {n}), got {matrix.shape}")
        if matrix.dtype not in (np.float32, np.float64):
            raise TypeError("matrix must be float32 or float64")
        object.__setattr__(self, "matrix", _readonly(matrix))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Helper):
            return NotImplemented
        return (
            self.params == other.params
            and self.matrix.dtype == other.matrix.dtype
            and np.array_equal(self.matrix, other.matrix)
        )

    __hash__ = None  # type: ignore[assignment]


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


def haar_orthogonal(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """(n, n) float64 orthogonal matrix, Haar-distributed (Mezzadri 2007).

    QR of a standard Gaussian matrix, with column k multiplied by sign(R[k, k]) so that the
    law does not depend on LAPACK's sign convention. `rng` defaults to a Generator seeded from
    os.urandom(32); pass one only for statistics in tests.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError("n must be a positive int")
    rng = _fresh_generator() if rng is None else rng
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def _unit(vector: np.ndarray, name: str, n: int) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    if vector.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {vector.shape}")
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{name} contains non-finite values")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise ValueError(f"{name} is the zero vector")
    return vector / norm


def _rotation_plane(u: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Unit v orthogonal to u and (cos, sin) with cos*u + sin*v == c (u, c unit, float64).

    When u and c are (numerically) parallel the plane is undefined: for u = c the angle
    is 0; for u = -c any v orthogonal to u gives the half turn.
    """
    cos_raw = float(u @ c)
    w = c - cos_raw * u
    w -= (u @ w) * u
    sin_raw = float(np.linalg.norm(w))
    if sin_raw > _PARALLEL_EPS:
        angle = math.atan2(sin_raw, cos_raw)
        return w / sin_raw, math.cos(angle), math.sin(angle)
    axis = np.zeros_like(u)
    axis[int(np.argmin(np.abs(u)))] = 1.0
    v = axis - (u @ axis) * u
    v /= np.linalg.norm(v)
    return (v, 1.0, 0.0) if cos_raw > 0 else (v, -1.0, 0.0)


def rotation_matrix(u: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Dense (n, n) float64 rotation taking unit u to unit c, fixing span(u, c)'s complement.

    R = I + (cos - 1)(u u^T + v v^T) + sin (v u^T - u v^T). For reference and tests; enrollment
    applies the same rotation as a rank-2 update without forming R.
    """
    n = int(np.asarray(u).size)
    u = _unit(u, "u", n)
    c = _unit(c, "c", n)
    v, cos, sin = _rotation_plane(u, c)
    eye = np.eye(u.size)
    return eye + (cos - 1.0) * (np.outer(u, u) + np.outer(v, v)) + sin * (np.outer(v, u) - np.outer(u, v))


def _enroll_from_parts(template: np.ndarray, codeword: Codeword, q: np.ndarray) -> Helper:
    """P = R Q with R the plane rotation taking Q t to c; the seam for fixed test vectors."""
    params = codeword.params
    n = params.dim
    t = _unit(template, "template", n)
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (n, n):
        raise ValueError(f"q must have shape ({n}, {n})")
    u = q @ t
    u /= np.linalg.norm(u)
    v, cos, sin = _rotation_plane(u, codeword.to_vector())
    # R Q = Q + u ((cos-1) u^T Q - sin v^T Q) + v ((cos-1) v^T Q + sin u^T Q)
    uq = u @ q
    vq = v @ q
    p = q + np.outer(u, (cos - 1.0) * uq - sin * vq) + np.outer(v, (cos - 1.0) * vq + sin * uq)
    return Helper(p.astype(np.float32), params)


def enroll(template: np.ndarray, params: IronMaskParams) -> tuple[Helper, Codeword]:
    """Enroll a (dim,) template (normalised here): fresh codeword c and helper P with P t = c.

    The codeword is the secret: derive keys from `codeword.to_bytes()` and then drop it.
    """
    if not isinstance(params, IronMaskParams):
        raise TypeError("params must be IronMaskParams")
    _unit(template, "template", params.dim)
    codeword = random_codeword(params)
    return _enroll_from_parts(template, codeword, haar_orthogonal(params.dim)), codeword


def _projection(helper: Helper, probe: np.ndarray) -> np.ndarray:
    if not isinstance(helper, Helper):
        raise TypeError("helper must be a Helper")
    t = _unit(probe, "probe", helper.params.dim)
    return helper.matrix.astype(np.float64) @ t


def _ranked(y: np.ndarray) -> np.ndarray:
    """Coordinates by decreasing |y|, ties broken by lower index (deterministic)."""
    return np.argsort(-np.abs(y), kind="stable")


def _codeword_from(y: np.ndarray, chosen: np.ndarray) -> Codeword:
    chosen = np.sort(chosen)
    signs = np.where(y[chosen] < 0, -1, 1).astype(np.int8)
    return Codeword(chosen, signs, y.size)


def decode(helper: Helper, probe: np.ndarray) -> Codeword:
    """c' = Decode(P t'): keep the alpha coordinates of largest |.|, with their signs."""
    y = _projection(helper, probe)
    return _codeword_from(y, _ranked(y)[: helper.params.alpha])


def decode_candidates(helper: Helper, probe: np.ndarray, max_candidates: int = 8) -> list[Codeword]:
    """List decoding: up to `max_candidates` distinct codewords, most likely first.

    Codewords are ranked by their correlation <P t', c'> (maximum likelihood for isotropic
    noise); the first is `decode(helper, probe)`. The others differ from it by one or two
    swaps of a weak kept coordinate for a strong dropped one (with the dropped coordinate's
    sign), drawn from the min(max_candidates - 1, 16) weakest kept and as many strongest
    dropped coordinates. Sign flips are never listed: a flip loses 2|y_i|, more than any swap of i.
    For max_candidates <= 7 the list is exactly the top codewords of the whole codebook (a
    triple swap is beaten by its 7 sub-swaps); beyond that it is a good approximation.
    Every extra candidate multiplies the false-accept rate: keep the list short.
    """
    _check_max_candidates(max_candidates)
    return candidates_from_projection(_projection(helper, probe), helper.params.alpha, max_candidates)


def _check_max_candidates(max_candidates: int) -> None:
    if not isinstance(max_candidates, int) or isinstance(max_candidates, bool):
        raise TypeError("max_candidates must be an int")
    if not 1 <= max_candidates <= MAX_CANDIDATES:
        raise ValueError(f"max_candidates must be in [1, {MAX_CANDIDATES}]")


def candidates_from_projection(y: np.ndarray, alpha: int, max_candidates: int = 8) -> list[Codeword]:
    """`decode_candidates` given y = P t' (float64, (dim,)) instead of the helper and probe:
    the same list, for callers that compute many projections at once (bench accuracy)."""
    _check_max_candidates(max_candidates)
    y = np.asarray(y, dtype=np.float64)
    a = alpha
    order = _ranked(y)
    kept, dropped = order[:a], order[a:]
    depth = min(max_candidates - 1, 16)
    weak = kept[::-1][:depth]  # weakest kept first
    strong = dropped[:depth]  # strongest dropped first
    ws, ss = np.abs(y[weak]), np.abs(y[strong])
    # Every swap as (loss, kept positions out, dropped positions in): singles, then pairs.
    single_loss = (ws[:, None] - ss[None, :]).ravel()
    i1, i2 = np.triu_indices(weak.size, 1)
    j1, j2 = np.triu_indices(strong.size, 1)
    pair_loss = ((ws[i1] + ws[i2])[:, None] - (ss[j1] + ss[j2])[None, :]).ravel()
    losses = np.concatenate([single_loss, pair_loss])
    result = [_codeword_from(y, kept)]
    for flat in np.argsort(losses, kind="stable")[: max_candidates - 1]:
        if flat < single_loss.size:
            out, into = [weak[flat // strong.size]], [strong[flat % strong.size]]
        else:
            row, col = divmod(int(flat) - single_loss.size, j1.size)
            out, into = [weak[i1[row]], weak[i2[row]]], [strong[j1[col]], strong[j2[col]]]
        chosen = np.concatenate([np.setdiff1d(kept, out), into])
        result.append(_codeword_from(y, chosen))
    return result


def helper_to_bytes(helper: Helper) -> bytes:
    """Serialise: b"FVIM" | version u8 (=1) | dtype code u8 | dim u16 BE | alpha u16 BE
    | dim*dim matrix entries, row-major, little-endian (code 1: float32, code 2: float64).
    """
    if not isinstance(helper, Helper):
        raise TypeError("helper must be a Helper")
    code = 1 if helper.matrix.dtype == np.float32 else 2
    head = _HELPER_HEADER.pack(HELPER_MAGIC, HELPER_VERSION, code, helper.params.dim, helper.params.alpha)
    return head + np.ascontiguousarray(helper.matrix, dtype=_DTYPE_CODES[code]).tobytes()


def helper_from_bytes(data: bytes) -> Helper:
    """Parse `helper_to_bytes` output. Raises IntegrityError for wrong magic, version, dtype
    code, parameters or length, and for non-finite or non-orthogonal matrices."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("data must be bytes")
    data = bytes(data)
    if len(data) < _HELPER_HEADER.size:
        raise IntegrityError("Helper data is truncated.")
    magic, version, code, n, a = _HELPER_HEADER.unpack_from(data)
    if magic != HELPER_MAGIC:
        raise IntegrityError("Not FaceVault helper data (bad magic).")
    if version != HELPER_VERSION:
        raise IntegrityError(f"Unknown helper format version {version}.")
    if code not in _DTYPE_CODES:
        raise IntegrityError(f"Unknown helper dtype code {code}.")
    try:
        params = IronMaskParams(n, a)
    except ValueError as exc:
        raise IntegrityError(f"Bad helper parameters: {exc}.") from None
    dtype = _DTYPE_CODES[code]
    if len(data) != _HELPER_HEADER.size + n * n * dtype.itemsize:
        raise IntegrityError("Helper data has the wrong length.")
    matrix = np.frombuffer(data, dtype=dtype, offset=_HELPER_HEADER.size).reshape(n, n)
    if not np.all(np.isfinite(matrix)):
        raise IntegrityError("Helper matrix contains non-finite values.")
    p = matrix.astype(np.float64)
    x = _fresh_generator().standard_normal((n, _ORTHO_PROBES))
    error = np.linalg.norm(p.T @ (p @ x) - x) / np.linalg.norm(x)
    if not error <= _ORTHO_TOL[code]:
        raise IntegrityError("Helper matrix is not orthogonal.")
    return Helper(matrix.astype(dtype.newbyteorder("=")), params)
