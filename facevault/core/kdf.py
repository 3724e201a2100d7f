"""Argon2id key derivation and its cost parameters for FaceVault key slots.

The KDF turns a slot secret (face codeword bytes, recovery code, device secret) into a
32-byte wrapping key. Its parameters are stored beside each slot (13 bytes, see FORMAT.md)
and authenticated as associated data, so they cannot be lowered without detection.

Bounds: memory_kib >= 8192 (8 MiB, the floor we accept from disk and the size tests use),
time_cost >= 1, parallelism 1..16. Upper bounds (memory 4 GiB, time 64) stop a hostile
file from making us allocate or spin forever. Within them a hostile slot could still ask
for an hour of work per unlock (32 slots x 4 tries x t=64 at 4 GiB), so `derive_key`
first estimates the cost on this machine (one 8 MiB pass, measured once per process) and
refuses (IntegrityError: exit 3) a derivation estimated above MAX_SECONDS or needing more
than half this computer's memory; `unlock_budget()` caps the sum over one unlock.

May import: stdlib, argon2 (argon2-cffi), facevault.errors.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from facevault.errors import IntegrityError

__all__ = [
    "ALGORITHM_ARGON2ID",
    "ALGORITHM_NONE",
    "NO_KDF",
    "PARAMS_SIZE",
    "SALT_SIZE",
    "MIN_MEMORY_KIB",
    "MAX_MEMORY_KIB",
    "MAX_TIME_COST",
    "MAX_PARALLELISM",
    "KdfParams",
    "DEFAULT_PARAMS",
    "TEST_PARAMS",
    "derive_key",
    "MAX_SECONDS",
    "UNLOCK_BUDGET_SECONDS",
    "estimate_seconds",
    "check_affordable",
    "unlock_budget",
    "measure",
    "calibrate",
]

ALGORITHM_ARGON2ID = 0x02  # Argon2id, version 0x13
ALGORITHM_NONE = 0x01  # version-2 slots of high-entropy secrets: HKDF only
PARAMS_SIZE = 13
SALT_SIZE = 16
KEY_SIZE = 32
MIN_MEMORY_KIB = 8 * 1024
MAX_MEMORY_KIB = 4 * 1024 * 1024
MAX_TIME_COST = 64
MAX_PARALLELISM = 16

_ARGON2_VERSION = 0x13  # the only version we write or read (RFC 9106)

_STRUCT = struct.Struct(">BIII")


@dataclass(frozen=True)
class KdfParams:
    """Argon2id (v0x13) cost: passes over memory, memory in KiB, lanes.

    `algorithm` ALGORITHM_NONE (version-2 slots only, `NO_KDF`) means no stretching: the
    slot's secret is already high-entropy (a codeword, a recovery code, a device secret)
    and goes straight into HKDF; its three cost fields are then 0.
    """

    time_cost: int
    memory_kib: int
    parallelism: int
    algorithm: int = ALGORITHM_ARGON2ID

    @property
    def stretches(self) -> bool:
        return self.algorithm == ALGORITHM_ARGON2ID

    def __post_init__(self) -> None:
        for name in ("time_cost", "memory_kib", "parallelism", "algorithm"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int")
        if self.algorithm == ALGORITHM_NONE:
            if (self.time_cost, self.memory_kib, self.parallelism) != (0, 0, 0):
                raise ValueError("no KDF has no cost parameters")
            return
        if self.algorithm != ALGORITHM_ARGON2ID:
            raise ValueError(f"unknown KDF algorithm {self.algorithm}")
        if not 1 <= self.time_cost <= MAX_TIME_COST:
            raise ValueError(f"time_cost must be between 1 and {MAX_TIME_COST}")
        if not MIN_MEMORY_KIB <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"memory_kib must be between {MIN_MEMORY_KIB} and {MAX_MEMORY_KIB}")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise ValueError(f"parallelism must be between 1 and {MAX_PARALLELISM}")

    def describe(self) -> str:
        if not self.stretches:
            return "no key stretching (a high-entropy secret)"
        return f"Argon2id t={self.time_cost} m={self.memory_kib // 1024} MiB p={self.parallelism}"

    def to_bytes(self) -> bytes:
        """13 bytes: algorithm id (0x02 Argon2id, 0x01 none), then uint32 BE time_cost,
        memory_kib, parallelism (all 0 for none)."""
        return _STRUCT.pack(self.algorithm, self.time_cost, self.memory_kib, self.parallelism)

    @classmethod
    def from_bytes(cls, data: bytes, *, allow_none: bool = False) -> "KdfParams":
        """Parse to_bytes output; raises IntegrityError on anything else. `allow_none`:
        accept algorithm 0x01 (version-2 slots)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if len(data) != PARAMS_SIZE:
            raise IntegrityError("KDF parameters have the wrong length.")
        algorithm, t, m, p = _STRUCT.unpack(bytes(data))
        allowed = (ALGORITHM_ARGON2ID, ALGORITHM_NONE) if allow_none else (ALGORITHM_ARGON2ID,)
        if algorithm not in allowed:
            raise IntegrityError(f"Unknown KDF algorithm id {algorithm}.")
        try:
            return cls(time_cost=t, memory_kib=m, parallelism=p, algorithm=algorithm)
        except ValueError as exc:
            raise IntegrityError(f"KDF parameters out of range: {exc}.") from None


# Measured on the 2-core development machine, 64 MiB, p=2: about 0.03-0.05 s per pass.
# t=8: 0.25-0.33 s lightly loaded, 0.46 s at load average 4 (what calibrate(0.5) chose then);
# t=10: 0.45-0.66 s. t=8 stays in the 0.3-0.5 s band. `calibrate()` adapts per machine.
DEFAULT_PARAMS = KdfParams(time_cost=8, memory_kib=64 * 1024, parallelism=2)
NO_KDF = KdfParams(0, 0, 0, ALGORITHM_NONE)
TEST_PARAMS = KdfParams(time_cost=1, memory_kib=MIN_MEMORY_KIB, parallelism=1)


MAX_SECONDS = 15.0
"""One derivation estimated above this on this machine is refused: a vault made with
`calibrate` (at most 5 s where it was made) still opens on a computer 3x slower."""
UNLOCK_BUDGET_SECONDS = 30.0
"""The estimated Argon2id work one unlock (or one file decryption) may spend in total."""

_PER_KIB_PASS: list[float] = []
_BUDGET: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("kdf_budget", default=None)


def _seconds_per_kib_pass() -> float:
    if not _PER_KIB_PASS:
        probe = KdfParams(time_cost=1, memory_kib=MIN_MEMORY_KIB, parallelism=1)
        _PER_KIB_PASS.append(min(_timed(probe) for _ in range(2)) / MIN_MEMORY_KIB)
    return _PER_KIB_PASS[0]


def estimate_seconds(params: KdfParams) -> float:
    """About how long one derivation with `params` takes here (lanes run on this machine's
    cores in parallel); 0 for NO_KDF."""
    if not params.stretches:
        return 0.0
    lanes = max(1, min(params.parallelism, os.cpu_count() or 1))
    return params.time_cost * params.memory_kib * _seconds_per_kib_pass() / lanes


def _physical_kib() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_affordable(params: KdfParams) -> float:
    """The estimated seconds of one derivation, or IntegrityError when this computer cannot
    run it in a few seconds (or at all: more than half its memory), charged to the current
    `unlock_budget`."""
    if not params.stretches:
        return 0.0
    physical = _physical_kib()
    if physical is not None and params.memory_kib > physical // 2:
        raise IntegrityError(
            f"a key slot asks for {params.describe()}: more memory than this computer can spare "
            f"({physical // 2048} MiB); refused",
            hint="A vault FaceVault made never asks for this; the folder may have been tampered with.")
    seconds = estimate_seconds(params)
    if seconds > MAX_SECONDS:
        raise IntegrityError(
            f"a key slot asks for {params.describe()}, about {seconds:.0f} s of work on this "
            f"computer (at most {MAX_SECONDS:.0f} s is accepted); refused",
            hint="A vault FaceVault made never asks for this; the folder may have been tampered with.")
    spent = _BUDGET.get()
    if spent is not None:
        if spent[0] + seconds > UNLOCK_BUDGET_SECONDS:
            raise IntegrityError(
                f"the vault's key slots ask for more than {UNLOCK_BUDGET_SECONDS:.0f} s of key "
                "stretching for one unlock; refused",
                hint="A vault FaceVault made never asks for this; the folder may have been tampered with.")
        spent[0] += seconds
    return seconds


@contextlib.contextmanager
def unlock_budget(seconds: float = UNLOCK_BUDGET_SECONDS) -> Iterator[None]:
    """Inside: the derivations of one unlock share UNLOCK_BUDGET_SECONDS (nested budgets
    charge the outermost)."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set([UNLOCK_BUDGET_SECONDS - seconds])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def derive_key(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    """Argon2id(secret, salt) -> 32 bytes. `salt` is 16 random bytes stored beside the slot."""
    if not isinstance(secret, (bytes, bytearray)):
        raise TypeError(f"secret must be bytes, not {type(secret).__name__}")
    if not isinstance(salt, (bytes, bytearray)):
        raise TypeError(f"salt must be bytes, not {type(salt).__name__}")
    if not isinstance(params, KdfParams):
        raise TypeError("params must be a KdfParams")
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes")
    if len(secret) == 0:
        raise ValueError("secret must not be empty")
    if not params.stretches:
        raise ValueError("derive_key needs Argon2id parameters (NO_KDF means: use the secret as is)")
    check_affordable(params)
    return _raw(secret, salt, params)


def _raw(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    try:
        return _hash(secret, salt, params)
    except HashingError as exc:  # argon2 could not allocate or run these parameters
        raise IntegrityError(f"key stretching failed with {params.describe()}: {exc}") from None


def _hash(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=bytes(secret),
        salt=bytes(salt),
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_SIZE,
        type=Type.ID,
        version=_ARGON2_VERSION,
    )


def measure(params: KdfParams) -> float:
    """Seconds one derivation with `params` takes on this machine (no affordability check:
    the caller chose the parameters)."""
    return _timed(params)


def _timed(params: KdfParams) -> float:
    start = time.perf_counter()
    _raw(b"calibration secret", bytes(SALT_SIZE), params)
    return time.perf_counter() - start


def calibrate(
    target_seconds: float = 0.5, min_memory_kib: int = 65536, parallelism: int = 2
) -> KdfParams:
    """Pick KdfParams whose derivation takes about `target_seconds` here (LUKS2-style).

    Memory stays at `min_memory_kib`; time_cost is scaled from one measured pass (at most
    three measurements, so running time is bounded by a few times the target). The result
    is never cheaper than time_cost 1 at `min_memory_kib`.
    """
    if not isinstance(target_seconds, (int, float)) or isinstance(target_seconds, bool):
        raise TypeError("target_seconds must be a number")
    if not 0.0 < target_seconds <= 5.0:
        raise ValueError("target_seconds must be in (0, 5]")
    probe = KdfParams(time_cost=1, memory_kib=min_memory_kib, parallelism=parallelism)
    per_pass = min(measure(probe) for _ in range(2))
    time_cost = max(1, min(MAX_TIME_COST, round(target_seconds / max(per_pass, 1e-6))))
    params = KdfParams(time_cost=time_cost, memory_kib=min_memory_kib, parallelism=parallelism)
    if time_cost > 1:
        # One check at the chosen cost: a pass is not exactly linear in time_cost.
        elapsed = measure(params)
        scaled = max(1, min(MAX_TIME_COST, round(time_cost * target_seconds / elapsed)))
        params = KdfParams(time_cost=scaled, memory_kib=min_memory_kib, parallelism=parallelism)
    return params
