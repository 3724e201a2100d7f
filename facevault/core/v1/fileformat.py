"""Single-file encryption: a self-contained, age-like container for one file.

    magic "FaceVault file\\n" | version 0x01 | uint32 BE slots length | encode_slots(...)
    | 16-byte payload nonce | 32-byte header MAC | STREAM payload

A random 32-byte file key is wrapped by each key slot (face, recovery, device). The header
MAC is HMAC-SHA256 keyed by HKDF(file key, info "FaceVault file header") over every header
byte before it; the payload is STREAM (stream.py) with the key HKDF(file key,
salt = payload nonce, info "FaceVault file payload"), unique per file. Byte layout: FORMAT.md.

Decrypting is three steps so callers can try slots in between:
read_file_header (parse only) -> open a slot (slots.py) -> decrypt_file_stream (MAC, payload).
Above core, `seal_file` and `open_file` do the same without handing out the file key.

May import: stdlib, facevault.core.{crypto,stream,slots}, facevault.errors.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from facevault.core.crypto import (
    KEY_SIZE,
    MAC_SIZE,
    hkdf_sha256,
    hmac_sha256,
    random_bytes,
    verify_hmac,
)
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.v1.sealing import SlotPlan, seal_all
from facevault.core.v1.slots import Slot, decode_slots, encode_slots
from facevault.core.stream import decrypt_stream, encrypt_stream
from facevault.core.v1.unlocking import Opened, _open_slots
from facevault.errors import IntegrityError

__all__ = [
    "MAGIC",
    "VERSION",
    "PAYLOAD_NONCE_SIZE",
    "MAX_SLOTS_SIZE",
    "FileHeader",
    "new_file_key",
    "encrypt_file_stream",
    "read_file_header",
    "decrypt_file_stream",
    "seal_file",
    "open_file",
    "UnlockedFile",
]

MAGIC = b"FaceVault file\n"
VERSION = 1
PAYLOAD_NONCE_SIZE = 16
MAX_SLOTS_SIZE = 64 * 1024 * 1024
HEADER_LABEL = b"FaceVault file header"
PAYLOAD_LABEL = b"FaceVault file payload"
_NOT_OURS = "This is not a FaceVault encrypted file"
_HINT = "Check that you picked the right file; it may be damaged or incomplete."


@dataclass(frozen=True)
class FileHeader:
    """A parsed, NOT YET AUTHENTICATED header. `raw` is every byte the MAC covers."""

    slots: tuple[Slot, ...]
    payload_nonce: bytes
    mac: bytes
    raw: bytes


def new_file_key() -> bytes:
    """A fresh random 32-byte file key (wrap it with slots.seal_slot for each way in)."""
    return random_bytes(KEY_SIZE)


def _check_key(file_key: object) -> None:
    if not isinstance(file_key, bytes):
        raise TypeError("file_key must be bytes")
    if len(file_key) != KEY_SIZE:
        raise ValueError(f"file_key must be {KEY_SIZE} bytes")


def _header_raw(slots: list[Slot], payload_nonce: bytes) -> bytes:
    encoded = encode_slots(list(slots))
    return b"".join((MAGIC, bytes([VERSION]), struct.pack(">I", len(encoded)), encoded,
                     payload_nonce))


def _payload_key(file_key: bytes, payload_nonce: bytes) -> bytes:
    return hkdf_sha256(file_key, info=PAYLOAD_LABEL, salt=payload_nonce)


def _encrypt_file_from_parts(
    src: BinaryIO, dst: BinaryIO, file_key: bytes, slots: list[Slot], payload_nonce: bytes
) -> Iterator[int]:
    """Deterministic core of encrypt_file_stream (tests and vectors only)."""
    _check_key(file_key)
    if not isinstance(payload_nonce, bytes) or len(payload_nonce) != PAYLOAD_NONCE_SIZE:
        raise ValueError(f"payload_nonce must be {PAYLOAD_NONCE_SIZE} bytes")
    raw = _header_raw(slots, payload_nonce)  # validates the slots before any output
    mac = hmac_sha256(hkdf_sha256(file_key, info=HEADER_LABEL), raw)
    return _write(src, dst, raw + mac, _payload_key(file_key, payload_nonce))


def _write(src: BinaryIO, dst: BinaryIO, header: bytes, payload_key: bytes) -> Iterator[int]:
    dst.write(header)
    yield from encrypt_stream(payload_key, src, dst)


def encrypt_file_stream(
    src: BinaryIO, dst: BinaryIO, file_key: bytes, slots: list[Slot]
) -> Iterator[int]:
    """Write header then payload; yields plaintext bytes done after each 64 KiB chunk.

    `slots` must wrap `file_key` (this is not checked: it would cost a KDF per slot).
    Arguments are validated at call time; the output is written while iterating.
    """
    return _encrypt_file_from_parts(src, dst, file_key, slots, random_bytes(PAYLOAD_NONCE_SIZE))


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = b""
    while len(data) < n:
        part = src.read(n - len(data))
        if not part:
            raise IntegrityError(f"The encrypted file is truncated ({what}).", hint=_HINT)
        data += part
    return data


def read_file_header(src: BinaryIO) -> FileHeader:
    """Parse the header and leave `src` at the payload. Does not authenticate anything."""
    start = src.read(len(MAGIC))
    if start != MAGIC:
        raise IntegrityError(f"{_NOT_OURS}.", hint=_HINT)
    version = _read_exact(src, 1, "version")[0]
    if version != VERSION:
        raise IntegrityError(f"{_NOT_OURS} of a version this program reads "
                             f"(version {version}).", hint="Update FaceVault.")
    length_raw = _read_exact(src, 4, "header length")
    (length,) = struct.unpack(">I", length_raw)
    if length > MAX_SLOTS_SIZE:
        raise IntegrityError(f"{_NOT_OURS}, or it is damaged (header too large).", hint=_HINT)
    encoded = _read_exact(src, length, "key slots")
    slots = decode_slots(encoded)
    payload_nonce = _read_exact(src, PAYLOAD_NONCE_SIZE, "payload nonce")
    mac = _read_exact(src, MAC_SIZE, "header MAC")
    raw = MAGIC + bytes([version]) + length_raw + encoded + payload_nonce
    return FileHeader(tuple(slots), payload_nonce, mac, raw)


def decrypt_file_stream(
    src: BinaryIO, header: FileHeader, file_key: bytes, dst: BinaryIO
) -> Iterator[int]:
    """Check the header MAC now (AuthenticationError), then decrypt the payload while iterating.

    `src` must be positioned where read_file_header left it. As with stream.decrypt_stream,
    plaintext before a failing chunk has been written: write to a temp file, rename after.
    """
    if not isinstance(header, FileHeader):
        raise TypeError("header must be a FileHeader")
    _check_key(file_key)
    verify_hmac(hkdf_sha256(file_key, info=HEADER_LABEL), header.raw, header.mac)
    return decrypt_stream(_payload_key(file_key, header.payload_nonce), src, dst)


def seal_file(src: BinaryIO, dst: BinaryIO, plans: list[SlotPlan]) -> Iterator[int]:
    """Encrypt `src` into `dst` under a fresh file key with a slot sealed from each plan."""
    file_key = new_file_key()
    return encrypt_file_stream(src, dst, file_key, seal_all(file_key, plans))


@dataclass(frozen=True)
class UnlockedFile:
    """A single file whose key was found: `decrypt` writes its payload. The key stays inside."""

    header: FileHeader = field(repr=False)
    opened: Opened
    _key: bytes = field(repr=False)

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
        """Check the header MAC now, then decrypt the payload while iterating (`src` where
        read_file_header left it)."""
        return decrypt_file_stream(src, self.header, self._key, dst)


def open_file(header: FileHeader, offer: Factors, *,
              policy: DecodePolicy = DecodePolicy()) -> UnlockedFile:
    """Find the file key from `offer` (NotRecognisedError when nothing fits)."""
    file_key, opened = _open_slots(header.slots, offer, policy)
    return UnlockedFile(header, opened, file_key)
