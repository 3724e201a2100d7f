"""Pairing codes: a face+device slot's id and device secret, as text typed on another machine.

    72 Crockford base32 symbols in groups of six, the big-endian value of
    slot_id (8) || device secret (32) || SHA-256("FaceVault pairing code" || 0x00 || slot_id
    || secret)[0..5]

The 5-byte check catches typing mistakes before any KDF runs. Not stored anywhere: shown on
one device, typed on another (FORMAT.md "Pairing code").

May import: stdlib, facevault.core (recovery, slots, kinds.device), facevault.errors.
"""

from __future__ import annotations

import hashlib
import hmac

from facevault.core import recovery
from facevault.core.kinds.device import DEVICE_SECRET_SIZE
from facevault.core.slots import SLOT_ID_SIZE
from facevault.errors import NotRecognisedError

__all__ = ["pairing_code", "parse_pairing_code", "PAIRING_SYMBOLS"]

_CHECK = 5
PAIRING_SYMBOLS = 72  # (8 slot id + 32 secret + 5 check) bytes * 8 / 5
_GROUP = 6


def _check(payload: bytes) -> bytes:
    return hashlib.sha256(b"FaceVault pairing code\x00" + payload).digest()[:_CHECK]


def pairing_code(slot_id: bytes, secret: bytes) -> str:
    """The text that carries a face+device slot's id and device secret to another machine."""
    if len(slot_id) != SLOT_ID_SIZE or len(secret) != DEVICE_SECRET_SIZE:
        raise ValueError("pairing code needs an 8-byte slot id and a 32-byte secret")
    payload = bytes(slot_id) + bytes(secret)
    value = int.from_bytes(payload + _check(payload), "big")
    symbols = "".join(recovery.ALPHABET[(value >> (5 * (PAIRING_SYMBOLS - 1 - i))) & 31]
                      for i in range(PAIRING_SYMBOLS))
    return "-".join(symbols[i : i + _GROUP] for i in range(0, PAIRING_SYMBOLS, _GROUP))


def parse_pairing_code(text: str) -> tuple[bytes, bytes]:
    """(slot_id, secret) from pairing_code output; case, spaces and dashes do not matter."""
    values = {ch: i for i, ch in enumerate(recovery.ALPHABET)}
    values.update({"O": 0, "I": 1, "L": 1})
    cleaned = [ch for ch in text.upper() if ch not in " -\t\r\n"]
    if len(cleaned) != PAIRING_SYMBOLS or any(ch not in values for ch in cleaned):
        raise NotRecognisedError("that is not a pairing code",
                                 hint=f"A pairing code has {PAIRING_SYMBOLS} letters and digits.")
    value = 0
    for ch in cleaned:
        value = (value << 5) | values[ch]
    raw = value.to_bytes((PAIRING_SYMBOLS * 5) // 8, "big")
    payload, check = raw[:-_CHECK], raw[-_CHECK:]
    if not hmac.compare_digest(check, _check(payload)):
        raise NotRecognisedError("the pairing code looks mistyped (checksum)",
                                 hint="Copy it again from the other device.")
    return payload[:SLOT_ID_SIZE], payload[SLOT_ID_SIZE:]
