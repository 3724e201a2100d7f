"""Kind RECOVERY (wire code 2): the recovery code alone opens the slot.

Public data: empty. Secret: the canonical 30-symbol code (facevault.core.recovery): 130
random bits, so no key stretching. Every vault has one; it opens every mode.

May import: facevault.core (kinds, slots, factors, recovery), facevault.errors.
"""

from __future__ import annotations

from facevault.core import recovery
from facevault.core.crypto import random_bytes
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors, RecoveryFactor
from facevault.core.kdf import NO_KDF, SALT_SIZE, KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.slots import Slot, new_slot
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

    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        code = parts.get(RecoveryFactor)
        if code is None:
            raise UsageError("sealing a recovery slot needs a recovery code")
        return new_slot(self.kind, recovery.normalise_recovery_code(code.code), kdf=NO_KDF,
                        salt=random_bytes(SALT_SIZE))

    def describe(self, slot: Slot) -> str:
        return "130 random bits, " + slot.kdf.describe()


SPEC = RecoveryKind()
