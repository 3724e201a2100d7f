"""Single encrypted files (age-like), sealed to a face identity (facevault.core.identity):
`new_identity` enrolls once; `encrypt_to` needs no face; every file carries the identity's
slots, so it decrypts on any machine with the same face or the identity's recovery code.
Version-1 files (a new helper per file) still decrypt.

Output is written to a temporary file beside the destination and renamed only when
complete, so a failure (wrong face, tampering, full disk) never leaves a partial file and
never touches an existing one.

May import: numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from facevault.core import facekey, fsutil, identity, ironmask
from facevault.core.identity import Identity
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.core.v1 import fileformat
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.kdf import DEFAULT_PARAMS, NO_KDF, KdfParams
from facevault.core.kinds import Kind
from facevault.core.progress import ByteProgress
from facevault.core.sealing import SlotPlan
from facevault.errors import Hint, PathError, StorageError
from facevault.services.keyslots import recovery_plan

__all__ = ["new_identity", "write_identity", "read_identity", "encrypt_to", "encrypt_file",
           "decrypt_file", "atomic_output"]


@contextlib.contextmanager
def atomic_output(dest: Path, *, overwrite: bool = False) -> Iterator[object]:
    """Yield a binary file object that becomes `dest` (owner-only) only if the block
    completes (fsutil.atomic_write: O_EXCL|O_NOFOLLOW temporary, renamed into place)."""
    dest = Path(dest)
    fsutil.check_output(dest, overwrite=overwrite)
    with fsutil.atomic_write(dest, replace=overwrite, what=f"writing {dest}") as out:
        yield out


def new_identity(template: np.ndarray, *, model: ModelRef = UNKNOWN_MODEL,
                 preset: str = ironmask.DEFAULT_PRESET, label: str = "") -> tuple[Identity, str]:
    """A face identity from one enrollment, and its recovery code (show once)."""
    face = facekey.enroll(template, preset=preset, model=model)
    fresh = recovery_plan(DEFAULT_PARAMS)
    return identity.new_identity([SlotPlan(Kind.FACE, Factors(face), NO_KDF), fresh.plan], label), fresh.code


def write_identity(path: Path, ident: Identity, *, overwrite: bool = False) -> None:
    with atomic_output(path, overwrite=overwrite) as out:
        out.write(identity.encode_identity(ident))  # type: ignore[attr-defined]


def read_identity(path: Path) -> Identity:
    data = fsutil.read_regular(Path(path), identity.MAX_HEADER, "identity file")
    if data is None:
        raise StorageError(f"no identity file at {path}")
    return identity.parse_identity(data)


def encrypt_to(src: Path, dest: Path, ident: Identity, *,
               overwrite: bool = False) -> Generator[ByteProgress, None, None]:
    """Seal `src` into `dest` for the face identity `ident` (no face needed)."""
    try:
        source = fsutil.open_regular(Path(src), "the input", follow_links=True, error=PathError)
    except FileNotFoundError:
        raise PathError(f"{src} does not exist") from None
    with source:
        total = os.fstat(source.fileno()).st_size
        with atomic_output(dest, overwrite=overwrite) as out:
            for done in identity.encrypt_to(ident, source, out):  # type: ignore[arg-type]
                yield ByteProgress(done, total)


def encrypt_file(
    src: Path,
    dest: Path,
    template: np.ndarray,
    *,
    kdf: KdfParams,
    preset: str = ironmask.DEFAULT_PRESET,
    overwrite: bool = False,
    model: ModelRef = UNKNOWN_MODEL,
) -> Generator[ByteProgress, None, str]:
    """Seal `src` into `dest` for this face (a one-off identity: this file carries its own
    sketch of the face; encrypt_to an identity instead for many files) and a new recovery
    code; returns the code (show it once)."""
    ident, code = new_identity(template, model=model, preset=preset)
    yield from encrypt_to(src, dest, ident, overwrite=overwrite)
    return code


def decrypt_file(
    src: Path,
    dest: Path,
    offer: Factors,
    *,
    policy: DecodePolicy = DecodePolicy(),
    overwrite: bool = False,
) -> Generator[ByteProgress, None, None]:
    """Open `src` (format 2, or a version-1 file) with what the person offers and write the
    plaintext to `dest`."""
    try:
        source = fsutil.open_regular(Path(src), "the input", follow_links=True, error=PathError)
    except FileNotFoundError:
        raise PathError(f"{src} does not exist") from None
    with source:
        total = os.fstat(source.fileno()).st_size
        start = source.read(len(identity.FILE_MAGIC) + 1)
        unlocked: Any
        if len(start) == len(identity.FILE_MAGIC) + 1 and start[:-1] == identity.FILE_MAGIC and start[-1] == 2:
            unlocked = identity.open_file_v2(identity.read_header_v2(source), offer, policy=policy)
        else:
            source.seek(0)
            header = fileformat.read_file_header(source)
            unlocked = fileformat.open_file(header, offer, policy=policy)
        with atomic_output(dest, overwrite=overwrite) as out:
            for done in unlocked.decrypt(source, out):
                yield ByteProgress(done, total)
