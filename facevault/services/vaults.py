"""Vault use cases: create with a face, unlock, re-enroll (revoke), device unlock, slots.

Everything here works from embeddings already captured (see services.capture), so the
same calls serve the CLI, the GUI and the benchmarks. Nothing here keeps an embedding or a
codeword beyond the call.

May import: numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facevault.core import crypto, ironmask, kdf as kdf_mod, slots as slots_mod, vault as vault_mod
from facevault.errors import UsageError
from facevault.services import keys
from facevault.services.secretstore import SecretStore

__all__ = [
    "Created",
    "SlotInfo",
    "create",
    "unlock",
    "reenroll",
    "enable_device",
    "disable_device",
    "regenerate_recovery",
    "describe_slots",
]


@dataclass(frozen=True)
class Created:
    vault: vault_mod.OpenVault
    recovery_code: str  # show once; never stored


@dataclass(frozen=True)
class SlotInfo:
    kind: str
    slot_id: str
    detail: str


def create(
    path: Path,
    template: np.ndarray,
    *,
    preset: str = ironmask.DEFAULT_PRESET,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
    device_store: SecretStore | None = None,
) -> Created:
    """A new vault at `path` with a face slot, a recovery slot, and optionally a device slot."""
    master = crypto.random_bytes(crypto.KEY_SIZE)
    face = keys.seal_face_slot(master, template, preset=preset, kdf=kdf)
    recovery_slot, code = keys.seal_recovery_slot(master, kdf=kdf)
    slots = [face, recovery_slot]
    if device_store is not None:
        slots.append(keys.seal_device_slot(master, device_store, kdf=kdf))
    opened = vault_mod.create_vault(Path(path), master, slots)
    return Created(opened, code)


def unlock(
    path: Path, offer: keys.Offer, policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy()
) -> vault_mod.OpenVault:
    header = vault_mod.read_header(Path(path))
    master, _slot = keys.find_key(header.slots, offer, policy)
    return vault_mod.open_vault(Path(path), master)


def _master_key(vault: vault_mod.OpenVault) -> bytes:
    return vault.master_key


def reenroll(
    vault: vault_mod.OpenVault,
    new_template: np.ndarray,
    *,
    rotate_key: bool = False,
    preset: str | None = None,
    kdf: kdf_mod.KdfParams | None = None,
    device_store: SecretStore | None = None,
) -> Iterator[vault_mod.Progress | str]:
    """Enroll a fresh face and destroy every old face slot (revocation).

    Without rotate_key the master key stays: the old helper data, if someone kept a copy of
    the old header, still opens a copy of the old header with the old face. With rotate_key
    every object is re-encrypted under a new master key, a new recovery code is made (the
    generator's last yielded value is that code, a str) and device slots are re-sealed.
    Yields progress while re-encrypting.
    """
    old_slots = list(vault.header.slots)
    face_slots = [s for s in old_slots if s.kind == "face"]
    kdf = kdf or (face_slots[0].kdf if face_slots else kdf_mod.DEFAULT_PARAMS)
    preset = preset or _preset_of(face_slots)
    if not rotate_key:
        master = _master_key(vault)
        new_face = keys.seal_face_slot(master, new_template, preset=preset, kdf=kdf)
        kept = [s for s in old_slots if s.kind != "face"]
        vault.replace_slots([new_face, *kept])
        return
    new_master = crypto.random_bytes(crypto.KEY_SIZE)
    new_face = keys.seal_face_slot(new_master, new_template, preset=preset, kdf=kdf)
    recovery_slot, code = keys.seal_recovery_slot(new_master, kdf=kdf)
    new_slots = [new_face, recovery_slot]
    for slot in old_slots:
        if slot.kind != "device":
            continue
        secret = device_store.get(keys.device_entry(slot)) if device_store is not None else None
        if secret is None:
            continue  # a device we cannot re-seal for loses its slot: it must be paired again
        new_slots.append(slots_mod.seal_slot("device", new_master, secret, kdf=slot.kdf, public=slot.public))
    yield from vault.rotate_master_key(new_master, new_slots)
    yield code


def _preset_of(face_slots: list[slots_mod.Slot]) -> str:
    if not face_slots:
        return ironmask.DEFAULT_PRESET
    params = ironmask.helper_from_bytes(face_slots[0].public).params
    for name, candidate in ironmask.PRESETS.items():
        if candidate == params:
            return name
    return ironmask.DEFAULT_PRESET


def enable_device(vault: vault_mod.OpenVault, store: SecretStore) -> None:
    """Let this machine open the vault through its OS keyring (replaces an earlier device slot
    of this machine if its secret is still in the keyring)."""
    slots = list(vault.header.slots)
    kdf = next((s.kdf for s in slots), kdf_mod.DEFAULT_PARAMS)
    mine = [s for s in slots if s.kind == "device" and store.get(keys.device_entry(s)) is not None]
    for slot in mine:
        store.delete(keys.device_entry(slot))
    others = [s for s in slots if s not in mine]
    new_slot = keys.seal_device_slot(_master_key(vault), store, kdf=kdf)
    try:
        vault.replace_slots([*others, new_slot])
    except BaseException:
        store.delete(keys.device_entry(new_slot))
        raise


def disable_device(vault: vault_mod.OpenVault, store: SecretStore, *, all_devices: bool = False) -> int:
    """Remove this machine's device slot (or every device slot); returns how many went."""
    slots = list(vault.header.slots)
    if all_devices:
        gone = [s for s in slots if s.kind == "device"]
    else:
        gone = [s for s in slots if s.kind == "device" and store.get(keys.device_entry(s)) is not None]
    if not gone:
        return 0
    vault.replace_slots([s for s in slots if s not in gone])
    for slot in gone:
        store.delete(keys.device_entry(slot))
    return len(gone)


def regenerate_recovery(vault: vault_mod.OpenVault) -> str:
    """A new recovery code; the old one stops working. Returns the new code (show once)."""
    slots = list(vault.header.slots)
    kdf = next((s.kdf for s in slots if s.kind == "recovery"), kdf_mod.DEFAULT_PARAMS)
    new_slot, code = keys.seal_recovery_slot(_master_key(vault), kdf=kdf)
    vault.replace_slots([*(s for s in slots if s.kind != "recovery"), new_slot])
    return code


def describe_slots(path: Path) -> list[SlotInfo]:
    header = vault_mod.read_header(Path(path))
    infos = []
    for slot in header.slots:
        kdf = slot.kdf
        cost = f"Argon2id t={kdf.time_cost} m={kdf.memory_kib // 1024} MiB p={kdf.parallelism}"
        if slot.kind == "face":
            params = ironmask.helper_from_bytes(slot.public).params
            detail = f"IronMask C({params.dim},{params.alpha}) {params.bits:.1f} bits; {cost}"
        elif slot.kind == "device":
            detail = f"keyring entry {keys.device_entry(slot)}; {cost}"
        else:
            detail = cost
        infos.append(SlotInfo(slot.kind, slot.slot_id.hex(), detail))
    return infos


