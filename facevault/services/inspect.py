"""What a vault is made of, without unlocking it: its key slots and the offline attack
figures of its mode (the slot kinds, the IronMask preset and the KDF cost are public).

May import: stdlib, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from dataclasses import dataclass

from facevault.core import facekey, ironmask, kdf as kdf_mod
from facevault.core.kinds import Kind
from facevault.errors import UsageError
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
    return [SlotInfo(s.kind, s.slot_id.hex(), s.kind.spec.describe(s)) for s in locked.header.slots]


def explain(
    locked: LockedVault,
    *,
    measured: dict[str, threat.FarEstimate] | None = None,
    passphrase_bits: float = threat.PIN6_BITS,
    kdf_seconds: float | None = None,
) -> threat.ModeFigures:
    """Offline attack figures for the vault. The KDF is timed here unless `kdf_seconds` is
    given. A header with several face kinds counts as its weakest part."""
    mode = locked.mode
    if mode is None:
        raise UsageError("this vault has no face slot", hint="Only its recovery code or a device opens it.")
    slot = next(s for s in locked.header.slots if s.kind is mode.face_kind)
    helper = slot.kind.spec.helper(slot.public)
    assert helper is not None
    params = ironmask.helper_from_bytes(helper).params
    seconds = kdf_seconds if kdf_seconds is not None else kdf_mod.measure(slot.kdf)
    preset = facekey.preset_of(params) or ironmask.DEFAULT_PRESET
    return threat.figures(
        mode, preset_bits=params.bits, kdf_seconds=seconds,
        far=threat.far_estimate(preset, measured=measured),
        passphrase_bits=passphrase_bits,
        device_only_slots=sum(1 for s in locked.header.slots if s.kind is Kind.DEVICE),
    )
