"""Kind FACE_DEVICE (wire code 4): the face and a paired computer's keyring secret, both.

Public data: the model reference, uint16 BE length E, E bytes keyring entry name
(printable ASCII), then the hidden helper P' = P Q2 (facevault.core.hiding) with Q2 drawn
from the device secret: without that secret the stored helper ranks no face. Secret:
combine_secrets(codeword, 32-byte device secret), no key stretching. One slot per paired
device, each with its own secret, entry and rotation of the same enrollment.

May import: facevault.core (kinds, slots, facekey, factors, hiding, ironmask), facevault.errors.
"""

from __future__ import annotations

import struct

from facevault.core import hiding, ironmask
from facevault.core.crypto import random_bytes
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import DeviceFactor, FaceFactor, Factors
from facevault.core.kdf import NO_KDF, SALT_SIZE, KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.kinds.device import check_entry, device_secret
from facevault.core.kinds.face import check_helper, describe_helper, enrolled, split_model
from facevault.core.modelref import ModelRef
from facevault.core.slots import Slot, combine_secrets, new_slot
from facevault.errors import Hint, IntegrityError

__all__ = ["SPEC", "FaceDeviceKind", "encode_public", "split_public"]


def encode_public(model: ModelRef, entry: str, hidden_helper: bytes) -> bytes:
    raw = check_entry(entry)
    return model.to_bytes() + struct.pack(">H", len(raw)) + raw + hidden_helper


def split_public(public: bytes) -> tuple[ModelRef, str, bytes]:
    """(model, keyring entry name, hidden helper bytes); IntegrityError when malformed."""
    model, pos = split_model(public)
    if len(public) - pos < 2:
        raise IntegrityError("face+device slot public data is truncated")
    (n,) = struct.unpack_from(">H", public, pos)
    if not 1 <= n <= len(public) - pos - 2:
        raise IntegrityError("face+device slot public data is malformed")
    entry = public[pos + 2 : pos + 2 + n].decode("ascii", errors="replace")
    return model, entry, public[pos + 2 + n :]


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
        _, entry, helper = split_public(public)
        try:
            check_entry(entry)
        except ValueError:
            raise IntegrityError("face+device slot public data is malformed") from None
        check_helper(helper)

    def helper(self, public: bytes) -> bytes | None:
        return split_public(public)[2]

    def model(self, public: bytes) -> ModelRef | None:
        return split_public(public)[0]

    def device_entry(self, public: bytes) -> str | None:
        return split_public(public)[1]

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face, device = offer.get(FaceFactor), offer.get(DeviceFactor)
        if face is None or device is None:
            return []
        model, entry, hidden = split_public(slot.public)
        secret = device.store.get(entry)
        if not secret:
            return []
        helper = hiding.reveal(check_helper(hidden), hiding.rotation_seed(secret))
        plain = ironmask.helper_to_bytes(ironmask.Helper(helper.matrix.astype("float32"), helper.params))
        return [Guess(combine_secrets(word, secret), EnrolledFace(plain, word, model))
                for word in codeword_guesses(helper, face.embeddings, policy)]

    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        face, device = enrolled(parts), device_secret(parts)
        hidden = hiding.hide(ironmask.helper_from_bytes(face.helper), hiding.rotation_seed(device.secret))
        return new_slot(self.kind, combine_secrets(face.codeword, device.secret), kdf=NO_KDF,
                        salt=random_bytes(SALT_SIZE),
                        public=encode_public(face.model, device.entry, ironmask.helper_to_bytes(hidden)))

    def describe(self, slot: Slot) -> str:
        model, entry, hidden = split_public(slot.public)
        return (f"keyring entry {entry}; {describe_helper(hidden)}, hidden behind the device "
                f"secret; model {model.short}")


SPEC = FaceDeviceKind()
