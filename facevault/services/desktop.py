"""What a desktop session needs from the machine: the cameras worth offering, a private
folder for files opened from a vault, the app icons, and telling a FaceVault file by its
first bytes.

May import: stdlib, facevault.paths, facevault.errors, facevault.core (fsutil, v1.fileformat).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from facevault import paths
from facevault.core import fsutil
from facevault.errors import FaceVaultError, StorageError

__all__ = ["list_cameras", "PrivateCopies", "icon_paths", "is_encrypted_file"]


def list_cameras() -> list[str]:
    """Camera specs to offer; video device nodes on Linux (capture nodes are usually even)."""
    if sys.platform.startswith("linux"):
        found = sorted(int(p.name[5:]) for p in Path("/dev").glob("video*") if p.name[5:].isdigit())
        return [f"camera:{n}" for n in found]
    return ["camera:0"]


class PrivateCopies:
    """Files opened from a vault, in a folder only this user can enter (0700) under the
    per-user runtime dir (paths.runtime_dir()).

    Each app session has its own `open-<random>` folder holding a lock file for as long as
    the session lives; `target(name)` is a fresh path inside it for a leaf file name and
    `clear()` deletes the folder with everything in it (when the vault locks and when the
    app quits). A session that crashed cannot clear its folder: `sweep()` (at start-up)
    removes every session folder whose lock nobody holds, and the copies older versions
    left in the temporary folder (`facevault-open-*`)."""

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent
        self._root: Path | None = None
        self._lock: fsutil.FileLock | None = None

    @property
    def base(self) -> Path:
        return self.parent if self.parent is not None else paths.runtime_dir()

    @property
    def root(self) -> Path | None:
        return self._root

    def target(self, leaf: str) -> Path:
        if self._root is None or not self._root.is_dir():
            self.clear()
            base = _private_base(self.base)
            root = Path(tempfile.mkdtemp(prefix=SESSION_PREFIX, dir=base))
            lock = fsutil.FileLock(root / LOCK_NAME, busy_message="the folder is in use")
            lock.acquire()
            self._root, self._lock = root, lock
        folder = Path(tempfile.mkdtemp(dir=self._root))  # one folder per open: no name clashes
        return folder / leaf

    def clear(self) -> None:
        root, self._root = self._root, None
        lock, self._lock = self._lock, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
        if lock is not None:
            lock.release()

    def sweep(self) -> int:
        """Delete the session folders of crashed sessions; returns how many went."""
        removed = 0
        base = self.base
        candidates: list[Path] = []
        with contextlib.suppress(OSError):
            candidates += [p for p in base.iterdir() if p.name.startswith(SESSION_PREFIX)]
        with contextlib.suppress(OSError):
            candidates += [p for p in Path(tempfile.gettempdir()).iterdir()
                           if p.name.startswith(LEGACY_PREFIX)]
        for folder in candidates:
            if folder == self._root or not _ours(folder):
                continue
            if folder.name.startswith(LEGACY_PREFIX) or _dead(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


SESSION_PREFIX = "open-"
LEGACY_PREFIX = "facevault-open-"
LOCK_NAME = ".session.lock"


def _private_base(base: Path) -> Path:
    """`base` as a 0700 folder of this user (made so if needed; refused if someone else's)."""
    fsutil.private_folder(base)
    st = base.lstat()
    if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "geteuid") and st.st_uid != os.geteuid()):
        raise StorageError(f"{base} is not a folder of yours; files cannot be opened there safely")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(base, 0o700)
    return base


def _ours(folder: Path) -> bool:
    try:
        st = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid())


def _dead(folder: Path) -> bool:
    """No live session holds the folder's lock (a folder without one is a crash mid-start)."""
    lock = fsutil.FileLock(folder / LOCK_NAME, busy_message="in use")
    try:
        lock.acquire()
    except FaceVaultError:
        return False
    lock.release()
    return True


def icon_paths() -> list[Path]:
    """The app icon files (resources/icons/facevault*.png|svg) of a checkout or a bundle."""
    from facevault import paths

    roots = [paths.SOURCE_ROOT / "resources" / "icons"]
    bundle = paths.bundle_root()
    if bundle is not None:
        roots.insert(0, Path(bundle) / "resources" / "icons")
    for root in roots:
        found = sorted(root.glob("facevault*.png")) + sorted(root.glob("facevault*.svg"))
        if found:
            return found
    return []


def is_encrypted_file(path: Path) -> bool:
    """Whether `path` starts like a FaceVault single encrypted file."""
    from facevault.core.v1 import fileformat

    try:
        with open(path, "rb") as handle:
            return handle.read(len(fileformat.MAGIC)) == fileformat.MAGIC
    except OSError:
        return False
