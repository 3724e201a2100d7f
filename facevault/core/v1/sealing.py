"""A request to seal a new key slot: which kind, from which enrollment-time factors, at which
KDF cost. Services hand SlotPlans to the vault (or the single-file writer), which seals them
with a key the services never see.

May import: facevault.core (kinds, slots, factors, kdf).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facevault.core.factors import Factors
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Kind
from facevault.core.v1.slots import Slot

__all__ = ["SlotPlan", "seal_all"]


@dataclass(frozen=True)
class SlotPlan:
    kind: Kind
    parts: Factors = field(repr=False)
    kdf: KdfParams

    def _seal(self, key: bytes) -> Slot:
        from facevault.core.v1.secrets import seal

        return seal(self.kind, key, self.parts, kdf=self.kdf)


def seal_all(key: bytes, plans: list[SlotPlan] | tuple[SlotPlan, ...]) -> list[Slot]:
    """Seal every plan under `key` (core-internal: the key never leaves facevault.core)."""
    return [plan._seal(key) for plan in plans]
