"""Kind FACE (wire code 1): the face alone opens the slot.

Public data: the IronMask helper bytes (FORMAT.md "IronMask helper"). Secret: the canonical
codeword bytes decoded from a fresh probe. Portable: any copy of the folder, any machine.

May import: facevault.core (kinds, slots, facekey, factors, ironmask), facevault.errors.
"""

from __future__ import annotations

from facevault.core import ironmask
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses
from facevault.core.factors import FaceFactor, Factors
from facevault.core.kdf import KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.slots import Slot, seal_slot
from facevault.errors import Hint, UsageError

__all__ = ["SPEC", "describe_helper", "enrolled", "FaceKind"]


def describe_helper(helper: bytes) -> str:
    params = ironmask.helper_from_bytes(helper).params
    return f"IronMask C({params.dim},{params.alpha}) {params.bits:.1f} bits"


def enrolled(parts: Factors) -> EnrolledFace:
    face = parts.get(EnrolledFace)
    if face is None:
        raise UsageError("sealing a face slot needs an enrolled face", hint=Hint.NEED_FRESH_CAPTURE)
    return face


class FaceKind(KindSpec):
    kind = Kind.FACE
    name = "face"
    title = "Face"
    sentence = ("Your face opens it on any computer. Someone with a clear photo of you and a "
                "copy of the folder could open it too.")
    needs = (FaceFactor,)
    requirement = "your face"
    try_order = 60
    carries_face = True

    def check_public(self, public: bytes) -> None:
        ironmask.helper_from_bytes(public)

    def helper(self, public: bytes) -> bytes | None:
        return public

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face = offer.get(FaceFactor)
        if face is None:
            return []
        return [Guess(word, EnrolledFace(slot.public, word))
                for word in codeword_guesses(slot.public, face.embeddings, policy)]

    def seal(self, key: bytes, parts: Factors, *, kdf: KdfParams) -> Slot:
        face = enrolled(parts)
        return seal_slot(self.kind, key, face.codeword, kdf=kdf, public=face.helper)

    def describe(self, slot: Slot) -> str:
        return f"{describe_helper(slot.public)}; {slot.kdf.describe()}"


SPEC = FaceKind()
