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

from facevault.core import crypto, fileformat, ironmask, kdf as kdf_mod
from facevault.errors import StorageError
from facevault.services import keys

__all__ = ["encrypt_file", "decrypt_file", "atomic_output"]


@contextlib.contextmanager
def atomic_output(dest: Path, *, overwrite: bool = False) -> Iterator[object]:
    """Yield a binary file object that becomes `dest` only if the block completes."""
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise StorageError(f"{dest} already exists", hint="choose another output path or pass --overwrite")
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
    preset: str = ironmask.DEFAULT_PRESET,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
    overwrite: bool = False,
) -> Generator[int, None, str]:
    """Seal `src` into `dest` for this face and a new recovery code (returned; show once).
    Yields plaintext bytes done."""
    file_key = crypto.random_bytes(crypto.KEY_SIZE)
    face = keys.seal_face_slot(file_key, template, preset=preset, kdf=kdf)
    recovery_slot, code = keys.seal_recovery_slot(file_key, kdf=kdf)
    try:
        source = open(src, "rb")
    except OSError as exc:
        raise StorageError(f"cannot read {src}: {exc.strerror or exc}") from exc
    with source, atomic_output(dest, overwrite=overwrite) as out:
        yield from fileformat.encrypt_file_stream(source, out, file_key, [face, recovery_slot])  # type: ignore[arg-type]
    return code


def decrypt_file(
    src: Path,
    dest: Path,
    offer: keys.Offer,
    *,
    policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy(),
    overwrite: bool = False,
) -> Generator[int, None, None]:
    """Open `src` with what the user offers and write the plaintext to `dest`."""
    try:
        source = open(src, "rb")
    except OSError as exc:
        raise StorageError(f"cannot read {src}: {exc.strerror or exc}") from exc
    with source:
        header = fileformat.read_file_header(source)
        file_key, _slot = keys.find_key(header.slots, offer, policy)
        with atomic_output(dest, overwrite=overwrite) as out:
            yield from fileformat.decrypt_file_stream(source, header, file_key, out)  # type: ignore[arg-type]
