"""Upgrading a version-1 vault folder to version 2, in place and crash-safe.

The version-1 master key M becomes the key of epoch 0, so every object stays where it is
and nothing is re-encrypted. The slots the person's offer opens are made again as
version-2 slots (the face that opened it, with the model it came from; a device or
recovery slot whose secret was offered); the others are kept, as they were, in the epoch-0
header's legacy list, reaching the epoch key through the bridge until the first change
that revokes (FORMAT.md, "Upgrading a version-1 vault").

The order is the crash safety: (1) this device's snapshot, holding one record per file of
index.fve and of every conflict copy a sync tool made of it, is written under M; (2) the
epoch-0 header is written (the commit point: from here the folder is version 2); (3) the
version-1 files are deleted. A crash before (2) leaves a version-1 vault (the snapshot is a
stray the next upgrade overwrites); after it, a version-2 vault whose version-1 leftovers
the next open deletes.

Two devices that upgrade the same copy before syncing write the same epoch id (its writer
is derived from M) and the same records (their ids are derived from M and the file), so
their folders merge into one vault: the two epoch-0 headers are a fork, merged at the next
write.

May import: stdlib, facevault.core, facevault.errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from facevault.core import fsutil
from facevault.core.crypto import hmac_sha256
from facevault.core.epochs import EpochKeys, write_epoch
from facevault.core.facekey import DecodePolicy, EnrolledFace
from facevault.core.factors import DeviceFactor, DeviceSecret, FaceFactor, Factors, \
    PassphraseFactor, RecoveryFactor
from facevault.core.folder import LOCK_NAME, SNAPSHOT_DIR, V1_INDEX, is_v2, scan, v1_leftovers
from facevault.core.header import EpochId
from facevault.core.journal import Snapshot, write_snapshot
from facevault.core.kinds import Kind
from facevault.core.modes import Mode, mode_of_kinds
from facevault.core.records import PUT, Record
from facevault.core.sealing import SlotPlan
from facevault.core.slots import Slot
from facevault.core.state import KeyRing
from facevault.core.unlocking import Opened
from facevault.core.v1 import header as v1_header
from facevault.core.v1 import index as v1_index
from facevault.core.v1.secrets import entry_of, guesses
from facevault.core.v1.slots import Slot as V1Slot
from facevault.core.v1.slots import open_slot
from facevault.core.v1.unlocking import _open_slots
from facevault.core.vault_objects import object_path
from facevault.core.vault import DeviceRef, OpenVault, open_vault, read_headers_at
from facevault.errors import FaceVaultError, IntegrityError

__all__ = ["UPGRADE_DEVICE", "upgrade_records", "upgrade_epoch", "upgrade_vault", "open_upgraded",
           "adopt_legacy"]

UPGRADE_DEVICE = "0" * 32  # the writer of the records an upgrade makes
_UPGRADE_NAME = "version 1"  # their device name (a conflict copy: "x (conflict, version 1, ...)")


def upgrade_records(master: bytes, indexes: Sequence[v1_index.Index],
                    exists: Callable[[str], bool] = lambda _object_id: True) -> list[Record]:
    """One put per distinct (name, object) of the version-1 indexes whose object is still
    there (`exists`). Ids are derived from M, the name and the object, so two devices
    upgrading one copy make the same records. The first index (index.fve) wins a name its
    conflict copies disagree on (its puts carry a higher clock); the other versions are
    shown as conflict copies."""
    epoch = upgrade_epoch(master, _vault_id_of(indexes))
    seen: dict[str, Record] = {}
    for rank, index in enumerate(indexes):
        for e in index.entries:
            if not exists(e.object_id):
                continue  # replaced on the device that wrote this index: its object is gone
            version = hmac_sha256(master, b"FaceVault upgrade record\x00" + e.name.encode("utf-8")
                                  + b"\x00" + e.object_id.encode("ascii"))[:16].hex()
            seen.setdefault(version, Record(version, PUT, e.name, (), 2 if rank == 0 else 1,
                                            UPGRADE_DEVICE, 0, float(e.mtime), _UPGRADE_NAME,
                                            e.object_id, e.nonce.hex(), e.size, float(e.mtime),
                                            epoch.label))
    return sorted(seen.values())


def _vault_id_of(indexes: Iterable[v1_index.Index]) -> bytes:
    for index in indexes:
        return index.vault_id
    raise IntegrityError("the version-1 vault has no index")


def upgrade_epoch(master: bytes, vault_id: bytes) -> EpochId:
    writer = hashlib.sha256(b"FaceVault upgrade writer\x00" + vault_id + master).digest()[:16]
    return EpochId(0, writer)


def _indexes(root: Path, master: bytes, vault_id: bytes) -> list[v1_index.Index]:
    """index.fve (or the pending index of an interrupted re-key) and every conflict copy of
    index.fve that authenticates under M."""
    found = [v1_index.load_index(root, master, vault_id)[0]]
    for copy, original in scan(root).copies_in(""):
        if original.name != V1_INDEX:
            continue
        data = fsutil.read_regular(copy, v1_index.MAX_INDEX_SIZE, "index")
        if data is None:
            continue
        try:
            found.append(v1_index.open_index(master, data, vault_id))
        except IntegrityError:
            continue  # not this vault's, or damaged: it is left where it is
    return found


def _converts(slot: V1Slot, offer: Factors, policy: DecodePolicy, opened: V1Slot,
              face: EnrolledFace | None) -> SlotPlan | None:
    """The version-2 plan for `slot` when the offer holds its secret, else None."""
    probe = offer.get(FaceFactor)
    if slot.kind.spec.carries_face:
        if slot != opened or face is None or probe is None:
            return None  # another enrollment or device: its secret is not here
        face = replace(face, model=probe.model)
        if slot.kind is Kind.FACE:
            return SlotPlan(Kind.FACE, Factors(face), slot.kdf)
        if slot.kind is Kind.FACE_PASSPHRASE:
            passphrase = offer.get(PassphraseFactor)
            return SlotPlan(slot.kind, Factors(face, passphrase), slot.kdf) if passphrase else None
        secret = _device_secret(slot, offer)
        return SlotPlan(slot.kind, Factors(face, secret), slot.kdf) if secret else None
    if slot != opened:  # a recovery or device slot: offered and opening the same master?
        try:
            if not any(_opens(slot, g.secret) for g in guesses(slot, offer, policy)):
                return None
        except FaceVaultError:
            return None
    if slot.kind is Kind.RECOVERY:
        code = offer.get(RecoveryFactor)
        return SlotPlan(Kind.RECOVERY, Factors(code), slot.kdf) if code else None
    secret = _device_secret(slot, offer)
    return SlotPlan(Kind.DEVICE, Factors(secret), slot.kdf) if secret else None


def _opens(slot: V1Slot, secret: bytes) -> bool:
    try:
        open_slot(slot, secret)
    except FaceVaultError:
        return False
    return True


def _device_secret(slot: V1Slot, offer: Factors) -> DeviceSecret | None:
    device, entry = offer.get(DeviceFactor), entry_of(slot)
    if device is None or entry is None:
        return None
    secret = device.store.get(entry)
    return DeviceSecret(entry, secret) if secret else None


def upgrade_vault(root: Path, offer: Factors, *, device: bytes,
                  policy: DecodePolicy = DecodePolicy()) -> tuple[EpochKeys, Mode | None]:
    """Upgrade the version-1 vault at `root` with what the person offers (NotRecognisedError
    when it opens nothing; the folder is untouched then). The caller holds the folder's
    lock. Returns the keys of epoch 0 and the vault's mode."""
    root = Path(root)
    head = v1_header.read_header(root)
    master, v1_opened = _open_slots(head.slots, offer, policy)
    v1_header.verify_header(head, master)
    indexes = _indexes(root, master, head.vault_id)
    plans: list[SlotPlan] = []
    legacy: list[V1Slot] = []
    made_for: dict[int, int] = {}
    for i, slot in enumerate(head.slots):
        plan = _converts(slot, offer, policy, v1_opened.slot, v1_opened.face)
        if plan is None:
            legacy.append(slot)
        else:
            made_for[i] = len(plans)
            plans.append(plan)
    slots: list[Slot] = [p.make() for p in plans]
    mode = mode_of_kinds(s.kind for s in head.slots)
    epoch = upgrade_epoch(master, head.vault_id)
    records = upgrade_records(master, indexes, lambda oid: object_path(root, oid).is_file())
    snap = Snapshot(device, epoch, {}, 2, tuple(records), frozenset())
    (root / SNAPSHOT_DIR).mkdir(mode=0o700, exist_ok=True)
    write_snapshot(root / SNAPSHOT_DIR / f"{device.hex()}.fvs", head.vault_id, snap, master)
    ring = KeyRing({epoch: master})
    header, key = write_epoch(root, vault_id=head.vault_id, parents=[], device=epoch.writer,
                              mode=mode, slots=slots, removed=[], ring=ring, legacy_slots=legacy,
                              key=master, number=0)
    for leftover in v1_leftovers(root):
        fsutil.remove_quietly(leftover)
    opened_index = head.slots.index(v1_opened.slot)
    new_slot = slots[made_for[opened_index]] if opened_index in made_for else None
    face = v1_opened.face
    probe = offer.get(FaceFactor)
    if face is not None and probe is not None:
        face = replace(face, model=probe.model)
    opened = Opened(new_slot, face, v1_opened.slot.kind, legacy=new_slot is None)
    return EpochKeys(header, key, ring, opened), mode



def open_upgraded(path: Path, offer: Factors, *, device: DeviceRef,
                  policy: DecodePolicy = DecodePolicy()) -> OpenVault:
    """Upgrade the version-1 vault at `path` under its lock and return it open (version 2).
    When another process upgraded it first, it is opened as it is."""
    root = Path(path)
    lock = fsutil.FileLock(root / LOCK_NAME, busy_message=(
        f"the vault {root} is busy: another FaceVault process is changing it"))
    lock.acquire()
    try:
        keys = None if is_v2(root) else upgrade_vault(root, offer, device=device.id, policy=policy)[0]
    finally:
        lock.release()
    if keys is None:
        return open_vault(root, offer, device=device, policy=policy)
    return OpenVault(root, device, read_headers_at(root), keys)


def adopt_legacy(vault: OpenVault, offer: Factors, policy: DecodePolicy = DecodePolicy()) -> bool:
    """After a version-1 slot of an upgraded vault opened it: make that slot again as a
    version-2 slot (a new epoch that revokes nothing), so the next revoking change does not
    drop this way in. Returns whether it did."""
    opened = vault.opened
    if not opened.legacy or opened.legacy_id == b"":
        return False
    v1_slot = next((s for s in vault.header.legacy_slots if s.slot_id == opened.legacy_id), None)
    if v1_slot is None:
        return False
    plan = _converts(v1_slot, offer, policy, v1_slot, opened.face)
    if plan is None:
        return False
    vault.change_slots(list(vault.header.slots), [plan], mode=vault.mode, revoke=False,
                       drop_legacy=[v1_slot.slot_id])
    return True
