"""Key slots: the vault master key wrapped once per way in. Which ways in exist, and what
each stores and needs, is `facevault.core.kinds`; this module is the common envelope.

Like an age stanza or a LUKS2 keyslot. Each slot derives a wrapping key from its secret with
Argon2id (own random salt, own KdfParams) and seals the 32-byte master key with
ChaCha20-Poly1305 under a random nonce. The associated data binds the slot's kind, id,
salt, KDF parameters and a SHA-256 of its public data, so changing any of them (a
downgrade of the KDF cost, a swapped IronMask helper) makes the slot fail to open.

Two-factor kinds take one secret made of two parts with `combine_secrets` (length-prefixed,
so no two pairs of parts give the same bytes). Because the kind is in the associated data,
a two-factor slot relabelled as a plain face slot does not open: the vault's mode (the set
of its slot kinds) cannot be downgraded by editing bytes.

A slot that fails to open raises NotRecognisedError: a wrong face or code is the normal
case, and a tampered slot cannot be told apart from it. The byte layout is in FORMAT.md.

May import: stdlib, facevault.core.crypto, facevault.core.kdf, facevault.errors.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from facevault.core.crypto import (
    KEY_SIZE,
    NONCE_SIZE,
    TAG_SIZE,
    AuthenticationError,
    aead_open,
    aead_seal,
    random_bytes,
)
from facevault.core.kdf import PARAMS_SIZE, SALT_SIZE, KdfParams, derive_key
from facevault.core.kinds import Kind
from facevault.errors import IntegrityError, NotRecognisedError

__all__ = [
    "combine_secrets",
    "SLOT_VERSION",
    "SLOT_ID_SIZE",
    "WRAPPED_KEY_SIZE",
    "MAX_PUBLIC_SIZE",
    "MAX_SLOTS",
    "Slot",
    "seal_slot",
    "open_slot",
    "try_open_slot",
    "slot_aad",
    "encode_slot",
    "decode_slot",
    "encode_slots",
    "decode_slots",
]

SLOT_VERSION = 1
SLOT_ID_SIZE = 8
WRAPPED_KEY_SIZE = KEY_SIZE + TAG_SIZE
MAX_PUBLIC_SIZE = 16 * 1024 * 1024
MAX_SLOTS = 32

_AAD_LABEL = b"FaceVault key slot\x00"
_HEAD = struct.Struct(f">BB{SLOT_ID_SIZE}s{SALT_SIZE}s{PARAMS_SIZE}sI")
_TAIL_SIZE = NONCE_SIZE + WRAPPED_KEY_SIZE


def _is_bytes(value: object) -> bool:
    return isinstance(value, bytes)


@dataclass(frozen=True)
class Slot:
    """One wrapped copy of the master key.

    public: kind-specific, stored in clear but authenticated; its layout belongs to the
    kind's module in facevault.core.kinds (and FORMAT.md).
    """

    kind: Kind
    slot_id: bytes
    salt: bytes
    kdf: KdfParams
    public: bytes
    nonce: bytes
    wrapped_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            raise TypeError("kind must be a Kind")
        if not isinstance(self.kdf, KdfParams):
            raise TypeError("kdf must be a KdfParams")
        for name, size in (("slot_id", SLOT_ID_SIZE), ("salt", SALT_SIZE),
                           ("nonce", NONCE_SIZE), ("wrapped_key", WRAPPED_KEY_SIZE)):
            value = getattr(self, name)
            if not _is_bytes(value):
                raise TypeError(f"{name} must be bytes")
            if len(value) != size:
                raise ValueError(f"{name} must be {size} bytes")
        if not _is_bytes(self.public):
            raise TypeError("public must be bytes")
        if len(self.public) > MAX_PUBLIC_SIZE:
            raise ValueError(f"public data must be at most {MAX_PUBLIC_SIZE} bytes")


def combine_secrets(*parts: bytes) -> bytes:
    """One KDF input from several secrets: uint32 BE length || part, for each part in order.

    Used by the two-factor kinds (codeword, then device secret or passphrase). Every part
    must be non-empty, so a missing factor can never collapse into a one-factor secret.
    """
    if len(parts) < 2:
        raise ValueError("combine at least two secrets")
    out = []
    for part in parts:
        if not _is_bytes(part):
            raise TypeError("each secret part must be bytes")
        if not part:
            raise ValueError("each secret part must be non-empty")
        out.append(struct.pack(">I", len(part)))
        out.append(part)
    return b"".join(out)


def slot_aad(kind: Kind, slot_id: bytes, salt: bytes, kdf: KdfParams, public: bytes) -> bytes:
    """Associated data binding every slot field except the nonce and the ciphertext."""
    return b"".join((
        _AAD_LABEL,
        bytes([SLOT_VERSION, int(kind)]),
        slot_id,
        salt,
        kdf.to_bytes(),
        hashlib.sha256(public).digest(),
    ))


def _seal_slot_from_parts(
    kind: Kind,
    master_key: bytes,
    secret: bytes,
    *,
    kdf: KdfParams,
    public: bytes,
    slot_id: bytes,
    salt: bytes,
    nonce: bytes,
) -> Slot:
    """Deterministic core of seal_slot. Tests and vector generation only: never reuse parts."""
    if not _is_bytes(master_key):
        raise TypeError("master_key must be bytes")
    if len(master_key) != KEY_SIZE:
        raise ValueError(f"master_key must be {KEY_SIZE} bytes")
    if not _is_bytes(secret):
        raise TypeError("secret must be bytes")
    # Validate the public fields before paying for the KDF.
    Slot(kind, slot_id, salt, kdf, public, nonce, bytes(WRAPPED_KEY_SIZE))
    wrapping_key = derive_key(secret, salt, kdf)
    wrapped = aead_seal(wrapping_key, nonce, master_key, slot_aad(kind, slot_id, salt, kdf, public))
    return Slot(kind, slot_id, salt, kdf, public, nonce, wrapped)


def seal_slot(
    kind: Kind, master_key: bytes, secret: bytes, *, kdf: KdfParams, public: bytes = b""
) -> Slot:
    """Wrap `master_key` under Argon2id(`secret`) with a fresh slot id, salt and nonce."""
    return _seal_slot_from_parts(
        kind, master_key, secret, kdf=kdf, public=public,
        slot_id=random_bytes(SLOT_ID_SIZE), salt=random_bytes(SALT_SIZE),
        nonce=random_bytes(NONCE_SIZE),
    )


def open_slot(slot: Slot, secret: bytes) -> bytes:
    """Return the 32-byte master key, or raise NotRecognisedError if `secret` does not fit."""
    if not isinstance(slot, Slot):
        raise TypeError("slot must be a Slot")
    if not _is_bytes(secret):
        raise TypeError("secret must be bytes")
    if not secret:
        raise NotRecognisedError("Not recognised.")
    wrapping_key = derive_key(secret, slot.salt, slot.kdf)
    aad = slot_aad(slot.kind, slot.slot_id, slot.salt, slot.kdf, slot.public)
    try:
        return aead_open(wrapping_key, slot.nonce, slot.wrapped_key, aad)
    except AuthenticationError:
        raise NotRecognisedError("Not recognised.") from None


def try_open_slot(slot: Slot, secrets: Iterable[bytes], max_tries: int) -> bytes | None:
    """Try at most `max_tries` candidate secrets (e.g. list-decoded codewords) in order.

    Returns the master key from the first that fits, or None. Each try costs one KDF call,
    so `max_tries` bounds the running time.
    """
    if not isinstance(max_tries, int) or isinstance(max_tries, bool):
        raise TypeError("max_tries must be an int")
    if max_tries < 1:
        raise ValueError("max_tries must be at least 1")
    for tries, secret in enumerate(secrets, start=1):
        try:
            return open_slot(slot, secret)
        except NotRecognisedError:
            pass
        if tries >= max_tries:
            break
    return None


def encode_slot(slot: Slot) -> bytes:
    """Serialise one slot (see FORMAT.md, "Key slot encoding")."""
    if not isinstance(slot, Slot):
        raise TypeError("slot must be a Slot")
    head = _HEAD.pack(SLOT_VERSION, int(slot.kind), slot.slot_id, slot.salt,
                      slot.kdf.to_bytes(), len(slot.public))
    return b"".join((head, slot.public, slot.nonce, slot.wrapped_key))


def decode_slot(data: bytes) -> Slot:
    """Parse encode_slot output exactly; raises IntegrityError on anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD.size + _TAIL_SIZE:
        raise IntegrityError("Key slot is truncated.")
    version, kind_code, slot_id, salt, kdf_raw, public_len = _HEAD.unpack_from(data)
    if version != SLOT_VERSION:
        raise IntegrityError(f"Unsupported key slot version {version}.")
    try:
        kind = Kind(kind_code)
    except ValueError:
        raise IntegrityError(f"Unknown key slot kind {kind_code}.") from None
    if public_len > MAX_PUBLIC_SIZE:
        raise IntegrityError("Key slot public data is too large.")
    if len(data) != _HEAD.size + public_len + _TAIL_SIZE:
        raise IntegrityError("Key slot has the wrong length (truncated or trailing bytes).")
    kdf = KdfParams.from_bytes(kdf_raw)
    pos = _HEAD.size
    public = data[pos : pos + public_len]
    pos += public_len
    nonce = data[pos : pos + NONCE_SIZE]
    wrapped = data[pos + NONCE_SIZE :]
    return Slot(kind, slot_id, salt, kdf, public, nonce, wrapped)


def encode_slots(slots: list[Slot]) -> bytes:
    """Serialise 1..32 slots: uint16 BE count, then per slot uint32 BE length + encode_slot."""
    if not isinstance(slots, (list, tuple)):
        raise TypeError("slots must be a list of Slot")
    if not 1 <= len(slots) <= MAX_SLOTS:
        raise ValueError(f"there must be between 1 and {MAX_SLOTS} slots")
    ids = [slot.slot_id for slot in slots if isinstance(slot, Slot)]
    if len(set(ids)) != len(ids):
        raise ValueError("slot ids must be unique")
    parts = [struct.pack(">H", len(slots))]
    for slot in slots:
        raw = encode_slot(slot)
        parts.append(struct.pack(">I", len(raw)))
        parts.append(raw)
    return b"".join(parts)


def decode_slots(data: bytes) -> list[Slot]:
    """Parse encode_slots output exactly; raises IntegrityError on anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < 2:
        raise IntegrityError("Key slot list is truncated.")
    (count,) = struct.unpack_from(">H", data)
    if not 1 <= count <= MAX_SLOTS:
        raise IntegrityError(f"Key slot count {count} is out of range.")
    pos = 2
    slots: list[Slot] = []
    for _ in range(count):
        if len(data) - pos < 4:
            raise IntegrityError("Key slot list is truncated.")
        (length,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if length > len(data) - pos:
            raise IntegrityError("Key slot list is truncated.")
        slots.append(decode_slot(data[pos : pos + length]))
        pos += length
    if pos != len(data):
        raise IntegrityError("Key slot list has trailing bytes.")
    if len({slot.slot_id for slot in slots}) != len(slots):
        raise IntegrityError("Key slot list repeats a slot id.")
    return slots
