"""Kind FACE_DEVICE (wire code 4): the face and a paired computer's keyring secret, both.

Public data: uint16 BE length E, E bytes keyring entry name (ASCII), then the IronMask
helper bytes (FORMAT.md). Secret: combine_secrets(codeword, 32-byte device secret). One
slot per paired device, each with its own secret and entry.

May import: facevault.core (kinds, slots, facekey, factors, ironmask), facevault.errors.
"""

from __future__ import annotations

import struct

from facevault.core import ironmask
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import DeviceFactor, FaceFactor, Factors
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.kinds.device import check_entry, device_secret
from facevault.core.kinds.face import describe_helper, enrolled
from facevault.core.slots import Slot, combine_secrets, seal_slot
from facevault.errors import Hint, IntegrityError

__all__ = ["SPEC", "encode_public", "split_public", "FaceDeviceKind"]


def encode_public(entry: str, helper: bytes) -> bytes:
    raw = check_entry(entry)
    return struct.pack(">H", len(raw)) + raw + helper


def split_public(public: bytes) -> tuple[str, bytes]:
    """(keyring entry name, helper bytes); IntegrityError when the layout is wrong."""
    if len(public) < 2:
        raise IntegrityError("face+device slot public data is truncated")
    (n,) = struct.unpack_from(">H", public)
    if not 1 <= n <= len(public) - 2:
        raise IntegrityError("face+device slot public data is malformed")
    return public[2 : 2 + n].decode("ascii", errors="replace"), public[2 + n :]


class FaceDeviceKind(KindSpec):
    kind = Kind.FACE_DEVICE
    name = "face+device"
    title = "Face + a paired computer"
    sentence = ("Your face opens it, but only on a computer paired with it (a secret kept in "
                "its keyring); a copy of the folder is useless elsewhere.")
    needs = (FaceFactor, DeviceFactor)
    requirement = "your face on a paired device"
    incomplete_hint = Hint.USE_PAIRED_DEVICE
    try_order = 60
    carries_face = True
    carries_device_entry = True

    def check_public(self, public: bytes) -> None:
        entry, helper = split_public(public)
        try:
            check_entry(entry)
        except ValueError:
            raise IntegrityError("face+device slot public data is malformed") from None
        ironmask.helper_from_bytes(helper)

    def helper(self, public: bytes) -> bytes | None:
        return split_public(public)[1]

    def device_entry(self, public: bytes) -> str | None:
        return split_public(public)[0]

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face, device = offer.get(FaceFactor), offer.get(DeviceFactor)
        if face is None or device is None:
            return []
        entry, helper = split_public(slot.public)
        secret = device.store.get(entry)
        if not secret:
            return []
        return [Guess(combine_secrets(word, secret), EnrolledFace(helper, word))
                for word in codeword_guesses(helper, face.embeddings, policy)]

    def seal(self, key: bytes, parts: Factors, *, kdf: KdfParams) -> Slot:
        face, device = enrolled(parts), device_secret(parts)
        return seal_slot(self.kind, key, combine_secrets(face.codeword, device.secret), kdf=kdf,
                         public=encode_public(device.entry, face.helper))

    def describe(self, slot: Slot) -> str:
        entry, helper = split_public(slot.public)
        return f"keyring entry {entry}; {describe_helper(helper)}; {slot.kdf.describe()}"


SPEC = FaceDeviceKind()
