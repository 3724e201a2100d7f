"""Changing how a vault opens: its mode, a new passphrase, a fresh enrollment (re-enroll).

Every change starts a new epoch under a fresh key (facevault.core.vault.change_slots) whose
face slots hold one enrollment; recovery and device-only slots are kept. An old header and
the slots dropped open nothing written from then on. `change_mode` and `reenroll` are
generators that yield ByteProgress while re-encrypting (`rotate_key`: every file moves to
the new key, so the old slots cannot read even the old files in the live folder) and
*return* a new recovery code when one had to be made (an upgraded vault whose version-1
recovery slot was dropped with the other version-1 slots), else None.

A two-factor vault has no plain face slot and no device-only slot. Moving to a two-factor
mode re-encrypts by default.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from facevault.core import facekey, ironmask
from facevault.core.factors import DeviceSecret
from facevault.core.kdf import DEFAULT_PARAMS, KdfParams
from facevault.core.kinds import Kind
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.core.modes import Mode, mode_of_kinds
from facevault.core.progress import ByteProgress
from facevault.core.slots import Slot
from facevault.core.vault import OpenVault
from facevault.errors import Hint, UsageError
from facevault.services.keyslots import devices_here, entry_of, face_plans, new_device_entry, \
    new_device_secret, replacement_recovery
from facevault.services.secretstore import SecretStore

__all__ = ["vault_mode", "face_slots", "preset_of_slots", "change_mode", "reenroll"]


def vault_mode(vault: OpenVault) -> Mode | None:
    """The mode in the vault's authenticated header (from its slot kinds when it has none)."""
    return vault.mode if vault.mode is not None else mode_of_kinds(s.kind for s in vault.header.slots)


def face_slots(slots: list[Slot] | tuple[Slot, ...]) -> list[Slot]:
    return [s for s in slots if s.kind.spec.carries_face]


def preset_of_slots(slots: list[Slot] | tuple[Slot, ...]) -> str:
    """The preset name of the vault's face slots (the default when unknown)."""
    for slot in face_slots(slots):
        helper = slot.kind.spec.helper(slot.public)
        if helper is not None:
            name = facekey.preset_of(ironmask.helper_from_bytes(helper).params)
            if name is not None:
                return name
    return ironmask.DEFAULT_PRESET


def _face_kdf(vault: OpenVault, kdf: KdfParams | None) -> KdfParams:
    """The Argon2id cost for a passphrase slot: `kdf`, else the vault's, else the default."""
    stretched = [s.kdf for s in face_slots(vault.header.slots) if s.kdf.stretches]
    return kdf or (stretched[0] if stretched else DEFAULT_PARAMS)


def reenroll(
    vault: OpenVault,
    new_template: np.ndarray,
    *,
    rotate_key: bool = False,
    preset: str | None = None,
    kdf: KdfParams | None = None,
    store: SecretStore | None = None,
    passphrase: str | None = None,
    model: ModelRef = UNKNOWN_MODEL,
) -> Generator[ByteProgress, None, str | None]:
    """Enroll a fresh face and destroy every old face slot (revocation), keeping the mode.

    In face+passphrase mode `passphrase` is required (it may be a new one); in face+device
    mode only devices whose secret is in `store` keep a slot (they hold the new face); other
    devices must be paired again.
    """
    mode = vault_mode(vault) or Mode.FACE
    face = facekey.enroll(new_template, preset=preset or preset_of_slots(vault.header.slots),
                          model=model)
    return (yield from _rebuild(vault, mode, face, _face_kdf(vault, kdf), store=store,
                                passphrase=passphrase, rotate_key=rotate_key))


def change_mode(
    vault: OpenVault,
    mode: Mode,
    *,
    face: facekey.EnrolledFace | None = None,
    new_template: np.ndarray | None = None,
    preset: str | None = None,
    passphrase: str | None = None,
    store: SecretStore | None = None,
    rotate_key: bool | None = None,
    kdf: KdfParams | None = None,
    model: ModelRef = UNKNOWN_MODEL,
) -> Generator[ByteProgress, None, str | None]:
    """Move the vault to `mode` (or set a new passphrase in face+passphrase mode).

    The face comes from `face` (the enrollment that opened the vault: the same helper and
    codeword, so no second sketch of the face is made) or from `new_template` (a fresh
    enrollment, which also revokes the old one). rotate_key None: rotate when moving to a
    two-factor mode from another mode.
    """
    old_mode = vault_mode(vault)
    if mode is old_mode and mode is not Mode.FACE_PASSPHRASE and new_template is None:
        raise UsageError(f"the vault is already in {mode.label} mode",
                         hint=Hint.PAIR_DEVICE if mode is Mode.FACE_DEVICE else None)
    if new_template is not None:
        face = facekey.enroll(new_template, preset=preset or preset_of_slots(vault.header.slots),
                              model=model)
    if face is None:
        raise UsageError("changing the mode needs your face", hint=Hint.NEED_FRESH_CAPTURE)
    if mode is Mode.FACE_PASSPHRASE and passphrase is None:
        raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
    if rotate_key is None:
        rotate_key = mode is not Mode.FACE and mode is not old_mode
    return (yield from _rebuild(vault, mode, face, _face_kdf(vault, kdf), store=store,
                                passphrase=passphrase, rotate_key=rotate_key))


def _rebuild(
    vault: OpenVault,
    mode: Mode,
    face: facekey.EnrolledFace,
    kdf: KdfParams,
    *,
    store: SecretStore | None,
    passphrase: str | None,
    rotate_key: bool,
) -> Generator[ByteProgress, None, str | None]:
    """A new epoch whose face slots are `face` sealed in `mode` (every old face slot, and
    every version-1 slot an upgrade kept, is dropped: a revocation); recovery and, where the
    mode allows, device-only slots stay. `rotate_key` also re-encrypts every file."""
    old = list(vault.header.slots)
    added: list[str] = []
    devices: list[DeviceSecret] = []
    if mode is Mode.FACE_DEVICE and store is not None:
        for slot in devices_here(old, store, (Kind.FACE_DEVICE,)):
            entry = entry_of(slot)
            secret = store.get(entry) if entry else None
            if entry and secret:
                devices.append(DeviceSecret(entry, secret))
        if not devices:
            device = DeviceSecret(new_device_entry(), new_device_secret())
            store.set(device.entry, device.secret)
            added.append(device.entry)
            devices = [device]
    try:
        plans = face_plans(mode, face, kdf, passphrase=passphrase, devices=devices)
        device_only = [s for s in old if s.kind is Kind.DEVICE] if mode.allows_device_only_slot else []
        keep = [s for s in old if s.kind is Kind.RECOVERY] + device_only
        fresh = replacement_recovery(vault, keep)
        if fresh is not None:
            plans.append(fresh.plan)
        vault.change_slots(keep, plans, mode=mode, revoke=True)
        if rotate_key:
            yield from vault.reencrypt()
    except BaseException:
        for entry in added:
            store.delete(entry)  # type: ignore[union-attr]
        raise
    if store is not None:  # forget secrets of slots that are gone (this device's only)
        kept = {entry_of(s) for s in vault.header.slots}
        for slot in old:
            entry = entry_of(slot)
            if entry and entry not in kept:
                store.delete(entry)
    return fresh.code if fresh is not None else None
