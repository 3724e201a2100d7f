"""Single encrypted files (age-like): one file sealed for your face and a recovery code,
self-contained, decryptable on any machine with the same face or the code.

Output is written to a temporary file beside the destination and renamed only when
complete, so a failure (wrong face, tampering, full disk) never leaves a partial file and
never touches an existing one.

May import: numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np

from facevault.core import facekey, ironmask
from facevault.core.v1 import fileformat
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Kind
from facevault.core.progress import ByteProgress
from facevault.core.v1.sealing import SlotPlan
from facevault.errors import Hint, StorageError
from facevault.services.keyslots import recovery_plan

__all__ = ["encrypt_file", "decrypt_file", "atomic_output"]


@contextlib.contextmanager
def atomic_output(dest: Path, *, overwrite: bool = False) -> Iterator[object]:
    """Yield a binary file object that becomes `dest` only if the block completes."""
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise StorageError(f"{dest} already exists", hint=Hint.OVERWRITE_OR_RENAME)
    if dest.is_dir():
        raise StorageError(f"{dest} is a folder", hint="give a file path for the output")
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.is_dir():
        raise StorageError(f"the folder {parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise StorageError(f"disk full while writing {dest}; nothing was changed") from exc
        raise StorageError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encrypt_file(
    src: Path,
    dest: Path,
    template: np.ndarray,
    *,
    kdf: KdfParams,
    preset: str = ironmask.DEFAULT_PRESET,
    overwrite: bool = False,
) -> Generator[ByteProgress, None, str]:
    """Seal `src` into `dest` for this face and a new recovery code; returns the code (show
    it once)."""
    face = facekey.enroll(template, preset=preset)
    fresh = recovery_plan(kdf)
    plans = [SlotPlan(Kind.FACE, Factors(face), kdf), SlotPlan(Kind.RECOVERY, fresh.plan.parts, kdf)]
    try:
        source = open(src, "rb")
    except OSError as exc:
        raise StorageError(f"cannot read {src}: {exc.strerror or exc}") from exc
    with source:
        total = os.fstat(source.fileno()).st_size
        with atomic_output(dest, overwrite=overwrite) as out:
            for done in fileformat.seal_file(source, out, plans):  # type: ignore[arg-type]
                yield ByteProgress(done, total)
    return fresh.code


def decrypt_file(
    src: Path,
    dest: Path,
    offer: Factors,
    *,
    policy: DecodePolicy = DecodePolicy(),
    overwrite: bool = False,
) -> Generator[ByteProgress, None, None]:
    """Open `src` with what the person offers and write the plaintext to `dest`."""
    try:
        source = open(src, "rb")
    except OSError as exc:
        raise StorageError(f"cannot read {src}: {exc.strerror or exc}") from exc
    with source:
        total = os.fstat(source.fileno()).st_size
        header = fileformat.read_file_header(source)
        unlocked = fileformat.open_file(header, offer, policy=policy)
        with atomic_output(dest, overwrite=overwrite) as out:
            for done in unlocked.decrypt(source, out):  # type: ignore[arg-type]
                yield ByteProgress(done, total)
