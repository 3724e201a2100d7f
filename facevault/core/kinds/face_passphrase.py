"""Kind FACE_PASSPHRASE (wire code 5): the face and a passphrase or PIN, both.

Public data: the model reference, then the hidden helper P' = P Q2 (facevault.core.hiding),
Q2 drawn from A = Argon2id(passphrase, slot salt, slot KDF): without the passphrase the
stored helper ranks no face, so every passphrase guess costs one Argon2id call before any
face can be scored. Secret: combine_secrets(A, codeword). The passphrase is NFC-normalised
UTF-8 (the same text typed on another OS gives the same key), at least
MIN_PASSPHRASE_CHARS characters, nothing stripped.

May import: stdlib, facevault.core (kinds, slots, facekey, factors, hiding, ironmask, kdf),
facevault.errors.
"""

from __future__ import annotations

import unicodedata

from facevault.core import hiding, ironmask
from facevault.core.crypto import random_bytes
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import FaceFactor, Factors, PassphraseFactor
from facevault.core.kdf import SALT_SIZE, KdfParams, derive_key
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.kinds.face import check_helper, describe_helper, enrolled, split_model
from facevault.core.modelref import ModelRef
from facevault.core.slots import Slot, combine_secrets, new_slot
from facevault.errors import Hint, UsageError

__all__ = ["SPEC", "FacePassphraseKind", "MIN_PASSPHRASE_CHARS", "normalise_passphrase"]

MIN_PASSPHRASE_CHARS = 4  # a 4-digit PIN is the least; THREAT-MODEL.md says what it buys


def normalise_passphrase(passphrase: str) -> bytes:
    """NFC-normalised UTF-8 bytes; UsageError when shorter than MIN_PASSPHRASE_CHARS."""
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be a str")
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE_CHARS:
        raise UsageError(
            f"the passphrase or PIN must have at least {MIN_PASSPHRASE_CHARS} characters",
            hint="Longer is stronger: docs/THREAT-MODEL.md says what each length buys.",
        )
    return text.encode("utf-8")


class FacePassphraseKind(KindSpec):
    kind = Kind.FACE_PASSPHRASE
    name = "face+passphrase"
    title = "Face + passphrase"
    sentence = ("Your face and a passphrase or PIN you type each time; a photo of you alone is "
                "not enough.")
    needs = (FaceFactor, PassphraseFactor)
    requirement = "your face and its passphrase"
    incomplete_hint = Hint.GIVE_PASSPHRASE
    try_order = 60
    carries_face = True
    stretches = True

    def check_public(self, public: bytes) -> None:
        check_helper(public[split_model(public)[1]:])

    def helper(self, public: bytes) -> bytes | None:
        return public[split_model(public)[1]:]

    def model(self, public: bytes) -> ModelRef | None:
        return split_model(public)[0]

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face, given = offer.get(FaceFactor), offer.get(PassphraseFactor)
        if face is None or given is None:
            return []
        text = unicodedata.normalize("NFC", given.passphrase).encode("utf-8")
        if not text:
            return []
        model, pos = split_model(slot.public)
        hidden = check_helper(slot.public[pos:])
        stretched = derive_key(text, slot.salt, slot.kdf)  # the one Argon2id call of this slot
        helper = hiding.reveal(hidden, hiding.rotation_seed(stretched))
        plain = ironmask.helper_to_bytes(ironmask.Helper(helper.matrix.astype("float32"), helper.params))
        return [Guess(combine_secrets(stretched, word), EnrolledFace(plain, word, model))
                for word in codeword_guesses(helper, face.embeddings, policy)]

    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        face = enrolled(parts)
        given = parts.get(PassphraseFactor)
        if given is None:
            raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
        if not kdf.stretches:
            raise ValueError("a face+passphrase slot needs Argon2id parameters")
        salt = random_bytes(SALT_SIZE)
        stretched = derive_key(normalise_passphrase(given.passphrase), salt, kdf)
        hidden = hiding.hide(ironmask.helper_from_bytes(face.helper), hiding.rotation_seed(stretched))
        return new_slot(self.kind, combine_secrets(stretched, face.codeword), kdf=kdf, salt=salt,
                        public=face.model.to_bytes() + ironmask.helper_to_bytes(hidden))

    def describe(self, slot: Slot) -> str:
        model, pos = split_model(slot.public)
        return (f"{describe_helper(slot.public[pos:])}, hidden behind the passphrase; "
                f"{slot.kdf.describe()}; model {model.short}")


SPEC = FacePassphraseKind()
