"""Kind RECOVERY (wire code 2): the recovery code alone opens the slot.

Public data: empty. Secret: the canonical 30-symbol code (facevault.core.recovery). Every
vault has one; it opens every mode.

May import: facevault.core (kinds, slots, factors, recovery), facevault.errors.
"""

from __future__ import annotations

from facevault.core import recovery
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors, RecoveryFactor
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.slots import Slot, seal_slot
from facevault.errors import IntegrityError, UsageError

__all__ = ["SPEC", "RecoveryKind"]


class RecoveryKind(KindSpec):
    kind = Kind.RECOVERY
    name = "recovery"
    title = "Recovery code"
    sentence = "A random code shown once at creation; it opens the vault when the face cannot."
    needs = (RecoveryFactor,)
    requirement = "the recovery code"
    try_order = 10

    def check_public(self, public: bytes) -> None:
        if public:
            raise IntegrityError("a recovery slot has no public data")

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        code = offer.get(RecoveryFactor)
        if code is None:
            return []
        return [Guess(recovery.normalise_recovery_code(code.code))]

    def seal(self, key: bytes, parts: Factors, *, kdf: KdfParams) -> Slot:
        code = parts.get(RecoveryFactor)
        if code is None:
            raise UsageError("sealing a recovery slot needs a recovery code")
        return seal_slot(self.kind, key, recovery.normalise_recovery_code(code.code), kdf=kdf)

    def describe(self, slot: Slot) -> str:
        return slot.kdf.describe()


SPEC = RecoveryKind()
