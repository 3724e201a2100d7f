"""Kind FACE (wire code 1): the face alone opens the slot.

Public data: the model reference, then the IronMask helper bytes (FORMAT.md). Secret: the
canonical codeword bytes decoded from a fresh probe, with no key stretching (115 bits of
codebook; Argon2id would not brake the dictionary attack, whose cost is counted in faces).
Portable: any copy of the folder, any machine. The helper ranks faces for free: whoever
holds the folder can tell whose vault it is (THREAT-MODEL.md).

May import: facevault.core (kinds, slots, facekey, factors, ironmask, modelref), facevault.errors.
"""

from __future__ import annotations

from facevault.core import ironmask
from facevault.core.crypto import random_bytes
from facevault.core.facekey import DecodePolicy, EnrolledFace, codeword_guesses, shipped_params
from facevault.core.factors import FaceFactor, Factors
from facevault.core.kdf import NO_KDF, SALT_SIZE, KdfParams
from facevault.core.kinds import Guess, Kind, KindSpec
from facevault.core.modelref import ModelRef
from facevault.core.slots import Slot, new_slot
from facevault.errors import Hint, IntegrityError, UsageError

__all__ = ["SPEC", "FaceKind", "enrolled", "describe_helper", "check_helper", "split_model"]


def describe_helper(helper: bytes) -> str:
    params = ironmask.helper_from_bytes(helper).params
    return f"IronMask C({params.dim},{params.alpha}) {params.bits:.1f} bits"


def check_helper(helper: bytes) -> ironmask.Helper:
    """Parse a stored helper and refuse a codebook FaceVault never makes (C(512,1) would
    decode most faces), before any probe meets it."""
    parsed = ironmask.helper_from_bytes(helper)
    if parsed.params not in shipped_params(parsed.params.dim):
        p = parsed.params
        raise IntegrityError(f"a face slot uses the codebook C({p.dim},{p.alpha}), which FaceVault "
                             "never makes; it was refused before any face was tried")
    return parsed


def split_model(public: bytes) -> tuple[ModelRef, int]:
    return ModelRef.parse(public, 0)


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
        _, pos = split_model(public)
        check_helper(public[pos:])

    def helper(self, public: bytes) -> bytes | None:
        return public[split_model(public)[1]:]

    def model(self, public: bytes) -> ModelRef | None:
        return split_model(public)[0]

    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        face = offer.get(FaceFactor)
        if face is None:
            return []
        model, pos = split_model(slot.public)
        helper = check_helper(slot.public[pos:])
        raw = slot.public[pos:]
        return [Guess(word, EnrolledFace(raw, word, model))
                for word in codeword_guesses(helper, face.embeddings, policy)]

    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        face = enrolled(parts)
        return new_slot(self.kind, face.codeword, kdf=NO_KDF, salt=random_bytes(SALT_SIZE),
                        public=face.model.to_bytes() + face.helper)

    def describe(self, slot: Slot) -> str:
        model, pos = split_model(slot.public)
        return f"{describe_helper(slot.public[pos:])}; model {model.short}; {slot.kdf.describe()}"


SPEC = FaceKind()
