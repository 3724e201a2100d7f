"""Kind FACE_PASSPHRASE (wire code 5): the face and a passphrase or PIN, both.

Public data: the IronMask helper bytes. Secret: combine_secrets(codeword, passphrase), the
passphrase NFC-normalised UTF-8 (the same text typed on another OS gives the same key),
at least MIN_PASSPHRASE_CHARS characters, nothing stripped.

May import: stdlib, facevault.core (kinds, slots, facekey, factors, ironmask), facevault.errors.
"""

from __future__ import annotations

import unicodedata

from facevault.core import ironmask
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import FaceFactor, Factors, PassphraseFactor
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.kinds.face import describe_helper, enrolled
from facevault.core.slots import Slot, combine_secrets, seal_slot
from facevault.errors import Hint, UsageError

__all__ = ["SPEC", "MIN_PASSPHRASE_CHARS", "normalise_passphrase", "FacePassphraseKind"]

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

    def check_public(self, public: bytes) -> None:
        ironmask.helper_from_bytes(public)

    def helper(self, public: bytes) -> bytes | None:
        return public

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face, passphrase = offer.get(FaceFactor), offer.get(PassphraseFactor)
        if face is None or passphrase is None:
            return []
        second = unicodedata.normalize("NFC", passphrase.passphrase).encode("utf-8")
        if not second:
            return []
        return [Guess(combine_secrets(word, second), EnrolledFace(slot.public, word))
                for word in codeword_guesses(slot.public, face.embeddings, policy)]

    def seal(self, key: bytes, parts: Factors, *, kdf: KdfParams) -> Slot:
        face = enrolled(parts)
        passphrase = parts.get(PassphraseFactor)
        if passphrase is None:
            raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
        secret = combine_secrets(face.codeword, normalise_passphrase(passphrase.passphrase))
        return seal_slot(self.kind, key, secret, kdf=kdf, public=face.helper)

    def describe(self, slot: Slot) -> str:
        return f"{describe_helper(slot.public)}; {slot.kdf.describe()}"


SPEC = FacePassphraseKind()
