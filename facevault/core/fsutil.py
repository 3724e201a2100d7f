"""Crash-safe file writes and the vault's advisory write lock.

`atomic_write` gives the classic sequence: write a temporary file in the target's folder,
flush, fsync, `os.replace` over the target, fsync the folder. Until the rename the target
is untouched, so a crash, a full disk or a cancelled generator leaves the previous state.
OS errors become `StorageError` with a plain message ("disk full ..."). `write_all` and
`fsync_file` are module-level so tests can make them fail like a full disk would.

Every file FaceVault creates goes through `atomic_write` (or `write_private`, its one-shot
form): the temporary is created owner-only (0600) with O_CREAT|O_EXCL|O_NOFOLLOW, held
under an exclusive flock while it is written, and renamed over the target. A run killed
half-way leaves a `.fvtmp-*.part` file; the next write into the same folder removes those
whose lock nobody holds any more (`sweep_partials`), so decrypted bytes of a crash do not
stay behind. `private_folder` makes folders 0700.

`FileLock` is a non-blocking exclusive lock on a file (fcntl.flock on POSIX, msvcrt on
Windows). A second holder, in this or another process, gets `VaultBusyError` at once.

May import: the standard library and facevault.errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from facevault.errors import FaceVaultError, IntegrityError, StorageError, VaultBusyError, PathError

__all__ = [
    "TEMP_PREFIX",
    "atomic_write",
    "write_all",
    "fsync_file",
    "fsync_dir",
    "remove_quietly",
    "read_regular",
    "open_regular",
    "storage_error",
    "FileLock",
    "temp_file",
    "write_private",
    "check_output",
    "private_folder",
    "sweep_partials",
    "PARTIAL_SUFFIX",
]

TEMP_PREFIX = ".fvtmp-"
"""Temporary files start with this; anything carrying it in a vault is debris of a crash."""
PARTIAL_SUFFIX = ".part"
_NEW_SUFFIX = ".new"  # created and not yet locked: never swept while young
_NEW_GRACE_SECONDS = 60.0
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def storage_error(exc: OSError, what: str) -> StorageError:
    """Translate an OSError raised while doing `what` into a StorageError with a hint."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return StorageError(f"disk full while {what}",
                            hint="Free some space and try again; nothing was changed.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"permission denied while {what}: {exc.strerror}",
                            hint="Check that the folder is writable.")
    return StorageError(f"could not finish {what}: {exc.strerror or exc}")


def write_all(fobj: BinaryIO, data: bytes) -> None:
    """Write all of `data` (a seam for tests that simulate a full disk)."""
    view = memoryview(data)
    while view:
        written = fobj.write(view)
        if written is None:  # pragma: no cover - only for non-blocking raw files
            written = 0
        view = view[written:]


def fsync_file(fobj: BinaryIO) -> None:
    """Flush Python's buffer and ask the OS to put the file on disk."""
    fobj.flush()
    os.fsync(fobj.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a no-op where folders cannot be opened)."""
    if os.name == "nt":  # pragma: no cover - Windows cannot fsync a folder
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_regular(path: Path, cap: int, what: str) -> bytes | None:
    """The bytes of the regular file `path` (None when it does not exist), refusing with
    IntegrityError anything that is not a regular file (a symlink, a device, a FIFO, a
    folder: opened without following links and without blocking) or is larger than `cap`
    bytes, before reading it. Other OS errors are a StorageError."""
    try:
        f = open_regular(path, f"the vault's {what}", name=path.name)
    except FileNotFoundError:
        return None
    with f:
        st = os.fstat(f.fileno())
        if st.st_size > cap:
            raise IntegrityError(f"the vault's {what} {path.name} is too large ({st.st_size} bytes)")
        parts, total = [], 0
        while total <= cap:  # never one allocation of `cap` bytes: the file may be small
            chunk = f.read(min(cap + 1 - total, max(st.st_size + 1 - total, 1 << 20)))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        data = b"".join(parts)
    if len(data) > cap:
        raise IntegrityError(f"the vault's {what} {path.name} is too large")
    return data


def open_regular(path: Path, what: str, *, follow_links: bool = False,
                 error: type[FaceVaultError] = IntegrityError, name: str | None = None) -> BinaryIO:
    """`path` opened for reading if it is a regular file, else `error` (a FIFO, a device, a
    folder or, unless `follow_links`, a symbolic link; checked on the open file, so nothing
    blocks and nothing can be swapped in between). FileNotFoundError passes through; other
    OS errors become StorageError. Messages name the file as `name` (default: the path)."""
    shown = name if name is not None else str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_links else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{what} {shown} is a symbolic link; refused") from None
        if exc.errno == errno.EISDIR:
            raise error(f"{what} {shown} is a folder, not a file; refused") from None
        raise storage_error(exc, f"reading {shown}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {shown} is not a regular file; refused")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def remove_quietly(path: Path) -> bool:
    """Delete a file if it is there; return whether something was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


class _Writer:
    """The writable handed out by `atomic_write`: every write goes through `write_all`."""

    def __init__(self, fobj: BinaryIO) -> None:
        self._fobj = fobj

    def write(self, data: bytes) -> int:
        write_all(self._fobj, data)
        return len(data)

    def tell(self) -> int:
        return self._fobj.tell()


@contextlib.contextmanager
def temp_file(folder: Path, suffix: str, what: str) -> Iterator[tuple[Path, BinaryIO]]:
    """A new owner-only (0600) temporary file in `folder`, locked (flock) for as long as this
    process has it open, and removed again unless the caller renamed it away.

    It is created as `.fvtmp-<random>.new` and renamed to `.fvtmp-<random><suffix>` once
    locked, so a sweeper never takes a file whose writer has not locked it yet."""
    token = secrets.token_hex(8)
    tmp = folder / f"{TEMP_PREFIX}{token}{suffix}"
    # Windows: no flock and no renaming an open file; created under its final name there.
    fresh = tmp if sys.platform == "win32" else folder / f"{TEMP_PREFIX}{token}{_NEW_SUFFIX}"
    try:
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except OSError as exc:
        raise storage_error(exc, what) from exc
    try:
        if fresh != tmp:
            _lock_fd(fd)
            os.replace(fresh, tmp)
        raw = os.fdopen(fd, "wb")
    except OSError as exc:
        os.close(fd)
        remove_quietly(fresh)
        raise storage_error(exc, what) from exc
    try:
        with raw:
            yield tmp, raw
    finally:
        remove_quietly(tmp)


def sweep_partials(folder: Path) -> int:
    """Remove the `.fvtmp-*.part` files a killed FaceVault run left in `folder`: regular
    files of this user whose lock no live process holds. Returns how many went. Errors
    (a folder we cannot list) are ignored: sweeping is housekeeping."""
    removed = 0
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(TEMP_PREFIX)]
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != _uid():
            continue
        path = Path(entry.path)
        if entry.name.endswith(_NEW_SUFFIX):
            if now - st.st_mtime > _NEW_GRACE_SECONDS and remove_quietly(path):
                removed += 1
            continue
        if entry.name.endswith(PARTIAL_SUFFIX) and sys.platform != "win32" and _take_dead(path):
            removed += 1
    return removed


def _take_dead(path: Path) -> bool:
    """Unlink `path` if no process holds its lock (the writer died)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        try:
            _lock_fd(fd)
        except OSError:
            return False  # a live writer
        return remove_quietly(path)
    finally:
        os.close(fd)


def _uid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def private_folder(path: Path) -> Path:
    """`path` as a folder only this user can enter (created 0700, and so are the parents
    it has to create; existing folders are left as they are)."""
    missing: list[Path] = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=0o700, exist_ok=True)
        if not path.is_dir():
            raise PathError(f"{path} is not a folder")
    except OSError as exc:
        raise storage_error(exc, f"creating the folder {path}") from exc
    return path


def check_output(dest: Path, *, overwrite: bool) -> None:
    """PathError unless a new file can be written at `dest`: its folder exists, and nothing
    is there (a dangling symlink counts) unless `overwrite` (a folder never)."""
    if dest.is_dir():
        raise PathError(f"{dest} is a folder", hint="Give a file path for the output.")
    if (dest.exists() or dest.is_symlink()) and not overwrite:
        raise PathError(f"{dest} already exists", hint="Choose another name or overwrite.")
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.is_dir():
        raise PathError(f"the folder {parent} does not exist", hint="Create it first, or choose another place.")


def write_private(target: Path, data: bytes, *, what: str | None = None, replace: bool = False,
                  mode: int = 0o600) -> None:
    """`data` at `target` in one owner-only atomic write (an existing target is refused
    unless `replace`; a symlink at `target` is replaced, never followed)."""
    with atomic_write(target, what=what, replace=replace, mode=mode) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_write(target: Path, *, what: str | None = None, replace: bool = True,
                 mtime: float | None = None, mode: int = 0o600,
                 sweep: bool = True) -> Iterator[_Writer]:
    """Put what the body writes at `target` in one rename; untouched if the body fails.

    `replace=False` refuses an existing target (StorageError) without a check-then-rename
    race where hard links work. `mtime` sets the file's modification time; `mode` the
    final permissions (owner-only unless a caller writes public files, like models).
    `sweep`: first remove partial files of killed runs from the folder (`sweep_partials`;
    off for the vault's objects folder, which its upkeep cleans).
    """
    what = what or f"writing {target.name}"
    if sweep:
        sweep_partials(target.parent)
    with temp_file(target.parent, PARTIAL_SUFFIX, what) as (tmp, raw):
        try:
            yield _Writer(raw)
            fsync_file(raw)
            raw.close()
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            if mode != 0o600:
                os.chmod(tmp, mode)
            _place(tmp, target, replace)
        except OSError as exc:
            raise storage_error(exc, what) from exc
    # The rename is done; a folder fsync that fails cannot undo it, so it is best effort.
    with contextlib.suppress(OSError):
        fsync_dir(target.parent)


def _place(tmp: Path, target: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target exists: no race with another creator
    except FileExistsError:
        raise PathError(f"{target} already exists",
                           hint="Choose another name or overwrite.") from None
    except OSError:  # file system without hard links
        if target.exists():
            raise PathError(f"{target} already exists",
                               hint="Choose another name or overwrite.") from None
        os.replace(tmp, target)


class FileLock:
    """Exclusive, non-blocking advisory lock on `path` (created if missing)."""

    def __init__(self, path: Path, *, busy_message: str) -> None:
        self.path = path
        self._busy_message = busy_message
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            raise RuntimeError("lock already held by this object")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise storage_error(exc, f"opening the lock file {self.path}") from exc
        try:
            _lock_fd(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
                raise VaultBusyError(
                    self._busy_message,
                    hint="Wait for the other FaceVault operation to finish, then try again.",
                ) from None
            raise storage_error(exc, f"locking {self.path}") from exc
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            _unlock_fd(fd)
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
