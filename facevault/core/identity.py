"""Face identities and the single files encrypted to them (format 2), like age recipients.

An identity is one enrollment of a face, made once: a face slot (the helper and the X25519
public key derived from the codeword, facevault.core.slots) and a recovery slot, both
public. `identity.fvid` holds only those: anyone who has it can encrypt to you, and a
thousand files encrypted to it carry the same helper, one sketch of your face. Decrypting
needs your face (or the identity's recovery code), and no identity file: every encrypted
file carries the identity's slots.

    identity.fvid  magic "FaceVault identity\\n" | version 0x02 | identity id (16)
                   | uint16 L | L bytes label (UTF-8) | slot list
    file.fvf       magic "FaceVault file\\n" | version 0x02 | identity id (16) | file id (16)
                   | slot list | stanza list | payload nonce (16) | MAC (32) | STREAM payload

A file's key is random; each stanza wraps it to one slot, bound to "file" || file id. The
MAC is HMAC-SHA256(HKDF(file key, info "FaceVault file header v2"), every header byte
before it); the payload is STREAM with HKDF(file key, salt = payload nonce, info
"FaceVault file payload"). Version-1 files (one helper per file) are still read
(facevault.core.v1.fileformat). Byte layout: FORMAT.md, "Identities and single files".

May import: stdlib, facevault.core (crypto, slots, stream, unlocking, factors, facekey,
kinds, recovery, sealing, v1.fileformat), facevault.errors.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from facevault.core.crypto import KEY_SIZE, MAC_SIZE, AuthenticationError, hkdf_sha256, hmac_sha256, \
    random_bytes, verify_hmac
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.kinds import Kind
from facevault.core.sealing import SlotPlan
from facevault.core.slots import Slot, Stanza, decode_slots, decode_stanzas, encode_slots, encode_stanzas, \
    wrap_to
from facevault.core.stream import decrypt_stream, encrypt_stream
from facevault.core.unlocking import Opened, open_with
from facevault.errors import IntegrityError

__all__ = ["ID_MAGIC", "FILE_MAGIC", "Identity", "new_identity", "parse_identity", "encode_identity",
           "encrypt_to", "FileHeaderV2", "read_header_v2", "UnlockedFileV2", "open_file_v2",
           "MAX_HEADER"]

ID_MAGIC = b"FaceVault identity\n"
FILE_MAGIC = b"FaceVault file\n"
VERSION = 2
MAX_HEADER = 64 * 1024 * 1024
_HEADER_LABEL = b"FaceVault file header v2"
_PAYLOAD_LABEL = b"FaceVault file payload"
_HINT = "Check that you picked the right file; it may be damaged or incomplete."


@dataclass(frozen=True)
class Identity:
    """A face identity's public part: its id, a label, its face and recovery slots."""

    identity_id: bytes
    label: str
    slots: tuple[Slot, ...] = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """What two people compare to know they hold the same identity file."""
        digest = hashlib.sha256(b"FaceVault identity fingerprint\x00" + encode_identity(self)).hexdigest()
        return "-".join(digest[i : i + 4] for i in range(0, 24, 4))


def new_identity(plans: list[SlotPlan], label: str) -> Identity:
    """An identity from the plans of its face and recovery slots (enrollment-time factors)."""
    kinds = sorted(p.kind for p in plans)
    if kinds != [Kind.FACE, Kind.RECOVERY]:
        raise ValueError("an identity is one face slot and one recovery slot")
    return Identity(random_bytes(16), label[:200], tuple(p.make() for p in plans))


def encode_identity(identity: Identity) -> bytes:
    label = identity.label.encode("utf-8")
    return b"".join((ID_MAGIC, bytes([VERSION]), identity.identity_id, struct.pack(">H", len(label)),
                     label, encode_slots(list(identity.slots))))


def parse_identity(data: bytes) -> Identity:
    """Parse an identity file; IntegrityError for anything else."""
    if not data.startswith(ID_MAGIC):
        raise IntegrityError("This is not a FaceVault identity file.", hint=_HINT)
    pos = len(ID_MAGIC)
    if len(data) < pos + 19 or data[pos] != VERSION:
        raise IntegrityError("This identity file is of a version this program does not read, or damaged.",
                             hint=_HINT)
    identity_id = data[pos + 1 : pos + 17]
    (n,) = struct.unpack_from(">H", data, pos + 17)
    label_end = pos + 19 + n
    try:
        label = data[pos + 19 : label_end].decode("utf-8")
        slots, end = decode_slots(data, label_end)
    except (UnicodeDecodeError, IntegrityError):
        raise IntegrityError("This identity file is damaged.", hint=_HINT) from None
    if end != len(data) or sorted(s.kind for s in slots) != [Kind.FACE, Kind.RECOVERY]:
        raise IntegrityError("This identity file is damaged.", hint=_HINT)
    Kind.FACE.spec.check_public(next(s for s in slots if s.kind is Kind.FACE).public)
    return Identity(identity_id, label, tuple(slots))


def _context(file_id: bytes) -> bytes:
    return b"file" + file_id


def encrypt_to(identity: Identity, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
    """Write a file encrypted to `identity` (no face needed); yields plaintext bytes done."""
    file_key, file_id, nonce = random_bytes(KEY_SIZE), random_bytes(16), random_bytes(16)
    stanzas = [wrap_to(s, file_key, _context(file_id)) for s in identity.slots]
    raw = b"".join((FILE_MAGIC, bytes([VERSION]), identity.identity_id, file_id,
                    encode_slots(list(identity.slots)), encode_stanzas(stanzas), nonce))
    dst.write(raw + hmac_sha256(hkdf_sha256(file_key, info=_HEADER_LABEL), raw))
    return encrypt_stream(hkdf_sha256(file_key, salt=nonce, info=_PAYLOAD_LABEL), src, dst)


@dataclass(frozen=True)
class FileHeaderV2:
    identity_id: bytes
    file_id: bytes
    slots: tuple[Slot, ...] = field(repr=False)
    stanzas: tuple[Stanza, ...] = field(repr=False)
    payload_nonce: bytes = field(repr=False)
    mac: bytes = field(repr=False)
    raw: bytes = field(repr=False)


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise IntegrityError(f"The encrypted file is truncated ({what}).", hint=_HINT)
    return data


def _read_list(src: BinaryIO, entry_sizes: bool) -> bytes:
    """A slot list (uint16 count, then uint32 length + slot each) or a stanza list (uint16
    count, 88 bytes each), read exactly."""
    head = _read_exact(src, 2, "key slots")
    (count,) = struct.unpack(">H", head)
    if count > 64:
        raise IntegrityError("The encrypted file is damaged (too many key slots).", hint=_HINT)
    out = [head]
    for _ in range(count):
        if entry_sizes:
            size_raw = _read_exact(src, 4, "key slots")
            (size,) = struct.unpack(">I", size_raw)
            if size > MAX_HEADER:
                raise IntegrityError("The encrypted file is damaged (header too large).", hint=_HINT)
            out += [size_raw, _read_exact(src, size, "key slots")]
        else:
            out.append(_read_exact(src, 88, "key stanzas"))
    return b"".join(out)


def read_header_v2(src: BinaryIO) -> FileHeaderV2:
    """Parse a version-2 file header after its magic and version byte (the caller read
    those); leaves `src` at the payload. Authenticates nothing."""
    ids = _read_exact(src, 32, "ids")
    slots_raw = _read_list(src, True)
    stanzas_raw = _read_list(src, False)
    nonce = _read_exact(src, 16, "payload nonce")
    mac = _read_exact(src, MAC_SIZE, "header MAC")
    slots, end = decode_slots(slots_raw)
    stanzas, end2 = decode_stanzas(stanzas_raw)
    if end != len(slots_raw) or end2 != len(stanzas_raw):
        raise IntegrityError("The encrypted file is damaged.", hint=_HINT)
    raw = FILE_MAGIC + bytes([VERSION]) + ids + slots_raw + stanzas_raw + nonce
    return FileHeaderV2(ids[:16], ids[16:], tuple(slots), tuple(stanzas), nonce, mac, raw)


@dataclass(frozen=True)
class UnlockedFileV2:
    header: FileHeaderV2 = field(repr=False)
    opened: Opened
    _key: bytes = field(repr=False)

    def decrypt(self, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
        try:
            verify_hmac(hkdf_sha256(self._key, info=_HEADER_LABEL), self.header.raw, self.header.mac)
        except AuthenticationError:
            raise IntegrityError("The encrypted file's header was modified.", hint=_HINT) from None
        return decrypt_stream(hkdf_sha256(self._key, salt=self.header.payload_nonce, info=_PAYLOAD_LABEL),
                              src, dst)


def open_file_v2(header: FileHeaderV2, offer: Factors, *,
                 policy: DecodePolicy = DecodePolicy()) -> UnlockedFileV2:
    """Find the file key from `offer` (NotRecognisedError when nothing fits)."""
    key, opened = open_with(header.slots, header.stanzas, offer, policy, _context(header.file_id))
    return UnlockedFileV2(header, opened, key)
