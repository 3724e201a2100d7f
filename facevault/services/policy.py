"""The policy both front ends follow: how many frames make an enrollment or an unlock, how
long the live unlock waits, and how the key-derivation cost of new slots is chosen.

The CLI and the GUI build their behaviour from `Policy()` (tests give a cheaper one); no
front end picks its own numbers.

May import: stdlib, facevault.core (kdf, facekey, ironmask).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facevault.core import ironmask, kdf as kdf_mod
from facevault.core.facekey import DecodePolicy
from facevault.errors import UsageError

__all__ = ["EnrollPolicy", "UnlockPolicy", "KdfPolicy", "Policy"]


@dataclass(frozen=True)
class EnrollPolicy:
    """want good frames are fused into a template; fewer than `minimum` is refused."""

    want: int = 5
    minimum: int = 3
    max_frames: int = 150
    preset: str = ironmask.DEFAULT_PRESET


@dataclass(frozen=True)
class UnlockPolicy:
    """want good probe frames per attempt (the live loop tries every `batch` new good frames,
    for at most timeout_s); decode: how probes become codeword guesses."""

    want: int = 3
    max_frames: int = 90
    batch: int = 3
    timeout_s: float = 15.0
    decode: DecodePolicy = DecodePolicy()


@dataclass(frozen=True)
class KdfPolicy:
    """Argon2id cost of new slots: `fixed` when given (tests), else tuned on this machine to
    about `target_seconds` per guess (LUKS2-style), never cheaper than DEFAULT_PARAMS: a
    machine busy while it measures would otherwise pick a cost that is weak once idle (seen:
    t=2 under load). At least 64 MiB."""

    target_seconds: float = 0.5
    fixed: kdf_mod.KdfParams | None = None

    def __post_init__(self) -> None:
        if not 0.05 <= self.target_seconds <= 5:
            raise UsageError("the key-derivation time must be between 0.05 and 5 seconds (a vault must still open on slower computers)")

    def params(self) -> kdf_mod.KdfParams:
        if self.fixed is not None:
            return self.fixed
        tuned = kdf_mod.calibrate(self.target_seconds, min_memory_kib=64 * 1024)
        floor = kdf_mod.DEFAULT_PARAMS
        if tuned.memory_kib <= floor.memory_kib and tuned.time_cost < floor.time_cost:
            return kdf_mod.KdfParams(floor.time_cost, max(tuned.memory_kib, floor.memory_kib),
                                     tuned.parallelism)
        return tuned


@dataclass(frozen=True)
class Policy:
    enroll: EnrollPolicy = field(default_factory=EnrollPolicy)
    unlock: UnlockPolicy = field(default_factory=UnlockPolicy)
    kdf: KdfPolicy = field(default_factory=KdfPolicy)
