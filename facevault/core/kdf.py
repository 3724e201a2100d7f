"""Argon2id key derivation and its cost parameters for FaceVault key slots.

The KDF turns a slot secret (face codeword bytes, recovery code, device secret) into a
32-byte wrapping key. Its parameters are stored beside each slot (13 bytes, see FORMAT.md)
and authenticated as associated data, so they cannot be lowered without detection.

Bounds: memory_kib >= 8192 (8 MiB, the floor we accept from disk and the size tests use),
time_cost >= 1, parallelism 1..16. Upper bounds (memory 4 GiB, time 64) stop a hostile
file from making us allocate or spin forever.

May import: stdlib, argon2 (argon2-cffi), facevault.errors.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

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
    """Seconds one derive_key call takes with `params` on this machine."""
    start = time.perf_counter()
    derive_key(b"calibration secret", bytes(SALT_SIZE), params)
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
    if not 0.0 < target_seconds <= 10.0:
        raise ValueError("target_seconds must be in (0, 10]")
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
