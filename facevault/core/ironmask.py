"""IronMask fuzzy extractor (Kim et al., CVPR 2021) over unit face embeddings.

Role: Haar-random orthogonal matrices, the plane rotation that builds the helper matrix
P = R Q, decoding (plain and list decoding), and the canonical bytes of helper data
(FORMAT.md "IronMask helper"). The codebook, its presets and codewords live in
facevault.core.codebook and are re-exported here.

May import: the standard library, numpy, facevault.core.codebook and facevault.errors.

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
import struct
from dataclasses import dataclass, field

import numpy as np

from facevault.core.codebook import (
    DEFAULT_PRESET,
    MAX_DIM,
    PRESETS,
    Codeword,
    IronMaskParams,
    codebook_bits,
    random_codeword,
)
from facevault.core.codebook import fresh_generator as _fresh_generator
from facevault.core.codebook import readonly as _readonly
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
    y: np.ndarray = helper.matrix.astype(np.float64) @ t
    return y


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
