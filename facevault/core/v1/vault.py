"""The vault folder: create, open, list, add, extract, remove, re-key, garbage-collect.

    VAULT/vault.fvh               header: vault id + key slots, MAC'd with the master key
    VAULT/index.fve               encrypted index (names, sizes, times -> object ids)
    VAULT/objects/<32 hex>.fvo    one per file: nonce (16) || STREAM(HKDF(master key,
                                  salt=nonce, info="facevault object" || object id bytes))
    VAULT/.lock                   advisory write lock; readers never take it

Every write goes to a temporary file in the same folder and is renamed into place
(fsutil.atomic_write). The index rename is the commit point of `add`, `remove` and `gc`:
objects are written before the index that names them and deleted only after an index that
no longer names them, so a crash leaves the previous state openable plus, at worst,
orphan objects that `gc()` removes. `rotate_master_key` commits by renaming the header;
see its docstring and FORMAT.md for the exact crash-safe order.

The master key never leaves this module: `create_vault` makes it and seals the SlotPlans it
is given; `open_vault` finds it from the factors a person offers; new slots are added as
SlotPlans (`replace_slots`, `rotate_master_key`). `_create_vault_from_parts` and
`_open_vault_with_key` are the seams for core tests and vectors.

Generators (`add_file`, `extract`, `rotate_master_key`, `verify`) yield `ByteProgress` after
each 64 KiB chunk. Stopping one early (`.close()`) removes its temporary file and
releases the lock; the vault keeps its previous state. An `OpenVault` is not thread-safe.

May import: the standard library, facevault.core (crypto, slots, fsutil, vault_header,
vault_index, vault_objects), facevault.errors.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO

from facevault.core import fsutil
from facevault.core.crypto import KEY_SIZE, random_bytes
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.modes import Mode, mode_of_kinds
from facevault.core.progress import ByteProgress, Sink, as_progress, run_to_end
from facevault.core.v1.sealing import SlotPlan, seal_all
from facevault.core.v1.slots import Slot
from facevault.core.v1.unlocking import Opened, _open_slots
from facevault.core.v1.header import (
    HEADER_NAME,
    VAULT_ID_SIZE,
    VaultHeader,
    encode_header,
    parse_header,
    read_header,
    verify_header,
)
from facevault.core.v1.index import (
    INDEX_NAME,
    PENDING_INDEX_NAME,
    Entry,
    Index,
    check_name,
    load_index,
    seal_index,
)
from facevault.core.vault_objects import (
    OBJECTS_DIR,
    decrypt_object,
    object_path,
    write_object,
)
from facevault.errors import IntegrityError, StorageError, UsageError, PathError

__all__ = [
    "OBJECTS_DIR",
    "LOCK_NAME",
    "PENDING_INDEX_NAME",
    "Entry",
    "ByteProgress",
    "Opened",
    "SlotPlan",
    "VaultHeader",
    "OpenVault",
    "create_vault",
    "open_vault",
    "read_header",
]

LOCK_NAME = ".lock"
_READ_BYTES_LIMIT = 64 * 1024 * 1024


def _check_key(master_key: object) -> bytes:
    if not isinstance(master_key, (bytes, bytearray)):
        raise TypeError(f"master_key must be bytes, not {type(master_key).__name__}")
    if len(master_key) != KEY_SIZE:
        raise ValueError(f"master_key must be {KEY_SIZE} bytes")
    return bytes(master_key)


class OpenVault:
    """An unlocked vault folder. Build it with `create_vault` or `open_vault`."""

    def __init__(self, path: Path, master_key: bytes, header: VaultHeader, index: Index,
                 opened: Opened | None = None) -> None:
        self._path = Path(path)
        self.opened = opened  # which slot opened it, and the face behind it (None: created)
        self._key: bytes | None = _check_key(master_key)
        self._header = header
        self._index = index
        self._lock = fsutil.FileLock(
            self._path / LOCK_NAME,
            busy_message=f"the vault {self._path} is busy: another FaceVault process is changing it",
        )
        self._lock_depth = 0

    # -- state -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def header(self) -> VaultHeader:
        return self._header

    @property
    def mode(self) -> Mode | None:
        return mode_of_kinds(s.kind for s in self._header.slots)

    def change_slots(self, *args: object, **kwargs: object) -> list[Slot]:
        """Slot changes need format version 2 (an epoch per change)."""
        raise UsageError("this vault is still in format version 1 (it was opened without "
                         "upgrading): its key slots cannot change",
                         hint="Open it once without keeping version 1: it is upgraded in place.")

    @property
    def generation(self) -> int:
        """Index generation; callers may remember it and pass it as open_vault's min_generation."""
        return self._index.generation

    @property
    def _master_key(self) -> bytes:
        if self._key is None:
            raise UsageError("the vault is closed")
        return self._key

    def close(self) -> None:
        """Forget the master key (Python cannot wipe it) and release the lock if held."""
        self._key = None
        self._lock_depth = 0
        self._lock.release()

    def __enter__(self) -> "OpenVault":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Re-read header and index from disk (to see changes made by other processes)."""
        self._reload(finish_pending=False)

    def _reload(self, *, finish_pending: bool) -> None:
        header = read_header(self._path)
        verify_header(header, self._master_key)
        if header.vault_id != self._header.vault_id:
            raise IntegrityError(f"{self._path} now holds a different vault")
        index, pending = load_index(self._path, self._master_key, header.vault_id)
        if index.generation < self._index.generation:
            raise IntegrityError("the vault index on disk is older than the one already seen "
                                 "(rolled back or restored from an old copy)")
        if pending and finish_pending:
            self._replace(self._path / PENDING_INDEX_NAME, self._path / INDEX_NAME)
        self._header, self._index = header, index

    @contextlib.contextmanager
    def lock(self) -> Iterator["OpenVault"]:
        """Hold the write lock (re-entrant); VaultBusyError at once if another holder has it.

        On entry the header and index are re-read, so changes committed by a previous
        writer are never overwritten.
        """
        self._master_key  # noqa: B018 - raises UsageError when closed
        if self._lock_depth == 0:
            self._lock.acquire()
            try:
                self._reload(finish_pending=True)
            except BaseException:
                self._lock.release()
                raise
        self._lock_depth += 1
        try:
            yield self
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._lock.release()

    @contextlib.contextmanager
    def _lock_only(self) -> Iterator[None]:
        """The bare lock, for `create_vault` (there is nothing to re-read yet)."""
        self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()

    # -- reading -------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Entries sorted by name (as of open, the last write or `refresh`)."""
        return list(self._index.entries)

    def _entry(self, name: str) -> Entry:
        entry = self._index.find(check_name(name))
        if entry is None:
            raise UsageError(f"there is no file named {name!r} in the vault")
        return entry

    def _decrypt(self, entry: Entry, dst: BinaryIO) -> Generator[ByteProgress, None, None]:
        for done in decrypt_object(self._path, self._master_key, entry, dst):
            yield ByteProgress(done, entry.size)

    def read_bytes(self, name: str, *, max_size: int = _READ_BYTES_LIMIT) -> bytes:
        """The whole content of a small file, in memory."""
        entry = self._entry(name)
        if entry.size > max_size:
            raise UsageError(f"{name!r} is {entry.size} bytes; extract it to a file instead")
        out = io.BytesIO()
        for _ in self._decrypt(entry, out):
            pass
        return out.getvalue()

    def extract(self, name: str, dest: Path, *, overwrite: bool = False) -> Generator[ByteProgress, None, None]:
        """Decrypt `name` to `dest` (a generator). Nothing appears at `dest` unless it all
        authenticated; an existing `dest` is refused (StorageError) unless `overwrite`."""
        entry = self._entry(name)
        dest = Path(dest)
        fsutil.check_output(dest, overwrite=overwrite)
        return self._extract(entry, dest, overwrite)

    def _extract(self, entry: Entry, dest: Path, overwrite: bool) -> Generator[ByteProgress, None, None]:
        with fsutil.atomic_write(dest, replace=overwrite, mtime=entry.mtime,
                                 what=f"extracting {entry.name!r}") as out:
            yield from self._decrypt(entry, out)  # type: ignore[arg-type]

    def verify(self) -> Generator[ByteProgress, None, None]:
        """Decrypt every object without writing anything; IntegrityError names the first bad one."""
        total = sum(e.size for e in self._index.entries)
        base = 0
        for entry in self._index.entries:
            for p in self._decrypt(entry, Sink()):  # type: ignore[arg-type]
                yield ByteProgress(base + p.done, total)
            base += entry.size

    # -- writing -------------------------------------------------------------------------

    def _replace(self, src: Path, dst: Path) -> None:
        try:
            os.replace(src, dst)
            fsutil.fsync_dir(dst.parent)
        except OSError as exc:
            raise fsutil.storage_error(exc, f"renaming {src.name}") from exc

    def _write_index(self, index: Index, name: str = INDEX_NAME) -> None:
        with fsutil.atomic_write(self._path / name, what="writing the vault index") as out:
            out.write(seal_index(self._master_key, index))

    def _commit(self, index: Index, new_object: str | None, old_objects: list[str]) -> None:
        """Write `index` (the commit point); then drop objects it no longer names."""
        try:
            self._write_index(index)
        except BaseException:
            if new_object is not None:
                fsutil.remove_quietly(object_path(self._path, new_object))
            raise
        self._index = index
        for object_id in old_objects:
            fsutil.remove_quietly(object_path(self._path, object_id))

    def _check_free(self, name: str, overwrite: bool) -> None:
        if not overwrite and self._index.find(name) is not None:
            raise PathError(f"the vault already has a file named {name!r}",
                               hint="Choose another name or overwrite.")

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
            self._check_free(name, overwrite)
            try:
                f = fsutil.open_regular(src, "the file", follow_links=True, error=UsageError)
            except FileNotFoundError as exc:
                raise fsutil.storage_error(exc, f"reading {src}") from exc
            with f:
                st = os.fstat(f.fileno())
                made = yield from as_progress(
                    write_object(self._path, self._master_key, f, name), 0, st.st_size)
            self._add_entry(Entry(name, made.size, st.st_mtime, made.object_id, made.nonce))

    def _add_entry(self, entry: Entry) -> None:
        old = self._index.find(entry.name)
        self._commit(self._index.with_entry(entry), entry.object_id,
                     [old.object_id] if old else [])

    def add_bytes(self, name: str, data: bytes, *, overwrite: bool = False,
                  mtime: float | None = None) -> Entry:
        """Store `data` as `name` (for small content; mtime defaults to now)."""
        name = check_name(name)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes")
        with self.lock():
            self._check_free(name, overwrite)
            when = time.time() if mtime is None else float(mtime)
            made = run_to_end(write_object(self._path, self._master_key, io.BytesIO(bytes(data)), name))
            entry = Entry(name, made.size, when, made.object_id, made.nonce)
            self._add_entry(entry)
        return entry

    def remove(self, name: str) -> None:
        """Delete `name` from the vault (index first, then its object file)."""
        check_name(name)
        with self.lock():
            entry = self._entry(name)
            self._commit(self._index.without(name), None, [entry.object_id])

    def replace_slots(self, keep: list[Slot] | tuple[Slot, ...],
                      add: list[SlotPlan] | tuple[SlotPlan, ...] = ()) -> list[Slot]:
        """Rewrite the header with the slots in `keep` and new slots sealed from `add`, for
        the same master key. Returns the new slots (in the order of `add`)."""
        new = seal_all(self._master_key, list(add))
        data = encode_header(self._header.vault_id, [*keep, *new], self._master_key)
        with self.lock():
            with fsutil.atomic_write(self._path / HEADER_NAME, what="writing the header") as out:
                out.write(data)
            self._header = parse_header(data)
        return new

    def rotate_master_key(self, plans: list[SlotPlan] | tuple[SlotPlan, ...]) -> Generator[ByteProgress, None, None]:
        """Re-encrypt everything under a new master key whose slots are sealed from `plans`
        (a generator; every old slot goes, since each wraps the old key).

        Order: (1) every object is re-encrypted to a new id; (2) the new index is written to
        index.next.fve; (3) the new header replaces vault.fvh -- the commit point; (4)
        index.next.fve is renamed to index.fve; (5) the old objects are deleted. A crash
        before (3) leaves the old key working (the new files are orphans for `gc`); after
        (3) the new key works, `open_vault` reading index.next.fve until (4) is finished
        by the next writer.
        """
        new_key = random_bytes(KEY_SIZE)
        return self._rotate_from_parts(new_key, seal_all(new_key, list(plans)))

    def _rotate_from_parts(self, new_key: bytes, new_slots: list[Slot]) -> Generator[ByteProgress, None, None]:
        """rotate_master_key with a given key and sealed slots (core tests only)."""
        new_key = _check_key(new_key)
        encode_header(self._header.vault_id, new_slots, new_key)  # validate up front
        return self._rotate(new_key, list(new_slots))

    def _rotate(self, new_key: bytes, new_slots: list[Slot]) -> Generator[ByteProgress, None, None]:
        from facevault.core.v1 import rekey as vault_rekey

        return vault_rekey.rotate(self, new_key, new_slots)

    def gc(self, *, grace_seconds: float = 3600.0) -> int:
        """Delete unreferenced objects and crash debris older than `grace_seconds` (the grace
        period protects files a sync tool delivered before the index that names them)."""
        from facevault.core.v1 import rekey as vault_rekey

        return vault_rekey.gc(self, grace_seconds=grace_seconds)


def create_vault(path: Path, plans: list[SlotPlan] | tuple[SlotPlan, ...]) -> OpenVault:
    """Make a new vault in `path` (absent or an empty folder; StorageError otherwise) under a
    fresh master key, with a slot sealed from each plan."""
    master_key = random_bytes(KEY_SIZE)
    return _create_vault_from_parts(path, master_key, seal_all(master_key, list(plans)))


def _create_vault_from_parts(path: Path, master_key: bytes, slots: list[Slot]) -> OpenVault:
    """create_vault with a given key and sealed slots (core tests only)."""
    path = Path(path)
    master_key = _check_key(master_key)
    vault_id = random_bytes(VAULT_ID_SIZE)
    header = encode_header(vault_id, slots, master_key)  # validates slots before touching disk
    try:
        if path.exists():
            if not path.is_dir():
                raise StorageError(f"{path} exists and is not a folder")
            if any(path.iterdir()):
                raise StorageError(f"{path} is not empty", hint="Choose a new or empty folder.")
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        (path / OBJECTS_DIR).mkdir(mode=0o700)
    except OSError as exc:
        raise fsutil.storage_error(exc, f"creating {path}") from exc
    vault = OpenVault(path, master_key, parse_header(header), Index(vault_id, 0, ()))
    with vault._lock_only():
        vault._write_index(Index(vault_id, 0, ()))
        # The header goes last: a folder without it is not a vault yet.
        with fsutil.atomic_write(path / HEADER_NAME, what="writing the header") as out:
            out.write(header)
    return vault


def open_vault(path: Path, offer: Factors, *, policy: DecodePolicy = DecodePolicy(),
               header: VaultHeader | None = None, min_generation: int = 0) -> OpenVault:
    """Open the vault at `path` with what the person offers (NotRecognisedError if nothing
    fits), verify the header MAC and the index. `header`: the header already read (so an
    unlock reads it once); `min_generation`: refuse an index older than that (rollback)."""
    header = header if header is not None else read_header(Path(path))
    key, opened = _open_slots(header.slots, offer, policy)
    return _open_vault_with_key(path, key, header=header, min_generation=min_generation,
                                opened=opened)


def _open_vault_with_key(path: Path, master_key: bytes, *, header: VaultHeader | None = None,
                         min_generation: int = 0, opened: Opened | None = None) -> OpenVault:
    """Verify the header MAC and the index with `master_key`; IntegrityError if either fails."""
    master_key = _check_key(master_key)
    header = header if header is not None else read_header(Path(path))
    verify_header(header, master_key)
    index, _pending = load_index(Path(path), master_key, header.vault_id)
    if index.generation < min_generation:
        raise IntegrityError(f"the vault index is generation {index.generation}, older than "
                             f"{min_generation} seen before (rolled back?)")
    return OpenVault(Path(path), master_key, header, index, opened)
