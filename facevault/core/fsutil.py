"""Crash-safe file writes and the vault's advisory write lock.

`atomic_write` gives the classic sequence: write a temporary file in the target's folder,
flush, fsync, `os.replace` over the target, fsync the folder. Until the rename the target
is untouched, so a crash, a full disk or a cancelled generator leaves the previous state.
OS errors become `StorageError` with a plain message ("disk full ..."). `write_all` and
`fsync_file` are module-level so tests can make them fail like a full disk would.

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
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from facevault.errors import IntegrityError, StorageError, VaultBusyError

__all__ = [
    "TEMP_PREFIX",
    "atomic_write",
    "write_all",
    "fsync_file",
    "fsync_dir",
    "remove_quietly",
    "read_regular",
    "storage_error",
    "FileLock",
    "temp_file",
]

TEMP_PREFIX = ".fvtmp-"
"""Temporary files start with this; anything carrying it in a vault is debris of a crash."""


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
    IntegrityError anything that is not a regular file (a symlink, a device, a FIFO: opened
    without following links and without blocking) or is larger than `cap` bytes, before
    reading it. Other OS errors are a StorageError."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IntegrityError(f"the vault's {what} {path.name} is a symbolic link; refused") from None
        raise StorageError(f"cannot read the vault's {what} ({path.name}): {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IntegrityError(f"the vault's {what} {path.name} is not a regular file; refused")
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
    """A new owner-only (0600) temporary file in `folder`, removed again unless the caller
    renamed it away."""
    tmp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}{suffix}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        raw = os.fdopen(fd, "wb")
    except OSError as exc:
        raise storage_error(exc, what) from exc
    try:
        with raw:
            yield tmp, raw
    finally:
        remove_quietly(tmp)


@contextlib.contextmanager
def atomic_write(target: Path, *, what: str | None = None, replace: bool = True,
                 mtime: float | None = None) -> Iterator[_Writer]:
    """Put what the body writes at `target` in one rename; untouched if the body fails.

    `replace=False` refuses an existing target (StorageError) without a check-then-rename
    race where hard links work. `mtime` sets the file's modification time.
    """
    what = what or f"writing {target.name}"
    with temp_file(target.parent, ".part", what) as (tmp, raw):
        try:
            yield _Writer(raw)
            fsync_file(raw)
            raw.close()
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
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
        raise StorageError(f"{target} already exists",
                           hint="Choose another name or overwrite.") from None
    except OSError:  # file system without hard links
        if target.exists():
            raise StorageError(f"{target} already exists",
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
