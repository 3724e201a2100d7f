"""Devices: let this computer open a face-mode vault by itself (enable/disable), and pair
or remove computers of a face+device vault.

Pairing: `pair_device` (on a paired computer, after a face unlock) adds a face+device slot
whose secret exists only in the returned one-time code; `import_device` (on the new
computer) opens that slot with the code and a fresh look at the face, seals a new slot under
a secret kept in this computer's keyring, and removes the pairing slot, so the code is used up.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facevault.core.facekey import EnrolledFace
from facevault.core.factors import DeviceFactor, DeviceSecret, FaceFactor, Factors
from facevault.core.kdf import DEFAULT_PARAMS
from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.core.pairing import pairing_code, parse_pairing_code
from facevault.core.sealing import SlotPlan
from facevault.core.vault import OpenVault, open_vault, read_header
from facevault.errors import Hint, NotRecognisedError, UsageError
from facevault.services.keyslots import device_plan, devices_here, entry_of, new_device_entry, \
    new_device_secret
from facevault.services.modes import vault_mode
from facevault.services.policy import UnlockPolicy
from facevault.services.secretstore import MemoryStore, SecretStore
from facevault.services.unlock import Unlocked

__all__ = ["enable_device", "disable_device", "pair_device", "import_device", "remove_device"]


def enable_device(vault: OpenVault, store: SecretStore) -> None:
    """Let this computer open the vault through its OS keyring (replacing an earlier device
    slot of this computer). Face mode only: in a two-factor mode a device-only slot would
    open the vault without the face (pair a device instead)."""
    mode = vault_mode(vault)
    if mode is not None and not mode.allows_device_only_slot:
        raise UsageError(f"this vault is in {mode.label} mode: device-only unlock would skip the face",
                         hint=Hint.PAIR_DEVICE)
    slots = list(vault.header.slots)
    kdf = next((s.kdf for s in slots), DEFAULT_PARAMS)
    mine = devices_here(slots, store, (Kind.DEVICE,))
    plan, device = device_plan(Kind.DEVICE, store, kdf)
    try:
        vault.replace_slots([s for s in slots if s not in mine], [plan])
    except BaseException:
        store.delete(device.entry)
        raise
    for slot in mine:
        if (entry := entry_of(slot)) is not None:
            store.delete(entry)


def disable_device(vault: OpenVault, store: SecretStore, *, all_devices: bool = False) -> int:
    """Remove this computer's device slot (or every device slot); returns how many went."""
    slots = list(vault.header.slots)
    gone = ([s for s in slots if s.kind is Kind.DEVICE] if all_devices
            else devices_here(slots, store, (Kind.DEVICE,)))
    if not gone:
        return 0
    vault.replace_slots([s for s in slots if s not in gone])
    for slot in gone:
        if (entry := entry_of(slot)) is not None:
            store.delete(entry)
    return len(gone)


def pair_device(vault: OpenVault, face: EnrolledFace) -> str:
    """Add a face+device slot for another computer; return its one-time pairing code.

    Until the code is imported, code + face open the vault: treat it like a key."""
    slots = list(vault.header.slots)
    if vault_mode(vault) is not Mode.FACE_DEVICE:
        raise UsageError("pairing is for face+device vaults", hint=Hint.SWITCH_TO_FACE_DEVICE)
    kdf = next(s.kdf for s in slots if s.kind is Kind.FACE_DEVICE)
    device = DeviceSecret(new_device_entry(), new_device_secret())
    (slot,) = vault.replace_slots(slots, [SlotPlan(Kind.FACE_DEVICE, Factors(face, device), kdf)])
    return pairing_code(slot.slot_id, device.secret)


def import_device(path: Path, code: str, embeddings: list[np.ndarray] | tuple[np.ndarray, ...],
                  store: SecretStore, policy: UnlockPolicy = UnlockPolicy()) -> Unlocked:
    """Pair this computer with a code from pair_device and a fresh look at the face."""
    slot_id, secret = parse_pairing_code(code)
    header = read_header(Path(path))
    pending = [s for s in header.slots if s.kind is Kind.FACE_DEVICE and s.slot_id == slot_id]
    if not pending:
        raise NotRecognisedError(
            "this vault has no pairing waiting for that code",
            hint="It was used already, or this copy of the vault folder is older than the "
                 "pairing: sync it and try again, or pair again on the other device.",
        )
    entry = entry_of(pending[0])
    assert entry is not None
    transport = MemoryStore()
    transport.set(entry, secret)
    offer = Factors(FaceFactor(tuple(embeddings)), DeviceFactor(transport))
    from dataclasses import replace

    only_pairing = replace(header, slots=tuple(pending))
    opened = open_vault(Path(path), offer, policy=policy.decode, header=only_pairing)
    face = opened.opened.face if opened.opened is not None else None
    if face is None:  # cannot happen: only a face+device slot was offered
        raise NotRecognisedError("not recognised: the pairing slot did not open")
    opened.refresh()  # the full header, now authenticated under the key
    plan, device = device_plan(Kind.FACE_DEVICE, store, pending[0].kdf, face)
    try:
        opened.replace_slots([s for s in opened.header.slots if s.slot_id != slot_id], [plan])
    except BaseException:
        store.delete(device.entry)
        raise
    return Unlocked(opened, face)


def remove_device(vault: OpenVault, *, slot_id: str | None = None,
                  store: SecretStore | None = None) -> int:
    """Remove one device's slot (device or face+device): the slot with id `slot_id` (hex), or
    else this computer's. Refuses to remove the last face+device slot."""
    slots = list(vault.header.slots)
    kinds = (Kind.DEVICE, Kind.FACE_DEVICE)
    if slot_id is not None:
        gone = [s for s in slots if s.kind in kinds and s.slot_id.hex() == slot_id.lower()]
        if not gone:
            raise UsageError(f"no device slot with id {slot_id}", hint=Hint.SEE_SLOTS)
    elif store is not None:
        gone = devices_here(slots, store, kinds)
    else:
        raise UsageError("say which device to remove",
                         hint="Give its slot id, or remove it on that computer.")
    if not gone:
        return 0
    left = [s for s in slots if s not in gone]
    if vault_mode(vault) is Mode.FACE_DEVICE and not any(s.kind is Kind.FACE_DEVICE for s in left):
        raise UsageError("that is the last paired device: only the recovery code would open the vault",
                         hint="Pair another device first, or change the mode.")
    vault.replace_slots(left)
    if store is not None:
        for slot in gone:
            if (entry := entry_of(slot)) is not None:
                store.delete(entry)
    return len(gone)
