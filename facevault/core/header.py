"""Version-2 epoch headers: `headers/<epoch>-<writer>.fvh`, written once by the device that
starts the epoch, never changed.

An epoch has a random 32-byte key K. Its header lists the vault's slots (recipients,
facevault.core.slots), one stanza per slot carrying K, the epoch keys of every earlier epoch
(the key history, encrypted under K, so new holders read old content and old holders
nothing new), and a MAC under K over everything. The mode is in the MAC'd bytes. An
upgraded version-1 vault's first headers also carry the version-1 slots of the ways in not
yet converted and a "bridge" (K encrypted under the version-1 master key) that lets those
slots reach the epoch key until the next revocation (facevault.core.upgrade).

Byte layout: FORMAT.md, "Version 2: epoch header". `parse_header` is the unauthenticated
view used to pick a slot; nothing in it may be trusted until `verify` checked the MAC.

May import: stdlib, facevault.core (crypto, slots, modes, v1.slots), facevault.errors.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from facevault.core.crypto import KEY_SIZE, MAC_SIZE, AuthenticationError, aead_open, aead_seal, \
    hkdf_sha256, hmac_sha256, verify_hmac
from facevault.core.modes import Mode
from facevault.core.slots import Slot, Stanza, decode_slots, decode_stanzas, encode_slots, \
    encode_stanzas, wrap_to
from facevault.core.v1.slots import Slot as V1Slot
from facevault.core.v1.slots import decode_slots as decode_v1_slots
from facevault.core.v1.slots import encode_slots as encode_v1_slots
from facevault.errors import IntegrityError

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "VAULT_ID_SIZE",
    "DEVICE_ID_SIZE",
    "MAX_HEADER_SIZE",
    "EpochId",
    "Header",
    "MODE_CODES",
    "stanza_context",
    "commitment",
    "encode_header",
    "parse_header",
    "verify",
    "history_of",
    "bridge_key",
    "open_bridge",
]

MAGIC = b"FVVAULT\x00"
FORMAT_VERSION = 2
VAULT_ID_SIZE = 16
DEVICE_ID_SIZE = 16
MAX_HEADER_SIZE = 64 * 1024 * 1024
MAX_PARENTS = 8
MAX_HISTORY = 65535
MODE_CODES = {0: None, 1: Mode.FACE, 2: Mode.FACE_DEVICE, 3: Mode.FACE_PASSPHRASE}
_CODE_OF = {m: c for c, m in MODE_CODES.items()}
_FIXED = struct.Struct(">8sH16sI16sQBB")
_PARENT = struct.Struct(">I16s32s")
_HISTORY_ENTRY = struct.Struct(">I16s32s")
_ZERO = bytes(12)


@dataclass(frozen=True, order=True)
class EpochId:
    """An epoch: its number and the device that started it (two devices may start the same
    number at once; the pair is unique)."""

    number: int
    writer: bytes

    def to_bytes(self) -> bytes:
        return struct.pack(">I", self.number) + self.writer

    @property
    def label(self) -> str:
        return f"{self.number:08d}-{self.writer.hex()}"


@dataclass(frozen=True)
class Header:
    """A parsed epoch header. `body` is the MAC-covered bytes, `raw` the whole file."""

    vault_id: bytes
    epoch: EpochId
    time: int
    mode: Mode | None
    parents: tuple[tuple[EpochId, bytes], ...]  # (epoch, SHA-256 of its header file)
    removed: tuple[bytes, ...]  # slot ids the parent had and this epoch dropped (revocations)
    slots: tuple[Slot, ...]
    stanzas: tuple[Stanza, ...] = field(repr=False)
    legacy_slots: tuple[V1Slot, ...] = field(repr=False)
    bridge: bytes = field(repr=False)
    sealed_history: bytes = field(repr=False)
    body: bytes = field(repr=False, compare=False)
    mac: bytes = field(repr=False, compare=False)

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.body + self.mac).digest()

    @property
    def file_name(self) -> str:
        return f"{self.epoch.label}.fvh"


def stanza_context(vault_id: bytes, epoch: EpochId) -> bytes:
    return b"vault" + vault_id + epoch.to_bytes()


def _sub(key: bytes, label: bytes, vault_id: bytes, epoch: EpochId) -> bytes:
    return hkdf_sha256(key, info=b"FaceVault v2 " + label + vault_id + epoch.to_bytes())


def commitment(key: bytes, vault_id: bytes, epoch: EpochId) -> bytes:
    """What a device pins for an epoch: proves a later header knew this epoch's key."""
    return hmac_sha256(_sub(key, b"pin", vault_id, epoch), b"FaceVault pin")


def bridge_key(legacy_master: bytes, vault_id: bytes, epoch: EpochId) -> bytes:
    return _sub(legacy_master, b"bridge", vault_id, epoch)


def encode_header(
    *,
    vault_id: bytes,
    epoch: EpochId,
    time: int,
    mode: Mode | None,
    parents: Sequence[tuple[EpochId, bytes]],
    removed: Sequence[bytes],
    slots: Sequence[Slot],
    key: bytes,
    history: dict[EpochId, bytes],
    legacy_slots: Sequence[V1Slot] = (),
    legacy_master: bytes | None = None,
) -> bytes:
    """A new header for `epoch` under `key`: every slot gets a stanza, `history` (earlier
    epochs' keys) is sealed under `key`, the legacy slots (if any) reach `key` through a
    bridge sealed under `legacy_master`."""
    if len(key) != KEY_SIZE or len(vault_id) != VAULT_ID_SIZE or len(epoch.writer) != 16:
        raise ValueError("bad key, vault id or writer size")
    if len(parents) > MAX_PARENTS or len(history) > MAX_HISTORY:
        raise ValueError("too many parents or history entries")
    context = stanza_context(vault_id, epoch)
    stanzas = [wrap_to(s, key, context) for s in slots]
    parts = [_FIXED.pack(MAGIC, FORMAT_VERSION, vault_id, epoch.number, epoch.writer, time,
                         _CODE_OF[mode], len(parents))]
    parts += [_PARENT.pack(p.number, p.writer, digest) for p, digest in parents]
    if len(removed) > 255 or any(len(r) != 8 for r in removed):
        raise ValueError("at most 255 removed slot ids of 8 bytes")
    parts += [bytes([len(removed)]), *removed]
    parts += [encode_slots(list(slots)), encode_stanzas(stanzas)]
    if legacy_slots:
        if legacy_master is None:
            raise ValueError("legacy slots need the legacy master key for the bridge")
        listing = encode_v1_slots(list(legacy_slots))
        bridge = aead_seal(bridge_key(legacy_master, vault_id, epoch), _ZERO, key, context)
        parts += [struct.pack(">I", len(listing)), listing, bridge]
    else:
        parts.append(struct.pack(">I", 0))
    plain = struct.pack(">H", len(history)) + b"".join(
        _HISTORY_ENTRY.pack(e.number, e.writer, k) for e, k in sorted(history.items()))
    sealed = aead_seal(_sub(key, b"history", vault_id, epoch), _ZERO, plain, context)
    parts += [struct.pack(">I", len(sealed)), sealed]
    body = b"".join(parts)
    return body + hmac_sha256(_sub(key, b"header", vault_id, epoch), body)


def _take(data: bytes, pos: int, n: int, what: str) -> tuple[bytes, int]:
    if n < 0 or len(data) - pos < n:
        raise IntegrityError(f"not a FaceVault vault (the header is truncated: {what})")
    return data[pos : pos + n], pos + n


def parse_header(data: bytes) -> Header:
    """Parse header bytes without authenticating them; IntegrityError for anything foreign."""
    if len(data) > MAX_HEADER_SIZE:
        raise IntegrityError("not a FaceVault vault (the header is too large)")
    if len(data) < _FIXED.size + MAC_SIZE or not data.startswith(MAGIC):
        raise IntegrityError("not a FaceVault vault (the header is missing its signature)")
    magic, version, vault_id, number, writer, time, mode_code, n_parents = _FIXED.unpack_from(data)
    if version != FORMAT_VERSION:
        raise IntegrityError(f"unsupported vault header version {version}",
                             hint="This vault was made by a newer FaceVault; update FaceVault to open it.")
    if mode_code not in MODE_CODES or n_parents > MAX_PARENTS:
        raise IntegrityError("not a FaceVault vault (bad mode or parents)")
    pos = _FIXED.size
    parents = []
    for _ in range(n_parents):
        raw, pos = _take(data, pos, _PARENT.size, "parents")
        p_number, p_writer, p_digest = _PARENT.unpack(raw)
        parents.append((EpochId(p_number, p_writer), p_digest))
    raw, pos = _take(data, pos, 1, "removed slots")
    removed = []
    for _ in range(raw[0]):
        rid, pos = _take(data, pos, 8, "removed slots")
        removed.append(rid)
    end = len(data) - MAC_SIZE
    body = data[:end]
    try:
        slots, pos = decode_slots(body, pos)
        stanzas, pos = decode_stanzas(body, pos)
        raw, pos = _take(body, pos, 4, "legacy slots")
        (legacy_len,) = struct.unpack(">I", raw)
        legacy: tuple[V1Slot, ...] = ()
        bridge = b""
        if legacy_len:
            listing, pos = _take(body, pos, legacy_len, "legacy slots")
            legacy = tuple(decode_v1_slots(listing))
            bridge, pos = _take(body, pos, KEY_SIZE + 16, "bridge")
        raw, pos = _take(body, pos, 4, "history")
        (hist_len,) = struct.unpack(">I", raw)
        sealed, pos = _take(body, pos, hist_len, "history")
    except IntegrityError as exc:
        raise IntegrityError(f"not a FaceVault vault ({exc})") from None
    if pos != len(body):
        raise IntegrityError("not a FaceVault vault (the header has extra bytes)")
    return Header(vault_id, EpochId(number, writer), time, MODE_CODES[mode_code], tuple(parents),
                  tuple(removed), tuple(slots), tuple(stanzas), legacy, bridge, sealed, body, data[end:])


def verify(header: Header, key: bytes) -> None:
    """Check the header MAC with the epoch key; IntegrityError when it does not fit."""
    try:
        verify_hmac(_sub(key, b"header", header.vault_id, header.epoch), header.body, header.mac)
    except AuthenticationError:
        raise IntegrityError(
            "the vault header was modified (or the key does not belong to this vault)",
            hint="Restore the vault folder from a backup; do not trust this copy.",
        ) from None


def history_of(header: Header, key: bytes) -> dict[EpochId, bytes]:
    """The earlier epochs' keys sealed in a verified header, plus this epoch's own."""
    context = stanza_context(header.vault_id, header.epoch)
    try:
        plain = aead_open(_sub(key, b"history", header.vault_id, header.epoch), _ZERO,
                          header.sealed_history, context)
    except AuthenticationError:
        raise IntegrityError("the vault's key history does not open") from None
    (count,) = struct.unpack_from(">H", plain)
    if len(plain) != 2 + count * _HISTORY_ENTRY.size:
        raise IntegrityError("the vault's key history is malformed")
    keys = {header.epoch: key}
    for i in range(count):
        number, writer, k = _HISTORY_ENTRY.unpack_from(plain, 2 + i * _HISTORY_ENTRY.size)
        keys[EpochId(number, writer)] = k
    return keys


def open_bridge(header: Header, legacy_master: bytes) -> bytes | None:
    """The epoch key reached from the version-1 master key, when the header has a bridge."""
    if not header.bridge:
        return None
    try:
        return aead_open(bridge_key(legacy_master, header.vault_id, header.epoch), _ZERO,
                         header.bridge, stanza_context(header.vault_id, header.epoch))
    except AuthenticationError:
        return None

