"""Building SlotPlans for the ways in a vault should have (services never see its key).

`face_plans` gives the face slot(s) of a mode for one enrollment; `recovery_plan` a fresh
recovery code and its slot; `device_plan` a new device secret put in this computer's keyring
and its slot. Each returns what the caller must show or clean up (the recovery code, the
keyring entries it wrote).

May import: stdlib, facevault.core, facevault.services.secretstore, facevault.errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TypeVar
from dataclasses import dataclass, field

from facevault.core import recovery
from facevault.core.facekey import EnrolledFace
from facevault.core.factors import DeviceSecret, Factors, PassphraseFactor, RecoveryFactor
from facevault.core.kdf import DEFAULT_PARAMS, KdfParams
from facevault.core.kinds import Kind
from facevault.core.kinds.device import DEVICE_SECRET_SIZE
from facevault.core.kinds.face_passphrase import normalise_passphrase
from facevault.core.modes import Mode
from facevault.core.sealing import SlotPlan
from facevault.core.slots import Slot
from facevault.core.v1.slots import Slot as V1Slot
from facevault.core.vault import OpenVault
from facevault.errors import Hint, KeyringUnavailableError, UsageError
from facevault.services.secretstore import SecretStore

__all__ = [
    "NewCode",
    "new_device_entry",
    "new_device_secret",
    "face_plans",
    "recovery_plan",
    "device_plan",
    "entry_of",
    "devices_here",
    "replacement_recovery",
]


@dataclass(frozen=True)
class NewCode:
    """A recovery code to show once, and the plan of the slot it opens."""

    code: str = field(repr=False)
    plan: SlotPlan = field(repr=False)


def new_device_entry() -> str:
    """A fresh keyring entry name (public; stored in the slot)."""
    return "device-" + secrets.token_hex(16)


def new_device_secret() -> bytes:
    return secrets.token_bytes(DEVICE_SECRET_SIZE)


def entry_of(slot: Slot | V1Slot) -> str | None:
    """The keyring entry name of a device or face+device slot, else None."""
    if isinstance(slot, V1Slot):
        from facevault.core.v1.secrets import entry_of as v1_entry_of

        return v1_entry_of(slot)
    return slot.kind.spec.device_entry(slot.public)


AnySlot = TypeVar("AnySlot", Slot, V1Slot)


def devices_here(slots: Sequence[AnySlot], store: SecretStore | None,
                 kinds: tuple[Kind, ...] = (Kind.DEVICE, Kind.FACE_DEVICE)) -> list[AnySlot]:
    """The slots of `kinds` whose secret is in this computer's keyring."""
    if store is None:
        return []
    return [s for s in slots if s.kind in kinds and (e := entry_of(s)) and store.get(e) is not None]


def face_plans(mode: Mode, face: EnrolledFace, kdf: KdfParams, *, passphrase: str | None = None,
               devices: list[DeviceSecret] | None = None) -> list[SlotPlan]:
    """The face slot(s) of `mode` for one enrollment. face+device: one per device secret."""
    if mode is Mode.FACE:
        return [SlotPlan(Kind.FACE, Factors(face), kdf)]
    if mode is Mode.FACE_PASSPHRASE:
        if passphrase is None:
            raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
        normalise_passphrase(passphrase)
        return [SlotPlan(Kind.FACE_PASSPHRASE, Factors(face, PassphraseFactor(passphrase)), kdf)]
    if not devices:
        raise KeyringUnavailableError("face+device needs a device secret in this computer's keyring")
    return [SlotPlan(Kind.FACE_DEVICE, Factors(face, d), kdf) for d in devices]


def recovery_plan(kdf: KdfParams, code: str | None = None) -> NewCode:
    """A recovery slot plan with a new code (or `code`, one made earlier and shown first)."""
    if code is None:
        code = recovery.new_recovery_code()
    else:  # one made earlier (shown before the vault was written): still well formed
        recovery.normalise_recovery_code(code)
    return NewCode(code, SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code)), kdf))


def replacement_recovery(vault: OpenVault, keep: Sequence[Slot]) -> NewCode | None:
    """A new recovery code when a revoking change would drop the only recovery slot (a
    version-1 one an upgrade kept); None when `keep` has a recovery slot or there was none."""
    if any(s.kind is Kind.RECOVERY for s in keep):
        return None
    if not any(s.kind is Kind.RECOVERY for s in vault.header.legacy_slots):
        return None
    return recovery_plan(DEFAULT_PARAMS)


def device_plan(kind: Kind, store: SecretStore, kdf: KdfParams,
                face: EnrolledFace | None = None) -> tuple[SlotPlan, DeviceSecret]:
    """A fresh secret written to `store` and the plan of a `kind` slot (DEVICE, or
    FACE_DEVICE with `face`). The caller deletes the entry again if sealing fails."""
    device = DeviceSecret(new_device_entry(), new_device_secret())
    store.set(device.entry, device.secret)
    parts = Factors(device) if face is None else Factors(device, face)
    return SlotPlan(kind, parts, kdf), device
