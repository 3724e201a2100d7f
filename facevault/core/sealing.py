"""A request for a new key slot: which kind, from which enrollment-time factors, at which
KDF cost. Services hand SlotPlans to a vault (or the single-file writer), which makes the
slot (its recipient key comes from the factors) and wraps its own keys to it; the services
never see a key.

May import: facevault.core (kinds, slots, factors, kdf).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facevault.core.factors import Factors
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Kind
from facevault.core.slots import Slot

__all__ = ["SlotPlan", "make_all"]


@dataclass(frozen=True)
class SlotPlan:
    kind: Kind
    parts: Factors = field(repr=False)
    kdf: KdfParams

    def make(self) -> Slot:
        return self.kind.spec.make(self.parts, kdf=self.kdf)


def make_all(plans: list[SlotPlan] | tuple[SlotPlan, ...]) -> list[Slot]:
    return [plan.make() for plan in plans]
