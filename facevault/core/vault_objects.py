"""Object files `objects/<32 hex>.fvo`: the encrypted content of one vault entry each.

    <id>.fvo = nonce (16) || STREAM(HKDF(master key, salt=nonce,
                                        info="facevault object" || 16 id bytes), content)

The index entry names the id and repeats the nonce; a reader checks the file's exact
length (16 + encrypted_size(entry size)) and its nonce before decrypting, and the key is
bound to the id, so an object file copied or renamed to another id never decrypts.
Object ids are random and never reused: a file is replaced by writing a new object.

Both formats use this layout (a version-2 object's key comes from the epoch key it names,
a version-1 object's from the master key). Objects are named by anything with `name`,
`size`, `object_id` and `nonce` (an `ObjectRef`). Generators here yield plaintext byte
counts; the vaults turn them into ByteProgress.

May import: the standard library, facevault.core (crypto, stream, fsutil), facevault.errors.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from facevault.core import fsutil
from facevault.core.crypto import hkdf_sha256, random_bytes
from facevault.core.stream import decrypt_stream, encrypt_stream, encrypted_size
from facevault.errors import IntegrityError, StorageError

NONCE_SIZE = 16


class ObjectRef(Protocol):
    """What names an object: the entry's name (for messages), size, id and nonce."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def object_id(self) -> str: ...
    @property
    def nonce(self) -> bytes: ...


@dataclass(frozen=True)
class Written:
    """A new object file: its id, nonce and plaintext size."""

    name: str
    size: int
    object_id: str
    nonce: bytes = b""


def new_object_id() -> str:
    """A fresh random object id: 16 random bytes as 32 lowercase hex digits."""
    return random_bytes(16).hex()

__all__ = [
    "NONCE_SIZE",
    "ObjectRef",
    "Written",
    "new_object_id",
    "OBJECTS_DIR",
    "OBJECT_SUFFIX",
    "object_path",
    "object_key",
    "open_object",
    "decrypt_object",
    "write_object",
    "reencrypt_object",
]

OBJECTS_DIR = "objects"
OBJECT_SUFFIX = ".fvo"
_OBJECT_INFO = b"facevault object"


def object_path(root: Path, object_id: str) -> Path:
    return root / OBJECTS_DIR / f"{object_id}{OBJECT_SUFFIX}"


def object_key(master_key: bytes, nonce: bytes, object_id: str) -> bytes:
    return hkdf_sha256(master_key, salt=nonce, info=_OBJECT_INFO + bytes.fromhex(object_id))


def open_object(root: Path, entry: ObjectRef) -> BinaryIO:
    """The object file positioned after its nonce, once its length and nonce are right."""
    path = object_path(root, entry.object_id)
    try:
        f = fsutil.open_regular(path, f"the data of {entry.name!r},")
    except FileNotFoundError:
        raise IntegrityError(f"the data of {entry.name!r} is missing from the vault "
                             f"({OBJECTS_DIR}/{path.name})") from None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc
    if (os.fstat(f.fileno()).st_size != NONCE_SIZE + encrypted_size(entry.size)
            or f.read(NONCE_SIZE) != entry.nonce):
        f.close()
        raise IntegrityError(f"the data of {entry.name!r} was truncated or replaced")
    return f


def decrypt_object(root: Path, master_key: bytes, entry: ObjectRef, dst: BinaryIO) -> Iterator[int]:
    """Decrypt an entry's object into `dst`; IntegrityError naming the entry on tampering."""
    key = object_key(master_key, entry.nonce, entry.object_id)
    with open_object(root, entry) as src:
        try:
            yield from decrypt_stream(key, src, dst)
        except IntegrityError:
            raise IntegrityError(f"the data of {entry.name!r} was modified or damaged",
                                 hint="Restore the vault from a backup.") from None


def write_object(root: Path, master_key: bytes, src: BinaryIO, name: str) -> Generator[int, None, Written]:
    """Encrypt `src` into a new object file (atomically); returns what names it."""
    object_id, nonce = new_object_id(), random_bytes(NONCE_SIZE)
    key = object_key(master_key, nonce, object_id)
    size = 0
    with fsutil.atomic_write(object_path(root, object_id), what=f"adding {name!r}", sweep=False) as out:
        out.write(nonce)
        for size in encrypt_stream(key, src, out):  # type: ignore[arg-type]
            yield size
    return Written(name, size, object_id, nonce)


def reencrypt_object(root: Path, old_key: bytes, new_key: bytes,
                     entry: ObjectRef) -> Generator[int, None, Written]:
    """Copy an entry's content into a new object under `new_key`; plaintext stays in memory."""
    with open_object(root, entry) as src:
        pipe = _PlaintextPipe(object_key(old_key, entry.nonce, entry.object_id), src)
        try:
            new = yield from write_object(root, new_key, pipe, entry.name)  # type: ignore[arg-type]
        except IntegrityError:
            raise IntegrityError(f"the data of {entry.name!r} was modified or damaged",
                                 hint="Restore the vault from a backup.") from None
    return new


class _PlaintextPipe:
    """A readable over decrypt_stream's output, so re-encryption never puts plaintext on disk."""

    def __init__(self, key: bytes, src: BinaryIO) -> None:
        self._buf = bytearray()
        self._chunks = decrypt_stream(key, src, self)  # type: ignore[arg-type]
        self._eof = False

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        while not self._eof and (n < 0 or len(self._buf) < n):
            try:
                next(self._chunks)
            except StopIteration:
                self._eof = True
        n = len(self._buf) if n < 0 else min(n, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out
