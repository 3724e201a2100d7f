"""The two vault operations that touch every file: re-keying (every object re-encrypted under
a new master key, crash-safe, see OpenVault.rotate_master_key) and garbage collection.
They work on an OpenVault's private state; only facevault.core.vault calls them.

May import: stdlib, facevault.core (fsutil, vault, vault_header, vault_index, vault_objects).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

from facevault.core import fsutil
from facevault.core.progress import ByteProgress, as_progress
from facevault.core.v1.slots import Slot
from facevault.core.v1.header import HEADER_NAME, encode_header, parse_header
from facevault.core.v1.index import INDEX_NAME, PENDING_INDEX_NAME, Entry, Index, seal_index
from facevault.core.vault_objects import OBJECT_SUFFIX, OBJECTS_DIR, object_path, reencrypt_object

if TYPE_CHECKING:
    from facevault.core.v1.vault import OpenVault

__all__ = ["rotate", "gc"]


def rotate(self: OpenVault, new_key: bytes, new_slots: list[Slot]) -> Generator[ByteProgress, None, None]:
    """The steps of OpenVault.rotate_master_key (see its docstring), under the write lock."""
    with self.lock():
        old = self._index
        total = sum(e.size for e in old.entries)
        created: list[str] = []
        base = 0
        try:
            entries = []
            for e in old.entries:
                made = yield from as_progress(
                    reencrypt_object(self._path, self._master_key, new_key, e), base, total)
                created.append(made.object_id)
                entries.append(Entry(e.name, made.size, e.mtime, made.object_id, made.nonce))
                base += e.size
            index = Index(old.vault_id, old.generation + 1, tuple(entries))
            with fsutil.atomic_write(self._path / PENDING_INDEX_NAME,
                                     what="writing the vault index") as out:
                out.write(seal_index(new_key, index))
            data = encode_header(old.vault_id, new_slots, new_key)
            with fsutil.atomic_write(self._path / HEADER_NAME, what="writing the header") as out:
                out.write(data)
        except BaseException:
            for object_id in created:
                fsutil.remove_quietly(object_path(self._path, object_id))
            fsutil.remove_quietly(self._path / PENDING_INDEX_NAME)
            raise
        self._key, self._header, self._index = new_key, parse_header(data), index  # noqa: SLF001
        self._replace(self._path / PENDING_INDEX_NAME, self._path / INDEX_NAME)
        for e in old.entries:
            fsutil.remove_quietly(object_path(self._path, e.object_id))


def gc(self: OpenVault, *, grace_seconds: float = 3600.0) -> int:
    """Delete unreferenced objects and crash debris older than `grace_seconds`.

    The grace period protects files a sync tool has delivered before the index that
    names them. Returns the number of files removed.
    """
    removed = 0
    with self.lock():
        live = {e.object_id + OBJECT_SUFFIX for e in self._index.entries}
        cutoff = time.time() - grace_seconds
        candidates = [p for p in (self._path / OBJECTS_DIR).iterdir()
                      if (p.suffix == OBJECT_SUFFIX and p.name not in live)
                      or p.name.startswith(fsutil.TEMP_PREFIX)]
        candidates += [p for p in self._path.iterdir()
                       if p.name.startswith(fsutil.TEMP_PREFIX) or p.name == PENDING_INDEX_NAME]
        for p in candidates:
            with contextlib.suppress(OSError):
                if p.is_file() and p.stat().st_mtime <= cutoff and fsutil.remove_quietly(p):
                    removed += 1
    return removed
