"""What a vault is made of, without unlocking it: its key slots and the offline attack
figures of its mode (the slot kinds, the IronMask preset and the KDF cost are public).

May import: stdlib, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from dataclasses import dataclass

from facevault.core import facekey, ironmask
from facevault.core.kinds import Kind
from facevault.core.slots import Slot
from facevault.core.v1.secrets import helper_of as v1_helper_of
from facevault.errors import Hint, UsageError
from facevault.services import threat
from facevault.services.unlock import LockedVault

__all__ = ["SlotInfo", "describe_slots", "explain"]


@dataclass(frozen=True)
class SlotInfo:
    kind: Kind
    slot_id: str
    detail: str

    @property
    def title(self) -> str:
        return self.kind.spec.title


def describe_slots(locked: LockedVault) -> list[SlotInfo]:
    """One line per slot of the newest header (a version-1 slot says it is one)."""
    out = []
    for s in locked.slots:
        if isinstance(s, Slot):
            out.append(SlotInfo(s.kind, s.slot_id.hex(), s.kind.spec.describe(s)))
        else:
            out.append(SlotInfo(s.kind, s.slot_id.hex(), "kept from format version 1 until a "
                                "computer that holds it opens the vault, or a revocation drops it"))
    return out


def explain(
    locked: LockedVault,
    *,
    measured: dict[str, threat.FarEstimate] | None = None,
    passphrase_bits: float = threat.PIN6_BITS,
) -> threat.ModeFigures:
    """Offline attack figures for the vault, from the shipped measurements and the slot's
    stored KDF parameters (never from timing today's load). A header with several face
    kinds counts as its weakest part."""
    mode = locked.mode
    if mode is None:
        raise UsageError("this vault has no face slot", hint="Only its recovery code or a device opens it.")
    slot = next((s for s in locked.slots if s.kind is mode.face_kind), None)
    if slot is None:
        raise UsageError(f"this vault has no {mode.label} slot", hint=Hint.SEE_SLOTS)
    helper = slot.kind.spec.helper(slot.public) if isinstance(slot, Slot) else v1_helper_of(slot)
    assert helper is not None
    params = ironmask.helper_from_bytes(helper).params
    preset = facekey.preset_of(params) or ironmask.DEFAULT_PRESET
    return threat.figures(
        mode, preset_bits=params.bits, kdf=slot.kdf,
        far=threat.far_estimate(preset, measured=measured),
        passphrase_bits=passphrase_bits,
        device_only_slots=sum(1 for s in locked.slots if s.kind is Kind.DEVICE),
    )
