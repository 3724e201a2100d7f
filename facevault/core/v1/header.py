"""The vault folder's header file `vault.fvh`: magic, version, vault id, key slots, MAC.

    magic "FVVAULT\\0" (8) | version u16 BE (=1) | vault id (16) | slots length u32 BE |
    encode_slots(slots) | HMAC-SHA256(HKDF(master key, info="facevault header"), all before)

Parsing (`parse_header`, `read_header`) is the public, unauthenticated view a caller needs
to find a slot to try. Nothing in it may be trusted until `verify_header` has checked the
MAC with the master key unwrapped from one of those slots: that is what makes every slot
parameter (KDF cost, IronMask helper data) tamper-evident. `encode_header` and
`parse_header` round-trip byte for byte.

May import: the standard library, facevault.core (crypto, slots), facevault.errors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from facevault.core import fsutil
from facevault.core.crypto import (
    KEY_SIZE,
    MAC_SIZE,
    AuthenticationError,
    hkdf_sha256,
    hmac_sha256,
    verify_hmac,
)
from facevault.core.v1.slots import Slot, decode_slots, encode_slots
from facevault.errors import IntegrityError, PathError

__all__ = [
    "HEADER_NAME",
    "MAGIC",
    "FORMAT_VERSION",
    "VAULT_ID_SIZE",
    "MAX_HEADER_SIZE",
    "VaultHeader",
    "encode_header",
    "parse_header",
    "read_header",
    "verify_header",
]

HEADER_NAME = "vault.fvh"
MAGIC = b"FVVAULT\x00"
FORMAT_VERSION = 1
VAULT_ID_SIZE = 16
MAX_HEADER_SIZE = 64 * 1024 * 1024
"""A face slot carries IronMask helper data (a 512x512 matrix); 64 MiB leaves room."""

_FIXED = struct.Struct(">8sH16sI")
_HEADER_INFO = b"facevault header"


@dataclass(frozen=True)
class VaultHeader:
    """A parsed header. `body` is the exact MAC-covered bytes; `mac` the stored tag."""

    format_version: int
    vault_id: bytes
    slots: tuple[Slot, ...]
    body: bytes = field(repr=False, compare=False, default=b"")
    mac: bytes = field(repr=False, compare=False, default=b"")

    @property
    def vault_id_hex(self) -> str:
        return self.vault_id.hex()


def _mac_key(master_key: bytes) -> bytes:
    if not isinstance(master_key, (bytes, bytearray)):
        raise TypeError("master_key must be bytes")
    if len(master_key) != KEY_SIZE:
        raise ValueError(f"master_key must be {KEY_SIZE} bytes")
    return hkdf_sha256(bytes(master_key), info=_HEADER_INFO)


def encode_header(
    vault_id: bytes, slots: list[Slot] | tuple[Slot, ...], master_key: bytes
) -> bytes:
    """Serialise a header and MAC it with a key derived from `master_key`."""
    if not isinstance(vault_id, bytes) or len(vault_id) != VAULT_ID_SIZE:
        raise ValueError(f"vault_id must be {VAULT_ID_SIZE} bytes")
    slots = tuple(slots)
    if not slots:
        raise ValueError("a vault needs at least one key slot")
    if not all(isinstance(s, Slot) for s in slots):
        raise TypeError("slots must be Slot objects")
    encoded = encode_slots(list(slots))
    body = _FIXED.pack(MAGIC, FORMAT_VERSION, vault_id, len(encoded)) + encoded
    return body + hmac_sha256(_mac_key(master_key), body)


def parse_header(data: bytes) -> VaultHeader:
    """Parse header bytes without authenticating them; IntegrityError for anything foreign."""
    if len(data) < _FIXED.size + MAC_SIZE or not data.startswith(MAGIC):
        raise IntegrityError("not a FaceVault vault (the header is missing its signature)")
    magic, version, vault_id, slots_len = _FIXED.unpack_from(data)
    if version != FORMAT_VERSION:
        raise IntegrityError(
            f"unsupported vault format version {version}",
            hint="This vault was made by a newer FaceVault; update FaceVault to open it.",
        )
    end = _FIXED.size + slots_len
    if len(data) != end + MAC_SIZE:
        raise IntegrityError("not a FaceVault vault (the header is truncated or has extra bytes)")
    try:
        slots = tuple(decode_slots(data[_FIXED.size:end]))
    except IntegrityError as exc:
        raise IntegrityError(f"not a FaceVault vault (bad key slots: {exc})") from None
    if not slots:
        raise IntegrityError("not a FaceVault vault (no key slots)")
    return VaultHeader(version, vault_id, slots, body=data[:end], mac=data[end:])


def read_header(path: Path) -> VaultHeader:
    """Read and parse `<path>/vault.fvh` (unauthenticated; see `verify_header`)."""
    path = Path(path)
    if not path.exists():
        raise PathError(f"no vault at {path}: the folder does not exist",
                           hint="Check the path, or create a vault there first.")
    if not path.is_dir():
        raise IntegrityError(f"not a FaceVault vault: {path} is a file, not a vault folder")
    # Only a regular file, size-checked before reading (a symlink to /dev/zero would never end).
    found = fsutil.read_regular(path / HEADER_NAME, MAX_HEADER_SIZE, "header")
    if found is None:
        raise IntegrityError(f"not a FaceVault vault: {path} has no {HEADER_NAME}")
    data = found
    if len(data) > MAX_HEADER_SIZE:
        raise IntegrityError("not a FaceVault vault (the header is too large)")
    return parse_header(data)


def verify_header(header: VaultHeader, master_key: bytes) -> None:
    """Check the header MAC; IntegrityError "vault header was modified" on mismatch.

    A wrong master key looks exactly like a modified header (both fail the MAC).
    """
    try:
        verify_hmac(_mac_key(master_key), header.body, header.mac)
    except AuthenticationError:
        raise IntegrityError(
            "vault header was modified (or the key does not belong to this vault)",
            hint="Restore vault.fvh from a backup; do not trust this copy.",
        ) from None
