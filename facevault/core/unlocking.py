"""Finding the key behind a list of version-2 slots and their stanzas from the factors a
person offers.

Slots are tried in their kind's order (recovery and device first: one exact guess each;
face kinds last: a few codeword guesses each, at most DecodePolicy.max_tries). A face slot
is checked before any probe meets it (only codebooks FaceVault makes, FORMAT.md) and skipped
when it was enrolled with another embedding model than the probes come from; at most
MAX_FACE_SLOTS face slots are tried per unlock. The key never leaves facevault.core: the
vault and the single-file reader call `open_with`; callers above core get an open vault or
a decrypted file and `Opened.face`, the enrollment that opened it (for re-sealing).

May import: facevault.core (kinds, slots, factors, facekey, modelref), facevault.errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from facevault.core.facekey import DecodePolicy, EnrolledFace
from facevault.core.factors import FaceFactor, Factors
from facevault.core.kdf import unlock_budget
from facevault.core.kinds import Kind
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.core.slots import Slot, Stanza, open_stanza
from facevault.errors import Hint, ModelError, NotRecognisedError, UsageError

__all__ = ["MAX_FACE_SLOTS", "Opened", "check_offer", "open_with", "not_recognised"]

MAX_FACE_SLOTS = 8


@dataclass(frozen=True)
class Opened:
    """The slot that opened (None for a version-1 slot of an upgraded vault), its kind, and
    the face behind it when a face was part of the secret."""

    slot: Slot | None
    face: EnrolledFace | None = field(default=None, repr=False)
    kind: Kind | None = None
    legacy: bool = False
    legacy_id: bytes = b""  # the version-1 slot that opened (legacy)


def check_offer(offer: Factors) -> None:
    if not isinstance(offer, Factors):
        raise TypeError("offer must be Factors")
    if not offer:
        raise UsageError("nothing to unlock with", hint=Hint.GIVE_UNLOCK_FACTOR)


def open_with(slots: Sequence[Slot], stanzas: Sequence[Stanza], offer: Factors,
              policy: DecodePolicy, context: bytes,
              extra: Callable[[], tuple[bytes, Opened] | None] | None = None) -> tuple[bytes, Opened]:
    """The key in the first stanza the offer opens, and what opened it. `context` is the
    stanzas' binding (vault id and epoch, or a file id). `extra`: tried when no slot opens
    (the legacy version-1 slots of an upgraded vault). NotRecognisedError (saying what was
    tried), ModelError when the only face slots belong to another embedding model. The
    key stretching of one unlock shares kdf.UNLOCK_BUDGET_SECONDS."""
    check_offer(offer)
    with unlock_budget():
        return _open_with(slots, stanzas, offer, policy, context, extra)


def _open_with(slots: Sequence[Slot], stanzas: Sequence[Stanza], offer: Factors,
               policy: DecodePolicy, context: bytes,
               extra: Callable[[], tuple[bytes, Opened] | None] | None) -> tuple[bytes, Opened]:
    by_id = {s.slot_id: s for s in stanzas}
    face = offer.get(FaceFactor)
    tried: list[Kind] = []
    other_models: list[ModelRef] = []
    faces_tried = 0
    order = sorted(range(len(slots)), key=lambda i: (slots[i].kind.spec.try_order, i))
    for slot in (slots[i] for i in order):
        spec = slot.kind.spec
        stanza = by_id.get(slot.slot_id)
        if stanza is None:
            continue
        if spec.carries_face:
            if face is None or not spec.offers_enough(offer):
                continue
            if faces_tried >= MAX_FACE_SLOTS:
                continue
            spec.check_public(slot.public)  # IntegrityError for a codebook FaceVault never makes
            model = spec.model(slot.public)
            if model is not None and _mismatch(face.model, model):
                other_models.append(model)
                continue
            faces_tried += 1
        guesses = spec.guesses(slot, offer, policy)
        if not guesses:
            continue
        tried.append(slot.kind)
        for guess in guesses:
            key = open_stanza(slot, stanza, guess.secret, context)
            if key is not None:
                return key, Opened(slot, guess.face, slot.kind)
    if extra is not None:
        found = extra()
        if found is not None:
            return found
    if other_models and face is not None and not any(k.spec.carries_face for k in tried):
        wanted = other_models[0]
        raise ModelError(
            f"this vault was enrolled with the face model {wanted.short}, but this computer "
            f"uses {face.model.short}",
            hint="Install or register that model and make it the default, then try again.")
    raise not_recognised({s.kind for s in slots}, offer, tried)


def _mismatch(probe: ModelRef, enrolled: ModelRef) -> bool:
    if probe == UNKNOWN_MODEL or enrolled == UNKNOWN_MODEL:
        return False
    return probe.digest != enrolled.digest


def not_recognised(present: set[Kind], offer: Factors, tried: Sequence[Kind]) -> NotRecognisedError:
    """"not recognised: face alone (this vault needs your face and its passphrase) did not
    open it. Nothing was changed.", with the kind's structured hint."""
    kinds = sorted(present, key=lambda k: k.spec.try_order)
    parts: list[str] = []
    hint: str | Hint = Hint.RETRY_FACE
    for factor in offer:
        label = type(factor).label
        if any(type(factor) in k.spec.needs for k in tried):
            parts.append(label)
            continue
        partly = [k for k in kinds if type(factor) in k.spec.needs]
        if partly:
            spec = partly[0].spec
            parts.append(f"{label} alone (this vault needs {spec.requirement})")
            hint = spec.incomplete_hint
        else:
            parts.append(f"{label} (this vault has no slot it opens)")
    what = " / ".join(parts) or "nothing"
    return NotRecognisedError(f"not recognised: {what} did not open it. Nothing was changed.",
                              hint=hint)

