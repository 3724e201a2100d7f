"""What each kind's secret was in format version 1 (symmetric slots), from the factors a
person offers, and sealing such slots (the version-1 single-file writer and tests).

    face             codeword bytes
    recovery         the canonical recovery code
    device           the 32-byte device secret (keyring entry name = public data)
    face+device      combine_secrets(codeword, device secret); public = uint16 E | entry | helper
    face+passphrase  combine_secrets(codeword, NFC UTF-8 passphrase); public = helper

Every secret goes through Argon2id (the slot's KdfParams) to the AEAD wrapping key.

May import: stdlib, facevault.core (facekey, factors, kinds, recovery, v1.slots), facevault.errors.
"""

from __future__ import annotations

import struct
import unicodedata

from facevault.core import recovery
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import DeviceFactor, DeviceSecret, FaceFactor, Factors, PassphraseFactor, \
    RecoveryFactor
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Guess, Kind
from facevault.core.kinds.face_passphrase import normalise_passphrase
from facevault.core.v1.slots import Slot, combine_secrets, seal_slot
from facevault.errors import IntegrityError, UsageError

__all__ = ["helper_of", "entry_of", "guesses", "seal"]


def _split_face_device(public: bytes) -> tuple[str, bytes]:
    if len(public) < 2:
        raise IntegrityError("face+device slot public data is truncated")
    (n,) = struct.unpack_from(">H", public)
    if not 1 <= n <= len(public) - 2:
        raise IntegrityError("face+device slot public data is malformed")
    return public[2 : 2 + n].decode("ascii", errors="replace"), public[2 + n :]


def helper_of(slot: Slot) -> bytes | None:
    if slot.kind in (Kind.FACE, Kind.FACE_PASSPHRASE):
        return slot.public
    if slot.kind is Kind.FACE_DEVICE:
        return _split_face_device(slot.public)[1]
    return None


def entry_of(slot: Slot) -> str | None:
    if slot.kind is Kind.DEVICE:
        return slot.public.decode("ascii", errors="replace")
    if slot.kind is Kind.FACE_DEVICE:
        return _split_face_device(slot.public)[0]
    return None


def guesses(slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
    """Candidate version-1 secrets for `slot` from `offer`; [] when it lacks a factor."""
    kind = slot.kind
    if kind is Kind.RECOVERY:
        code = offer.get(RecoveryFactor)
        return [Guess(recovery.normalise_recovery_code(code.code))] if code is not None else []
    if kind is Kind.DEVICE:
        device = offer.get(DeviceFactor)
        entry = entry_of(slot)
        secret = device.store.get(entry) if device is not None and entry else None
        return [Guess(secret)] if secret else []
    face = offer.get(FaceFactor)
    helper = helper_of(slot)
    if face is None or helper is None:
        return []
    second: bytes | None = b""
    if kind is Kind.FACE_PASSPHRASE:
        given = offer.get(PassphraseFactor)
        second = unicodedata.normalize("NFC", given.passphrase).encode("utf-8") if given else None
    elif kind is Kind.FACE_DEVICE:
        device = offer.get(DeviceFactor)
        entry = entry_of(slot)
        second = device.store.get(entry) if device is not None and entry else None
    if second is None or (kind is not Kind.FACE and not second):
        return []
    words = codeword_guesses(helper, face.embeddings, policy)
    return [Guess(w if not second else combine_secrets(w, second), EnrolledFace(helper, w))
            for w in words]


def seal(kind: Kind, key: bytes, parts: Factors, *, kdf: KdfParams) -> Slot:
    """A version-1 slot of `kind` wrapping `key`, from enrollment-time factors."""
    face = parts.get(EnrolledFace)
    device = parts.get(DeviceSecret)
    if kind is Kind.RECOVERY:
        code = parts.get(RecoveryFactor)
        if code is None:
            raise UsageError("sealing a recovery slot needs a recovery code")
        return seal_slot(kind, key, recovery.normalise_recovery_code(code.code), kdf=kdf)
    if kind is Kind.DEVICE:
        if device is None:
            raise UsageError("sealing a device slot needs a device secret")
        return seal_slot(kind, key, device.secret, kdf=kdf, public=device.entry.encode("ascii"))
    if face is None:
        raise UsageError("sealing a face slot needs an enrolled face")
    if kind is Kind.FACE:
        return seal_slot(kind, key, face.codeword, kdf=kdf, public=face.helper)
    if kind is Kind.FACE_DEVICE:
        if device is None:
            raise UsageError("sealing a face+device slot needs a device secret")
        raw = device.entry.encode("ascii")
        public = struct.pack(">H", len(raw)) + raw + face.helper
        return seal_slot(kind, key, combine_secrets(face.codeword, device.secret), kdf=kdf, public=public)
    passphrase = parts.get(PassphraseFactor)
    if passphrase is None:
        raise UsageError("face+passphrase needs a passphrase or PIN")
    secret = combine_secrets(face.codeword, normalise_passphrase(passphrase.passphrase))
    return seal_slot(kind, key, secret, kdf=kdf, public=face.helper)
