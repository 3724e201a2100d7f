"""Kind DEVICE (wire code 3): this computer's keyring alone opens the slot (face mode only).

Public data: the keyring entry name, printable ASCII. Secret: the 32 random bytes stored
under that entry in one machine's OS keyring (no key stretching). A copy of the folder
alone cannot use it.

May import: facevault.core (kinds, slots, factors), facevault.errors.
"""

from __future__ import annotations

from facevault.core.crypto import random_bytes
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import DeviceFactor, DeviceSecret, Factors
from facevault.core.kdf import NO_KDF, SALT_SIZE, KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.slots import Slot, new_slot
from facevault.errors import IntegrityError, UsageError

__all__ = ["SPEC", "DeviceKind", "DEVICE_SECRET_SIZE", "check_entry", "device_secret"]

DEVICE_SECRET_SIZE = 32
MAX_ENTRY = 255


def check_entry(entry: str) -> bytes:
    """The entry name as ASCII bytes (1..255 printable characters)."""
    raw = entry.encode("ascii", errors="replace")
    if not 1 <= len(raw) <= MAX_ENTRY or not all(33 <= b < 127 for b in raw):
        raise ValueError("a keyring entry name is 1..255 printable ASCII characters")
    return raw


def device_secret(parts: Factors) -> DeviceSecret:
    device = parts.get(DeviceSecret)
    if device is None:
        raise UsageError("sealing a device slot needs a device secret")
    if len(device.secret) != DEVICE_SECRET_SIZE:
        raise ValueError(f"a device secret is {DEVICE_SECRET_SIZE} bytes")
    return device


class DeviceKind(KindSpec):
    kind = Kind.DEVICE
    name = "device"
    title = "This computer's keyring"
    sentence = "This computer opens the vault without a face, through its OS keyring."
    needs = (DeviceFactor,)
    requirement = "a computer whose keyring holds its secret"
    try_order = 20
    carries_device_entry = True

    def check_public(self, public: bytes) -> None:
        try:
            check_entry(public.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise IntegrityError("a device slot's keyring entry name is malformed") from None

    def device_entry(self, public: bytes) -> str | None:
        return public.decode("ascii", errors="replace")

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        device = offer.get(DeviceFactor)
        if device is None:
            return []
        secret = device.store.get(slot.public.decode("ascii", errors="replace"))
        return [Guess(secret)] if secret else []

    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        device = device_secret(parts)
        return new_slot(self.kind, device.secret, kdf=NO_KDF, salt=random_bytes(SALT_SIZE),
                        public=check_entry(device.entry))

    def describe(self, slot: Slot) -> str:
        return f"keyring entry {slot.public.decode('ascii', errors='replace')}"


SPEC = DeviceKind()
