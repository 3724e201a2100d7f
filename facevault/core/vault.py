"""A version-2 vault folder: create, open, list, add, extract, remove, change slots (a new
epoch), re-encrypt, compact and garbage-collect.

No file is written by two devices: objects are written once under fresh random names; each
device appends to its own journal and replaces its own snapshot; each epoch header is
written once by the device that starts the epoch. Every device computes the same view from
the same records (facevault.core.merge), so a sync tool can deliver them in any order and
two devices can edit between syncs without losing either side.

The keys never leave this module: `open_vault` finds the epoch key from what a person
offers; new slots come as SlotPlans. An `OpenVault` is not thread-safe. Writers hold the
folder's `.lock` (this machine only; devices never need each other's lock) and re-read the
folder when they take it.

May import: stdlib, facevault.core, facevault.errors.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, NamedTuple

from facevault.core import fsutil
from facevault.core.crypto import random_bytes
from facevault.core.epochs import EpochKeys, HeaderSet, header_sigs, read_headers, read_headers_at, \
    unlock_headers, write_epoch
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.folder import HEADERS_DIR, JOURNAL_DIR, LOCK_NAME, OBJECTS_DIR, STATE_ROLES, \
    scan, v1_leftovers
from facevault.core.header import EpochId, Header, commitment
from facevault.core.journal import append_frame, new_journal
from facevault.core.merge import Entry
from facevault.core.modes import Mode
from facevault.core.progress import ByteProgress, Sink, as_progress, run_to_end
from facevault.core.records import DEL, MV, PUT, Record, check_name
from facevault.core.sealing import SlotPlan, make_all
from facevault.core.slots import Slot
from facevault.core.state import KeyRing, ReadCache, State, after_append, load_state
from facevault.core.unlocking import Opened
from facevault.core.vault_objects import decrypt_object, object_path, reencrypt_object, write_object
from facevault.errors import IntegrityError, StorageError, UsageError, VaultBusyError, PathError

__all__ = ["DeviceRef", "Entry", "ByteProgress", "OpenVault", "HeaderSet", "Keys", "create_vault",
           "open_vault", "read_headers_at", "COMPACT_AFTER", "GC_GRACE_SECONDS"]

COMPACT_AFTER = 200  # frames in this device's journal before it writes a snapshot
GC_GRACE_SECONDS = 2 * 86400.0  # unreferenced objects younger than this (here) are kept
_READ_BYTES_LIMIT = 64 * 1024 * 1024


class DeviceRef(NamedTuple):
    """This computer in a vault: a random 16-byte id (names its journal) and a short name
    (for conflict copies: "report (conflict, laptop, ...).pdf")."""

    id: bytes
    name: str


class OpenVault:
    """An unlocked version-2 vault. Build it with `create_vault` or `open_vault`."""

    def __init__(self, root: Path, device: DeviceRef, headers: HeaderSet, keys: EpochKeys) -> None:
        self._root = Path(root)
        self.device = device
        self._headers = headers
        self._keys: EpochKeys | None = keys
        self._cache = ReadCache()
        self._header_sigs = header_sigs(self._root)
        self._state = load_state(scan(self._root, STATE_ROLES), headers.vault_id, keys.ring,
                                 device.id, self._cache)
        self._lock = fsutil.FileLock(self._root / LOCK_NAME, busy_message=(
            f"the vault {self._root} is busy: another FaceVault process is changing it"))
        self._depth = 0
        self.on_change: Callable[[OpenVault], None] | None = None  # after each change seen

    # -- what it is ------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._root

    @property
    def vault_id(self) -> bytes:
        return self._headers.vault_id

    @property
    def header(self) -> Header:
        return self._k.header

    @property
    def epoch(self) -> EpochId:
        return self._k.header.epoch

    @property
    def mode(self) -> Mode | None:
        """The mode, from the authenticated header."""
        return self._k.header.mode

    @property
    def opened(self) -> Opened:
        return self._k.opened

    @property
    def forked(self) -> bool:
        return bool(self._k.other_tips)

    @property
    def state(self) -> State:
        return self._state

    @property
    def _k(self) -> EpochKeys:
        if self._keys is None:
            raise UsageError("the vault is closed")
        return self._keys

    def commitment(self, epoch: EpochId) -> bytes | None:
        """What a device pins for `epoch`, if this vault's key history holds its key."""
        key = self._k.ring.get(epoch)
        return commitment(key, self.vault_id, epoch) if key is not None else None

    def known_epochs(self) -> list[EpochId]:
        return sorted(self._k.ring.keys)

    def close(self) -> None:
        self._keys = None
        self._depth = 0
        self._lock.release()

    def __enter__(self) -> OpenVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Files and conflict copies, sorted by the name shown."""
        return self._state.view.sorted_entries()

    def conflicts(self) -> list[Entry]:
        return self._state.view.conflicts()

    def refresh(self) -> bool:
        """Re-read the folder (another device may have synced changes). Returns False when an
        epoch this device holds no key for arrived (a slot change elsewhere, maybe at the same
        time as one here): it must unlock again to follow it."""
        sigs = header_sigs(self._root)
        if sigs != self._header_sigs:
            self._headers, self._header_sigs = read_headers(scan(self._root, STATE_ROLES)), sigs
        if any(tip.epoch not in self._k.ring.keys for tip in self._headers.tips):
            return False
        self._reload()
        self._changed()
        return True

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

    def _entry(self, name: str) -> Entry:
        entry = self._state.view.shown_as(name)
        if entry is None:
            raise UsageError(f"there is no file named {name!r} in the vault")
        return entry

    def _object_key(self, entry: Entry) -> bytes:
        key = self._k.ring.by_label(entry.key_epoch)
        if key is None:
            raise IntegrityError(f"{entry.name!r} was written on another device under keys that "
                                 "have not reached this one yet", hint="Let the sync finish, then try again.")
        return key

    def _decrypt(self, entry: Entry, dst: BinaryIO) -> Generator[ByteProgress, None, None]:
        for done in decrypt_object(self._root, self._object_key(entry), entry, dst):
            yield ByteProgress(done, entry.size)

    def read_bytes(self, name: str, *, max_size: int = _READ_BYTES_LIMIT) -> bytes:
        entry = self._entry(name)
        if entry.size > max_size:
            raise UsageError(f"{name!r} is {entry.size} bytes; extract it to a file instead")
        out = io.BytesIO()
        for _ in self._decrypt(entry, out):
            pass
        return out.getvalue()

    def extract(self, name: str, dest: Path, *, overwrite: bool = False) -> Generator[ByteProgress, None, None]:
        """Decrypt `name` to `dest`; nothing appears there unless it all authenticated."""
        entry = self._entry(name)
        dest = Path(dest)
        fsutil.check_output(dest, overwrite=overwrite)
        return self._extract(entry, dest, overwrite)

    def _extract(self, entry: Entry, dest: Path, overwrite: bool) -> Generator[ByteProgress, None, None]:
        with fsutil.atomic_write(dest, replace=overwrite, mtime=entry.mtime,
                                 what=f"extracting {entry.name!r}") as out:
            yield from self._decrypt(entry, out)  # type: ignore[arg-type]

    def verify(self) -> Generator[ByteProgress, None, None]:
        entries = self.entries()
        total, base = sum(e.size for e in entries), 0
        for entry in entries:
            for p in self._decrypt(entry, Sink()):  # type: ignore[arg-type]
                yield ByteProgress(base + p.done, total)
            base += entry.size

    # -- the write lock ----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[OpenVault]:
        """Hold this machine's write lock (re-entrant); re-read the folder on entry and merge
        a fork of epochs first."""
        self._k  # noqa: B018 - raises UsageError when closed
        if self._depth == 0:
            self._lock.acquire()
            try:
                if not self.refresh():
                    raise UsageError("this vault's keys changed on another device",
                                     hint="Lock it and unlock it again.")
                if self.forked:
                    from facevault.core.vault_upkeep import merge_fork

                    merge_fork(self)
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._lock.release()

    # -- writing ---------------------------------------------------------------------------

    def _record(self, op: str, name: str, replaces: Sequence[str], **fields: object) -> Record:
        seq = self._state.own_seq + 1
        return Record(random_bytes(16).hex(), op, name, tuple(replaces), self._state.view.lamport + 1,
                      self.device.id.hex(), seq, time.time(), self.device.name, **fields)  # type: ignore[arg-type]

    def _commit(self, record: Record) -> None:
        """Append `record` to this device's journal (the commit point) and re-merge."""
        path = self._root / JOURNAL_DIR / f"{self.device.id.hex()}.fvj"
        own = self._state.own
        if (own.last_seq if own is not None else 0) < self._state.own_seq:
            # this device's journal is behind what the folder shows of it (a sync tool kept
            # the newer copy as a conflict copy): a snapshot holds it all, the journal restarts
            self.compact()
            own = self._state.own
        if own is None:
            (self._root / JOURNAL_DIR).mkdir(mode=0o700, exist_ok=True)
            own = new_journal(path, self.vault_id, self.device.id, record.seq - 1)
        end = append_frame(path, self.vault_id, self.device.id, self.epoch, self._k.key, record,
                           own.valid_end)
        read = replace(own, records=(*own.records, record), last_seq=record.seq, valid_end=end)
        self._state = after_append(self._state, record, read)
        self._cache.appended(path, read, self._state)
        self._changed()
        if self._state.journal_frames.get(self.device.id.hex(), 0) >= COMPACT_AFTER:
            self.compact()

    def _check_free(self, name: str, overwrite: bool) -> Entry | None:
        current = self._state.view.shown_as(name)
        if current is not None and not overwrite:
            raise PathError(f"the vault already has a file named {name!r}",
                               hint="Choose another name or overwrite.")
        return current

    def add_file(self, src: Path, name: str | None = None, *,
                 overwrite: bool = False) -> Generator[ByteProgress, None, None]:
        """Encrypt the file `src` into the vault as `name` (default: its file name)."""
        src = Path(src)
        name = check_name(src.name if name is None else name)
        if not src.is_file():
            raise UsageError(f"{src} is not a file")
        self._check_free(name, overwrite)
        return self._add(src, name, overwrite)

    def _add(self, src: Path, name: str, overwrite: bool) -> Generator[ByteProgress, None, None]:
        with self.lock():
            current = self._check_free(name, overwrite)
            try:
                f = fsutil.open_regular(src, "the file", follow_links=True, error=UsageError)
            except FileNotFoundError as exc:
                raise fsutil.storage_error(exc, f"reading {src}") from exc
            with f:
                st = os.fstat(f.fileno())
                made = yield from as_progress(write_object(self._root, self._k.key, f, name), 0, st.st_size)
            self._put(name, made, st.st_mtime, current)

    def _put(self, name: str, made: object, mtime: float, current: Entry | None) -> None:
        record = self._record(PUT, name, [current.version] if current else [],
                              object_id=made.object_id, nonce=made.nonce.hex(),  # type: ignore[attr-defined]
                              size=made.size, mtime=float(mtime),  # type: ignore[attr-defined]
                              key_epoch=self.epoch.label)
        try:
            self._commit(record)
        except BaseException:
            fsutil.remove_quietly(object_path(self._root, made.object_id))  # type: ignore[attr-defined]
            raise

    def add_bytes(self, name: str, data: bytes, *, overwrite: bool = False,
                  mtime: float | None = None) -> Entry:
        """Store `data` as `name` (small content; mtime defaults to now)."""
        name = check_name(name)
        with self.lock():
            current = self._check_free(name, overwrite)
            made = run_to_end(write_object(self._root, self._k.key, io.BytesIO(bytes(data)), name))
            self._put(name, made, time.time() if mtime is None else float(mtime), current)
        return self._entry(name)

    def remove(self, name: str) -> None:
        """Remove the file (or conflict copy) shown as `name`: a tombstone for that version."""
        with self.lock():
            entry = self._entry(name)
            self._commit(self._record(DEL, entry.original, [entry.version]))

    def reencrypt(self) -> Generator[ByteProgress, None, None]:
        """Re-encrypt every file under the current epoch key (`mv` records), then delete the
        old object files, so a key of an earlier epoch opens none of them."""
        with self.lock():
            entries = [e for e in self.entries() if e.key_epoch != self.epoch.label]
            total, base = sum(e.size for e in entries), 0
            for entry in entries:
                made = yield from as_progress(reencrypt_object(
                    self._root, self._object_key(entry), self._k.key, entry), base, total)
                self._commit(self._record(MV, entry.original, [], object_id=made.object_id,
                                          nonce=made.nonce.hex(), key_epoch=self.epoch.label,
                                          target=entry.version))
                fsutil.remove_quietly(object_path(self._root, entry.object_id))
                base += entry.size

    def change_slots(self, keep: Sequence[Slot], add: Sequence[SlotPlan], *, mode: Mode | None,
                     revoke: bool, drop_legacy: Sequence[bytes] = ()) -> list[Slot]:
        """Start a new epoch under a fresh key whose slots are `keep` plus new ones made from
        `add`. The new key is wrapped to every slot; an old header and any slot it dropped
        open nothing written from now on. `revoke` also drops the version-1 slots an upgrade
        kept (`drop_legacy`: only those). Returns the new slots (in the order of `add`)."""
        new = make_all(list(add))
        with self.lock():
            parent = self._k.header
            slots = [*keep, *new]
            ids = {s.slot_id for s in slots}
            removed = [s.slot_id for s in parent.slots if s.slot_id not in ids]
            legacy = () if revoke else tuple(s for s in parent.legacy_slots if s.slot_id not in drop_legacy)
            header, key = write_epoch(self._root, vault_id=self.vault_id, parents=[parent],
                                      device=self.device.id, mode=mode, slots=slots, removed=removed,
                                      ring=self._k.ring, legacy_slots=legacy)
            self._switch(header, key, [parent])
        return new

    def _switch(self, header: Header, key: bytes, superseded: Sequence[Header]) -> None:
        """Make `header` current and delete the header files it supersedes (old helpers are
        sketches of a face: FaceVault keeps none it no longer needs)."""
        keys = self._k
        self._keys = replace(keys, header=header, key=key, other_tips=[])
        for old in superseded:
            path = self._headers.paths.get(old.digest)
            if path is not None:
                fsutil.remove_quietly(path)
        self._headers = read_headers(scan(self._root, STATE_ROLES))
        self._header_sigs = header_sigs(self._root)
        self._changed()

    # -- housekeeping ------------------------------------------------------------------------

    def compact(self) -> None:
        """Write this device's snapshot (everything it knows), start an empty journal after
        it, then remove merged conflict copies and collect garbage."""
        from facevault.core.vault_upkeep import compact

        with self.lock():
            compact(self)

    def gc(self, *, grace_seconds: float = GC_GRACE_SECONDS) -> int:
        """Delete object files no live version refers to once they have been on this machine
        longer than `grace_seconds` (a sync tool may deliver an object before the record that
        names it), crash debris older than an hour, and a version-1 vault's leftovers."""
        from facevault.core.vault_upkeep import collect

        with self.lock():
            return collect(self, grace_seconds)

    def _reload(self) -> None:
        self._state = load_state(scan(self._root, STATE_ROLES), self.vault_id, self._k.ring,
                                 self.device.id, self._cache)


def create_vault(path: Path, plans: Sequence[SlotPlan], *, mode: Mode | None,
                 device: DeviceRef) -> OpenVault:
    """A new vault in `path` (absent or an empty folder; PathError otherwise): epoch 0
    under a fresh key, a slot made from each plan. The folder and its sub-folders are
    owner-only (0700), an existing empty folder included."""
    root = Path(path)
    slots = make_all(list(plans))
    try:
        if root.exists():
            if not root.is_dir():
                raise PathError(f"{root} exists and is not a folder")
            if any(root.iterdir()):
                raise PathError(f"{root} is not empty", hint="Choose a new or empty folder.")
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        for sub in (OBJECTS_DIR, JOURNAL_DIR, HEADERS_DIR):
            (root / sub).mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise fsutil.storage_error(exc, f"creating {root}") from exc
    vault_id = random_bytes(16)
    ring = KeyRing({})
    header, key = write_epoch(root, vault_id=vault_id, parents=[], device=device.id, mode=mode,
                              slots=slots, removed=[], ring=ring)
    headers = read_headers(scan(root, STATE_ROLES))
    return OpenVault(root, device, headers, EpochKeys(header, key, ring, Opened(None)))


class Keys(NamedTuple):
    """What an unlock found, before any journal is read: for a caller's trust check."""

    vault_id: bytes
    epoch: EpochId
    mode: Mode | None
    commitment: Callable[[EpochId], bytes | None]


def open_vault(path: Path, offer: Factors, *, device: DeviceRef,
               policy: DecodePolicy = DecodePolicy(), headers: HeaderSet | None = None,
               check: Callable[[Keys], None] | None = None) -> OpenVault:
    """Open the vault at `path` with what the person offers (NotRecognisedError if nothing
    fits). `headers`: the headers already read (an unlock reads them once); `check` sees
    the keys found before the journals are read (and may refuse them)."""
    headers = headers if headers is not None else read_headers_at(path)
    keys = unlock_headers(headers, offer, policy)
    if check is not None:
        ring = keys.ring
        check(Keys(headers.vault_id, keys.header.epoch, keys.header.mode,
                   lambda e: commitment(ring.keys[e], headers.vault_id, e) if e in ring.keys else None))
    vault = OpenVault(Path(path), device, headers, keys)
    if v1_leftovers(vault.path):  # an upgrade stopped before deleting them: finish it
        with contextlib.suppress(VaultBusyError, StorageError):
            vault.gc(grace_seconds=float("inf"))
    return vault
