"""Devices: let this computer open a face-mode vault by itself (enable/disable), and pair
or remove computers of a face+device vault. Each change is a new epoch; a removed device's
secret opens nothing written after it.

Pairing: `pair_device` (on a paired computer, after a face unlock) adds a face+device slot
whose secret exists only in the returned one-time code; `import_device` (on the new
computer) opens that slot with the code and a fresh look at the face, seals a new slot under
a secret kept in this computer's keyring, and removes the pairing slot, so the code is used up.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facevault.core.epochs import read_headers_at
from facevault.core.facekey import EnrolledFace
from facevault.core.factors import DeviceFactor, DeviceSecret, FaceFactor, Factors
from facevault.core.kdf import DEFAULT_PARAMS
from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.core.pairing import pairing_code, parse_pairing_code
from facevault.core.sealing import SlotPlan
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.core.slots import Slot
from facevault.core.vault import OpenVault
from facevault.errors import Hint, NotRecognisedError, UsageError
from facevault.services.keyslots import device_plan, devices_here, entry_of, new_device_entry, \
    new_device_secret, replacement_recovery
from facevault.services.capture import CaptureParts, capture
from facevault.services.modes import vault_mode
from facevault.services.progress import Progress
from facevault.services.policy import UnlockPolicy
from facevault.services.secretstore import MemoryStore, SecretStore
from facevault.services.unlock import LockedVault, Unlocked

__all__ = ["enable_device", "disable_device", "pair_device", "import_device", "remove_device",
           "DeviceInfo", "list_devices", "pair_here"]


@dataclass(frozen=True)
class DeviceInfo:
    """One computer that can open the vault by itself or with the face: its slot, whether it
    is this computer, when the slot appeared (the epoch that added it) and which computer
    wrote that epoch (for a pairing: the computer that paired it; None when unknown)."""

    slot_id: str
    kind: Kind
    here: bool
    added: float | None
    added_by: str | None


def list_devices(vault: OpenVault, store: SecretStore | None) -> list[DeviceInfo]:
    """The device and face+device slots of the vault, this computer's first, oldest first."""
    kinds = (Kind.DEVICE, Kind.FACE_DEVICE)
    slots = [s for s in vault.header.slots if s.kind in kinds]
    here = {s.slot_id for s in devices_here(slots, store, kinds)}
    first: dict[bytes, tuple[int, bytes]] = {}
    for h in sorted(read_headers_at(Path(vault.path)).headers, key=lambda h: h.epoch):
        for s in h.slots:
            first.setdefault(s.slot_id, (h.time, h.epoch.writer))
    names = _writer_names(vault)
    out = []
    for s in slots:
        when, writer = first.get(s.slot_id, (None, None))
        out.append(DeviceInfo(s.slot_id.hex(), s.kind, s.slot_id in here,
                              float(when) if when is not None else None,
                              names.get(writer) if writer is not None else None))
    return sorted(out, key=lambda d: (not d.here, d.added or 0.0))


def _revoking(vault: OpenVault, keep: list[Slot]) -> None:
    """Refuse a revocation that would drop an upgraded vault's only recovery slot."""
    if replacement_recovery(vault, keep) is not None:
        raise UsageError("this vault still has the recovery code of its version-1 format, and "
                         "removing a device drops it with every other version-1 slot",
                         hint="Make a new recovery code first, then remove the device.")


def enable_device(vault: OpenVault, store: SecretStore) -> None:
    """Let this computer open the vault through its OS keyring (replacing an earlier device
    slot of this computer). Face mode only: in a two-factor mode a device-only slot would
    open the vault without the face (pair a device instead)."""
    mode = vault_mode(vault)
    if mode is not None and not mode.allows_device_only_slot:
        raise UsageError(f"this vault is in {mode.label} mode: device-only unlock would skip the face",
                         hint=Hint.PAIR_DEVICE)
    slots = list(vault.header.slots)
    mine = devices_here(slots, store, (Kind.DEVICE,))
    plan, device = device_plan(Kind.DEVICE, store, DEFAULT_PARAMS)
    try:
        vault.change_slots([s for s in slots if s not in mine], [plan], mode=vault.mode, revoke=False)
    except BaseException:
        store.delete(device.entry)
        raise
    for slot in mine:
        if (entry := entry_of(slot)) is not None:
            store.delete(entry)


def disable_device(vault: OpenVault, store: SecretStore, *, all_devices: bool = False) -> int:
    """Remove this computer's device slot (or every device slot): a new epoch the removed
    secrets cannot open. Returns how many went."""
    slots = list(vault.header.slots)
    gone = ([s for s in slots if s.kind is Kind.DEVICE] if all_devices
            else devices_here(slots, store, (Kind.DEVICE,)))
    if not gone:
        return 0
    left = [s for s in slots if s not in gone]
    _revoking(vault, left)
    vault.change_slots(left, [], mode=vault.mode, revoke=True)
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
    device = DeviceSecret(new_device_entry(), new_device_secret())
    (slot,) = vault.change_slots(slots, [SlotPlan(Kind.FACE_DEVICE, Factors(face, device), DEFAULT_PARAMS)],
                                 mode=vault.mode, revoke=False)
    return pairing_code(slot.slot_id, device.secret)


def import_device(path: Path, code: str, embeddings: list[np.ndarray] | tuple[np.ndarray, ...],
                  store: SecretStore, policy: UnlockPolicy = UnlockPolicy(), *,
                  model: ModelRef = UNKNOWN_MODEL, locked: LockedVault | None = None) -> Unlocked:
    """Pair this computer with a code from pair_device and a fresh look at the face."""
    slot_id, secret = parse_pairing_code(code)
    locked = locked or LockedVault.read(Path(path))
    pending = [s for s in locked.slots if s.kind is Kind.FACE_DEVICE and s.slot_id == slot_id]
    entry = entry_of(pending[0]) if pending else None
    if entry is None:
        raise NotRecognisedError(
            "this vault has no pairing waiting for that code",
            hint="It was used already, or this copy of the vault folder is older than the "
                 "pairing: sync it and try again, or pair again on the other device.",
        )
    transport = MemoryStore()
    transport.set(entry, secret)
    offer = Factors(FaceFactor(tuple(embeddings), model), DeviceFactor(transport))
    unlocked = locked.open(offer, policy)
    opened, face = unlocked.vault, unlocked.face
    used = opened.opened.slot  # the pairing slot (made again if a version-1 vault was upgraded)
    if face is None or used is None or used.kind is not Kind.FACE_DEVICE:
        opened.close()
        raise NotRecognisedError("not recognised: the pairing slot did not open")
    plan, device = device_plan(Kind.FACE_DEVICE, store, DEFAULT_PARAMS, face)
    try:
        opened.change_slots([s for s in opened.header.slots if s.slot_id != used.slot_id], [plan],
                            mode=opened.mode, revoke=False)
    except BaseException:
        store.delete(device.entry)
        raise
    return Unlocked(opened, face)


def _writer_names(vault: OpenVault) -> dict[bytes, str]:
    """The names computers gave themselves in the live records they wrote, by device id (a
    computer that never wrote a file is not in it)."""
    names: dict[bytes, str] = {vault.device.id: vault.device.name}
    for r in vault.state.view.records.values():
        if r.device_name:
            names.setdefault(bytes.fromhex(r.device), r.device_name)
    return names


def pair_here(locked: LockedVault, code: str, spec: str, *, parts: CaptureParts, store: SecretStore,
              policy: UnlockPolicy = UnlockPolicy()) -> Generator[Progress, None, Unlocked]:
    """import_device with a look at the camera (or video) `spec`: the desktop app's "Pair
    this computer". A mistyped code is refused before the camera starts."""
    parse_pairing_code(code)
    result = yield from capture(spec, want=policy.want, max_frames=policy.max_frames, parts=parts)
    return import_device(locked.path, code, result.probes(), store, policy, model=parts.model, locked=locked)


def remove_device(vault: OpenVault, *, slot_id: str | None = None,
                  store: SecretStore | None = None) -> int:
    """Remove one device's slot (device or face+device): the slot with id `slot_id` (hex), or
    else this computer's; a new epoch the removed device cannot open. Refuses to remove the
    last face+device slot."""
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
    _revoking(vault, left)
    vault.change_slots(left, [], mode=vault.mode, revoke=True)
    if store is not None:
        for slot in gone:
            if (entry := entry_of(slot)) is not None:
                store.delete(entry)
    return len(gone)
