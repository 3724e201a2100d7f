"""Vault use cases: create with a face, unlock, re-enroll (revoke), device unlock, slots,
two-factor modes (change, pair a device, import a pairing code, remove a device).

A vault's *mode* is the kind of its face slots (core.slots.FACE_KINDS): "face" (portable,
the default), "face+device" (face and a 256-bit secret in the OS keyring of each paired
device, one slot per device), "face+passphrase" (face and a passphrase or PIN, both in the
KDF). A two-factor vault has no plain face slot and no device-only slot; the recovery code
opens every mode. The header MAC and each slot's associated data authenticate the kinds, so
a header edited to claim face-only does not open.

Everything here works from embeddings already captured (see services.capture), so the
same calls serve the CLI, the GUI and the benchmarks. Nothing here keeps an embedding or a
codeword beyond the call (a FaceKey returned by `unlock_full` lives as long as its caller
keeps it, to re-seal the same enrollment in another mode without a new capture).

May import: numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facevault.core import crypto, ironmask, kdf as kdf_mod, slots as slots_mod, vault as vault_mod
from facevault.errors import KeyringUnavailableError, NotRecognisedError, UsageError
from facevault.services import keys, threat
from facevault.services.secretstore import MemoryStore, SecretStore

__all__ = [
    "MODES",
    "DEFAULT_MODE",
    "Created",
    "SlotInfo",
    "Unlocked",
    "create",
    "unlock",
    "unlock_full",
    "mode_of",
    "tuned_kdf",
    "reenroll",
    "change_mode",
    "pair_device",
    "import_device",
    "remove_device",
    "enable_device",
    "disable_device",
    "regenerate_recovery",
    "describe_slots",
    "explain",
]

MODES = ("face", "face+device", "face+passphrase")
DEFAULT_MODE = "face"


@dataclass(frozen=True)
class Created:
    vault: vault_mod.OpenVault
    recovery_code: str  # show once; never stored


@dataclass(frozen=True)
class SlotInfo:
    kind: str
    slot_id: str
    detail: str


@dataclass(frozen=True)
class Unlocked:
    """An open vault and, when a face opened it, the enrollment behind that face."""

    vault: vault_mod.OpenVault
    face: keys.FaceKey | None


def tuned_kdf(target_seconds: float = 0.5, *, min_memory_kib: int = 64 * 1024) -> kdf_mod.KdfParams:
    """Argon2id cost for this machine (LUKS2-style): about `target_seconds` per unlock,
    at least 64 MiB. Measured now; the result is stored in each slot of the header.

    Never cheaper than DEFAULT_PARAMS: a machine that is busy while it measures would
    otherwise pick a cost that is weak once it is idle again (seen: t=2 under load)."""
    tuned = kdf_mod.calibrate(target_seconds, min_memory_kib=max(min_memory_kib, 64 * 1024))
    floor = kdf_mod.DEFAULT_PARAMS
    if tuned.memory_kib <= floor.memory_kib and tuned.time_cost < floor.time_cost:
        return kdf_mod.KdfParams(floor.time_cost, max(tuned.memory_kib, floor.memory_kib), tuned.parallelism)
    return tuned


def mode_of(slots: list[slots_mod.Slot] | tuple[slots_mod.Slot, ...]) -> str:
    """The vault's mode from its slot kinds: one of MODES, "none" (recovery/device only),
    or "mixed" (never written by FaceVault; counts as its weakest part)."""
    kinds = {s.kind for s in slots if s.kind in slots_mod.FACE_KINDS}
    if not kinds:
        return "none"
    if len(kinds) > 1:
        return "mixed"
    return kinds.pop()


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", hint="choose one of: " + ", ".join(MODES))


def _mode_slots(
    mode: str,
    master: bytes,
    face: keys.FaceKey,
    kdf: kdf_mod.KdfParams,
    *,
    store: SecretStore | None,
    passphrase: str | None,
    devices: list[tuple[str, bytes]],
) -> tuple[list[slots_mod.Slot], list[str]]:
    """The face slot(s) of `mode` for `face`; returns (slots, keyring entries newly written).

    devices: (entry, secret) pairs to re-seal for face+device; when empty, a new secret is
    made and put in `store` (this device).
    """
    if mode == "face":
        return [keys.seal_face_key_slot(master, face, kdf=kdf)], []
    if mode == "face+passphrase":
        if passphrase is None:
            raise UsageError("face+passphrase needs a passphrase or PIN",
                             hint="give --passphrase-file F, or type it when asked")
        return [keys.seal_face_passphrase_slot(master, face, passphrase, kdf=kdf)], []
    if store is None:
        raise KeyringUnavailableError("face+device needs this device's OS keyring")
    added: list[str] = []
    if not devices:
        entry, secret = keys.new_device_entry(), keys.new_device_secret()
        store.set(entry, secret)
        added.append(entry)
        devices = [(entry, secret)]
    return [keys.seal_face_device_slot(master, face, secret, entry=entry, kdf=kdf)
            for entry, secret in devices], added


def create(
    path: Path,
    template: np.ndarray,
    *,
    preset: str = ironmask.DEFAULT_PRESET,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
    device_store: SecretStore | None = None,
    mode: str = DEFAULT_MODE,
    passphrase: str | None = None,
) -> Created:
    """A new vault at `path` in `mode`, with a recovery slot.

    mode "face": a face slot, plus a device-only slot if `device_store` is given.
    mode "face+device": one face+device slot whose secret goes into `device_store`.
    mode "face+passphrase": one face+passphrase slot (`passphrase` required).
    """
    _check_mode(mode)
    if mode == "face+passphrase" and passphrase is not None:
        keys.normalise_passphrase(passphrase)  # refuse a too-short one before enrolling
    master = crypto.random_bytes(crypto.KEY_SIZE)
    face = keys.enroll_face(template, preset=preset)
    face_slots, added = _mode_slots(mode, master, face, kdf, store=device_store,
                                    passphrase=passphrase, devices=[])
    recovery_slot, code = keys.seal_recovery_slot(master, kdf=kdf)
    slots = [*face_slots, recovery_slot]
    if mode == "face" and device_store is not None:
        slots.append(keys.seal_device_slot(master, device_store, kdf=kdf))
    try:
        opened = vault_mod.create_vault(Path(path), master, slots)
    except BaseException:
        for entry in added:
            device_store.delete(entry)  # type: ignore[union-attr]
        raise
    return Created(opened, code)


def unlock(
    path: Path, offer: keys.Offer, policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy()
) -> vault_mod.OpenVault:
    return unlock_full(path, offer, policy).vault


def unlock_full(
    path: Path, offer: keys.Offer, policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy()
) -> Unlocked:
    """Like unlock, and keep the face enrollment (helper, decoded codeword) if a face opened
    it: change_mode and pair_device use it to re-seal without a new capture."""
    header = vault_mod.read_header(Path(path))
    found = keys.open_slots(header.slots, offer, policy)
    return Unlocked(vault_mod.open_vault(Path(path), found.key), found.face)


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
    passphrase: str | None = None,
) -> Iterator[vault_mod.Progress | str]:
    """Enroll a fresh face and destroy every old face slot (revocation), keeping the mode.

    Without rotate_key the master key stays: the old helper data, if someone kept a copy of
    the old header, still opens a copy of the old header with the old face. With rotate_key
    every object is re-encrypted under a new master key, a new recovery code is made (the
    generator's last yielded value is that code, a str) and device slots are re-sealed.
    In face+passphrase mode `passphrase` is required (it may be a new one); in face+device
    mode only devices whose secret is in `device_store` keep a slot (they hold the new face);
    other devices must be paired again. Yields progress while re-encrypting.
    """
    mode = mode_of(vault.header.slots)
    if mode not in MODES:
        mode = DEFAULT_MODE
    face_slots = [s for s in vault.header.slots if s.kind in slots_mod.FACE_KINDS]
    kdf = kdf or (face_slots[0].kdf if face_slots else kdf_mod.DEFAULT_PARAMS)
    face = keys.enroll_face(new_template, preset=preset or _preset_of(face_slots))
    yield from _rebuild(vault, mode, face, kdf, store=device_store, passphrase=passphrase,
                        rotate_key=rotate_key)


def change_mode(
    vault: vault_mod.OpenVault,
    mode: str,
    *,
    face: keys.FaceKey | None = None,
    new_template: np.ndarray | None = None,
    preset: str | None = None,
    passphrase: str | None = None,
    device_store: SecretStore | None = None,
    rotate_key: bool | None = None,
    kdf: kdf_mod.KdfParams | None = None,
) -> Iterator[vault_mod.Progress | str]:
    """Move the vault to `mode` (or set a new passphrase in face+passphrase mode).

    The face comes from `face` (the enrollment that opened the vault, from unlock_full: the
    same helper and codeword, so no second sketch of the face is made) or, if given, from
    `new_template` (a fresh enrollment, which also revokes the old one). Every old face slot
    and, in a two-factor mode, every device-only slot is removed.

    rotate_key None means: rotate when moving to a two-factor mode from another mode, so an
    old copy of the header (which opens with fewer factors) cannot decrypt files added after
    the change. A rotation yields progress and finally the new recovery code (a str).
    """
    _check_mode(mode)
    old_mode = mode_of(vault.header.slots)
    if mode == old_mode and mode != "face+passphrase" and new_template is None:
        raise UsageError(f"the vault is already in {mode} mode",
                         hint="use `facevault device pair` to add a device" if mode == "face+device" else None)
    face_slots = [s for s in vault.header.slots if s.kind in slots_mod.FACE_KINDS]
    if new_template is not None:
        face = keys.enroll_face(new_template, preset=preset or _preset_of(face_slots))
    if face is None:
        raise UsageError("changing the mode needs your face",
                         hint="unlock with --face SRC, or give --new-face SRC for a fresh enrollment")
    if mode == "face+passphrase" and passphrase is None:
        raise UsageError("face+passphrase needs a passphrase or PIN",
                         hint="give --passphrase-file F, or type it when asked")
    if rotate_key is None:
        rotate_key = mode != "face" and mode != old_mode
    kdf = kdf or (face_slots[0].kdf if face_slots else kdf_mod.DEFAULT_PARAMS)
    yield from _rebuild(vault, mode, face, kdf, store=device_store, passphrase=passphrase,
                        rotate_key=rotate_key)


def _rebuild(
    vault: vault_mod.OpenVault,
    mode: str,
    face: keys.FaceKey,
    kdf: kdf_mod.KdfParams,
    *,
    store: SecretStore | None,
    passphrase: str | None,
    rotate_key: bool,
) -> Iterator[vault_mod.Progress | str]:
    """Replace every face slot by `face` sealed in `mode`; keep or re-seal the rest."""
    old = list(vault.header.slots)
    master = crypto.random_bytes(crypto.KEY_SIZE) if rotate_key else _master_key(vault)
    devices: list[tuple[str, bytes]] = []
    if mode == "face+device" and store is not None:
        for slot in old:
            if slot.kind == "face+device":
                secret = store.get(keys.device_entry(slot))
                if secret is not None:
                    devices.append((keys.device_entry(slot), secret))
    new, added = _mode_slots(mode, master, face, kdf, store=store, passphrase=passphrase, devices=devices)
    kept_entries = {entry for entry, _ in devices} | set(added)
    code = None
    try:
        if rotate_key:
            recovery_slot, code = keys.seal_recovery_slot(master, kdf=kdf)
            new.append(recovery_slot)
        else:
            new.extend(s for s in old if s.kind == "recovery")
        for slot in old:
            if slot.kind != "device" or mode != "face":
                continue  # a device-only slot would bypass the face in a two-factor mode
            if not rotate_key:
                new.append(slot)
                continue
            secret = store.get(keys.device_entry(slot)) if store is not None else None
            if secret is not None:  # a device we cannot re-seal for must be enabled again
                new.append(slots_mod.seal_slot("device", master, secret, kdf=slot.kdf, public=slot.public))
        kept_entries |= {keys.device_entry(s) for s in new if s.kind == "device"}
        if rotate_key:
            yield from vault.rotate_master_key(master, new)
        else:
            vault.replace_slots(new)
    except BaseException:
        for entry in added:
            store.delete(entry)  # type: ignore[union-attr]
        raise
    if store is not None:  # forget secrets of slots that are gone (this device's only)
        for slot in old:
            if slot.kind in ("device", "face+device") and keys.device_entry(slot) not in kept_entries:
                store.delete(keys.device_entry(slot))
    if code is not None:
        yield code


def _preset_of(face_slots: list[slots_mod.Slot]) -> str:
    if not face_slots:
        return ironmask.DEFAULT_PRESET
    params = ironmask.helper_from_bytes(keys.face_helper(face_slots[0])).params
    for name, candidate in ironmask.PRESETS.items():
        if candidate == params:
            return name
    return ironmask.DEFAULT_PRESET


def enable_device(vault: vault_mod.OpenVault, store: SecretStore) -> None:
    """Let this machine open the vault through its OS keyring (replaces an earlier device slot
    of this machine if its secret is still in the keyring). Face mode only: in a two-factor
    mode a device-only slot would open the vault without the face (use pair_device)."""
    slots = list(vault.header.slots)
    if mode_of(slots) not in ("face", "none"):
        raise UsageError(
            f"this vault is in {mode_of(slots)} mode: device-only unlock would skip the face",
            hint="use `facevault device pair` to let another device open it with your face",
        )
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


def pair_device(vault: vault_mod.OpenVault, face: keys.FaceKey) -> str:
    """Add a face+device slot for another machine; return its one-time pairing code.

    The new slot holds the same enrollment (`face`, from unlock_full) under a fresh device
    secret that exists only in the returned code. `import_device` on the other machine moves
    it into that machine's keyring under a new secret and removes this slot, so the code
    opens nothing once used. Until then, code + face open the vault: treat it like a key.
    """
    slots = list(vault.header.slots)
    if mode_of(slots) != "face+device":
        raise UsageError("pairing is for face+device vaults",
                         hint="switch with `facevault mode VAULT face+device` first")
    kdf = next(s.kdf for s in slots if s.kind == "face+device")
    secret = keys.new_device_secret()
    slot = keys.seal_face_device_slot(_master_key(vault), face, secret,
                                      entry=keys.new_device_entry(), kdf=kdf)
    vault.replace_slots([*slots, slot])
    return keys.pairing_code(slot.slot_id, secret)


def import_device(
    path: Path,
    code: str,
    embeddings: list[np.ndarray] | tuple[np.ndarray, ...],
    store: SecretStore,
    policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy(),
) -> vault_mod.OpenVault:
    """Pair this machine using a code from pair_device and a fresh look at the face.

    Opens the pairing slot (face + the code's secret), seals a new face+device slot under a
    new secret kept in `store`, and removes the pairing slot: the code is then used up.
    """
    slot_id, secret = keys.parse_pairing_code(code)
    header = vault_mod.read_header(Path(path))
    pending = [s for s in header.slots if s.kind == "face+device" and s.slot_id == slot_id]
    if not pending:
        raise NotRecognisedError(
            "this vault has no pairing waiting for that code",
            hint="it was used already, or this copy of the vault folder is older than the "
                 "pairing: sync it and try again, or pair again on the other device",
        )
    transport = MemoryStore()
    transport.set(keys.device_entry(pending[0]), secret)
    found = keys.open_slots(pending, keys.Offer(face_embeddings=tuple(embeddings), store=transport), policy)
    if found.face is None:  # cannot happen: only a face+device slot was offered
        raise NotRecognisedError("not recognised: the pairing slot did not open")
    vault = vault_mod.open_vault(Path(path), found.key)
    entry, mine = keys.new_device_entry(), keys.new_device_secret()
    store.set(entry, mine)
    try:
        new_slot = keys.seal_face_device_slot(found.key, found.face, mine, entry=entry, kdf=pending[0].kdf)
        vault.replace_slots([new_slot if s.slot_id == slot_id else s for s in vault.header.slots])
    except BaseException:
        store.delete(entry)
        raise
    return vault


def remove_device(
    vault: vault_mod.OpenVault,
    *,
    slot_id: str | None = None,
    store: SecretStore | None = None,
) -> int:
    """Remove one device's slot (device or face+device): the slot with id `slot_id` (hex, as
    `facevault slots` shows it), or else this machine's (its secret is in `store`).
    Refuses to remove the last face+device slot (only the recovery code would be left)."""
    slots = list(vault.header.slots)
    kinds = ("device", "face+device")
    if slot_id is not None:
        gone = [s for s in slots if s.kind in kinds and s.slot_id.hex() == slot_id.lower()]
        if not gone:
            raise UsageError(f"no device slot with id {slot_id}", hint="see `facevault slots VAULT`")
    elif store is not None:
        gone = [s for s in slots if s.kind in kinds and store.get(keys.device_entry(s)) is not None]
    else:
        raise UsageError("say which device to remove", hint="give a slot id, or run it on that device")
    if not gone:
        return 0
    left = [s for s in slots if s not in gone]
    if mode_of(slots) == "face+device" and not any(s.kind == "face+device" for s in left):
        raise UsageError("that is the last paired device: only the recovery code would open the vault",
                         hint="pair another device first, or change the mode")
    vault.replace_slots(left)
    if store is not None:
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
        if slot.kind in slots_mod.FACE_KINDS:
            params = ironmask.helper_from_bytes(keys.face_helper(slot)).params
            detail = f"IronMask C({params.dim},{params.alpha}) {params.bits:.1f} bits; {cost}"
            if slot.kind == "face+device":
                detail = f"keyring entry {keys.device_entry(slot)}; " + detail
        elif slot.kind == "device":
            detail = f"keyring entry {keys.device_entry(slot)}; {cost}"
        else:
            detail = cost
        infos.append(SlotInfo(slot.kind, slot.slot_id.hex(), detail))
    return infos




def explain(
    path: Path,
    *,
    measured: dict[str, threat.FarEstimate] | None = None,
    passphrase_bits: float = threat.PIN6_BITS,
    kdf_seconds: float | None = None,
) -> threat.ModeFigures:
    """Offline attack figures for the vault at `path` (no unlock needed: the slot kinds, the
    IronMask preset and the KDF cost are public). The KDF is timed here unless `kdf_seconds`
    is given. A "mixed" header counts as its weakest part (a plain face slot)."""
    header = vault_mod.read_header(Path(path))
    face_slots = [s for s in header.slots if s.kind in slots_mod.FACE_KINDS]
    if not face_slots:
        raise UsageError("this vault has no face slot", hint="only its recovery code or a device opens it")
    mode = mode_of(header.slots)
    if mode not in MODES:
        mode = "face" if any(s.kind == "face" for s in face_slots) else face_slots[0].kind
    slot = next(s for s in face_slots if s.kind == mode)
    params = ironmask.helper_from_bytes(keys.face_helper(slot)).params
    seconds = kdf_seconds if kdf_seconds is not None else kdf_mod.measure(slot.kdf)
    return threat.figures(
        mode, preset_bits=params.bits, kdf_seconds=seconds,
        far=threat.far_estimate(_preset_of([slot]), measured=measured),
        passphrase_bits=passphrase_bits,
        device_only_slots=sum(1 for s in header.slots if s.kind == "device"),
    )
