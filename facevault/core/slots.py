"""Version-2 key slots: one way in, as a recipient (facevault.core.recipient), and the
stanzas that carry an epoch key to it.

A `Slot` is public and stable across epochs: its kind, id, salt, KDF parameters, public
data (its layout belongs to the kind's module in facevault.core.kinds) and the recipient
public key derived from its secret. A `Stanza` carries one key (an epoch key, a file key)
to one slot; its associated data binds the vault or file, the epoch and every byte of the
slot, so a slot whose kind, KDF cost, public data or key was edited never opens.

    slot   = 0x02 | kind u8 | slot id (8) | salt (16) | KDF (13) | public key (32)
             | L u32 BE | public data (L)
    stanza = slot id (8) | ephemeral public key (32) | wrapped key (48)

Byte layout and the list encodings: FORMAT.md, "Version 2: key slots".

May import: stdlib, facevault.core (crypto, kdf, kinds, recipient), facevault.errors.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from facevault.core import recipient
from facevault.core.crypto import random_bytes
from facevault.core.kdf import PARAMS_SIZE, SALT_SIZE, KdfParams
from facevault.core.kinds import Kind
from facevault.errors import IntegrityError

__all__ = [
    "SLOT_VERSION",
    "SLOT_ID_SIZE",
    "MAX_PUBLIC_SIZE",
    "MAX_SLOTS",
    "STANZA_SIZE",
    "Slot",
    "Stanza",
    "combine_secrets",
    "new_slot",
    "guess_seconds",
    "slot_private_key",
    "encode_slot",
    "decode_slot",
    "encode_slots",
    "decode_slots",
    "encode_stanzas",
    "decode_stanzas",
    "wrap_to",
    "open_stanza",
]

SLOT_VERSION = 2
SLOT_ID_SIZE = 8
MAX_PUBLIC_SIZE = 16 * 1024 * 1024
MAX_SLOTS = 32
STANZA_SIZE = SLOT_ID_SIZE + recipient.STANZA_BODY_SIZE
_HEAD = struct.Struct(f">BB{SLOT_ID_SIZE}s{SALT_SIZE}s{PARAMS_SIZE}s32sI")
_STANZA_LABEL = b"FaceVault stanza\x00"


@dataclass(frozen=True)
class Slot:
    """One way in (public). `public_key` is the X25519 key its secret derives."""

    kind: Kind
    slot_id: bytes
    salt: bytes
    kdf: KdfParams
    public_key: bytes
    public: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            raise TypeError("kind must be a Kind")
        if not isinstance(self.kdf, KdfParams):
            raise TypeError("kdf must be a KdfParams")
        for name, size in (("slot_id", SLOT_ID_SIZE), ("salt", SALT_SIZE),
                           ("public_key", recipient.PUBLIC_KEY_SIZE)):
            value = getattr(self, name)
            if not isinstance(value, bytes):
                raise TypeError(f"{name} must be bytes")
            if len(value) != size:
                raise ValueError(f"{name} must be {size} bytes")
        if not isinstance(self.public, bytes):
            raise TypeError("public must be bytes")
        if len(self.public) > MAX_PUBLIC_SIZE:
            raise ValueError(f"public data must be at most {MAX_PUBLIC_SIZE} bytes")

    @property
    def label(self) -> bytes:
        return bytes([int(self.kind)]) + self.slot_id

    @property
    def digest(self) -> bytes:
        """SHA-256 of the slot's encoding: what a stanza is bound to."""
        return hashlib.sha256(encode_slot(self)).digest()


@dataclass(frozen=True)
class Stanza:
    slot_id: bytes
    body: bytes = field(repr=False)  # ephemeral public key || wrapped key


def combine_secrets(*parts: bytes) -> bytes:
    """One secret from several: uint32 BE length || part, for each part in order. Every part
    must be non-empty, so a missing factor can never collapse into a one-factor secret."""
    if len(parts) < 2:
        raise ValueError("combine at least two secrets")
    out = []
    for part in parts:
        if not isinstance(part, bytes):
            raise TypeError("each secret part must be bytes")
        if not part:
            raise ValueError("each secret part must be non-empty")
        out.append(struct.pack(">I", len(part)))
        out.append(part)
    return b"".join(out)


def new_slot(kind: Kind, ikm: bytes, *, kdf: KdfParams, salt: bytes, public: bytes = b"",
             slot_id: bytes | None = None) -> Slot:
    """A slot whose secret, after its kind's KDF, is `ikm` (the caller ran that KDF with
    `salt`; `salt` also salts the recipient key)."""
    slot_id = random_bytes(SLOT_ID_SIZE) if slot_id is None else slot_id
    label = bytes([int(kind)]) + slot_id
    return Slot(kind, slot_id, salt, kdf, recipient.public_key(ikm, salt, label), public)


def slot_private_key(slot: Slot, ikm: bytes) -> X25519PrivateKey:
    return recipient.private_key(ikm, slot.salt, slot.label)


def _stanza_aad(slot: Slot, context: bytes) -> bytes:
    return _STANZA_LABEL + context + slot.digest


def wrap_to(slot: Slot, key: bytes, context: bytes) -> Stanza:
    """A stanza carrying `key` to `slot`; `context` names what the key is for (vault id and
    epoch, or a file's id): a stanza moved elsewhere does not open."""
    return Stanza(slot.slot_id, recipient.wrap(key, slot.public_key, _stanza_aad(slot, context)))


def open_stanza(slot: Slot, stanza: Stanza, ikm: bytes, context: bytes) -> bytes | None:
    """The key in `stanza` when `ikm` is `slot`'s secret (and its public key matches)."""
    sk = slot_private_key(slot, ikm)
    if recipient.raw_public(sk) != slot.public_key:
        return None
    return recipient.unwrap(stanza.body, sk, _stanza_aad(slot, context))


def guess_seconds(slot: Slot, tries: int = 64) -> float:
    """Seconds one guess at `slot` costs here after its kind's KDF (the median recipient-key
    derivation and comparison; the caller adds Argon2id for a kind that stretches)."""
    import statistics
    import time

    times = []
    for _ in range(tries):
        start = time.perf_counter()
        recipient.raw_public(slot_private_key(slot, random_bytes(32))) == slot.public_key  # noqa: B015
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def encode_slot(slot: Slot) -> bytes:
    head = _HEAD.pack(SLOT_VERSION, int(slot.kind), slot.slot_id, slot.salt, slot.kdf.to_bytes(),
                      slot.public_key, len(slot.public))
    return head + slot.public


def decode_slot(data: bytes) -> Slot:
    """Parse encode_slot output exactly; IntegrityError on anything else."""
    data = bytes(data)
    if len(data) < _HEAD.size:
        raise IntegrityError("Key slot is truncated.")
    version, code, slot_id, salt, kdf_raw, pk, public_len = _HEAD.unpack_from(data)
    if version != SLOT_VERSION:
        raise IntegrityError(f"Unsupported key slot version {version}.")
    try:
        kind = Kind(code)
    except ValueError:
        raise IntegrityError(f"Unknown key slot kind {code}.") from None
    if public_len > MAX_PUBLIC_SIZE or len(data) != _HEAD.size + public_len:
        raise IntegrityError("Key slot has the wrong length (truncated or trailing bytes).")
    kdf = KdfParams.from_bytes(kdf_raw, allow_none=True)
    return Slot(kind, slot_id, salt, kdf, pk, data[_HEAD.size:])


def encode_slots(slots: Sequence[Slot]) -> bytes:
    """uint16 BE count (1..32), then per slot uint32 BE length + encode_slot."""
    if not 1 <= len(slots) <= MAX_SLOTS:
        raise ValueError(f"there must be between 1 and {MAX_SLOTS} slots")
    if len({s.slot_id for s in slots}) != len(slots):
        raise ValueError("slot ids must be unique")
    parts = [struct.pack(">H", len(slots))]
    for slot in slots:
        raw = encode_slot(slot)
        parts += [struct.pack(">I", len(raw)), raw]
    return b"".join(parts)


def decode_slots(data: bytes, pos: int = 0) -> tuple[list[Slot], int]:
    """Parse encode_slots output starting at `pos`; returns the slots and the end offset."""
    if len(data) - pos < 2:
        raise IntegrityError("Key slot list is truncated.")
    (count,) = struct.unpack_from(">H", data, pos)
    if not 1 <= count <= MAX_SLOTS:
        raise IntegrityError(f"Key slot count {count} is out of range.")
    pos += 2
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
    if len({s.slot_id for s in slots}) != len(slots):
        raise IntegrityError("Key slot list repeats a slot id.")
    return slots, pos


def encode_stanzas(stanzas: Sequence[Stanza]) -> bytes:
    """uint16 BE count, then per stanza slot id (8) || body (80)."""
    return struct.pack(">H", len(stanzas)) + b"".join(s.slot_id + s.body for s in stanzas)


def decode_stanzas(data: bytes, pos: int = 0) -> tuple[list[Stanza], int]:
    if len(data) - pos < 2:
        raise IntegrityError("Key stanza list is truncated.")
    (count,) = struct.unpack_from(">H", data, pos)
    pos += 2
    if count > MAX_SLOTS or len(data) - pos < count * STANZA_SIZE:
        raise IntegrityError("Key stanza list is truncated or too long.")
    out = []
    for _ in range(count):
        out.append(Stanza(data[pos : pos + SLOT_ID_SIZE], data[pos + SLOT_ID_SIZE : pos + STANZA_SIZE]))
        pos += STANZA_SIZE
    return out, pos
