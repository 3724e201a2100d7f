"""Finding the key behind a list of slots from the factors a person offers.

Loops over the slots in try order (recovery and device first: one exact guess each; face
kinds last: a few codeword guesses each, bounded by DecodePolicy.max_tries); every guess
costs one KDF call. The key never leaves facevault.core: vault.open_vault and
fileformat.decrypt_file use `_open_slots`; callers above core get the result as an open
vault or a decrypted file, and `Opened.face` (the enrollment that opened it, for re-sealing).

A slot kind whose factors are only partly offered is reported in the NotRecognisedError's
message ("face alone (this vault needs your face and its passphrase)") with the kind's
structured hint.

May import: facevault.core (kinds, slots, factors, facekey), facevault.errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from facevault.core.facekey import DecodePolicy, EnrolledFace
from facevault.core.factors import Factors
from facevault.core.kinds import Kind
from facevault.core.slots import Slot, open_slot
from facevault.errors import Hint, NotRecognisedError, UsageError

__all__ = ["Opened", "check_offer"]


@dataclass(frozen=True)
class Opened:
    """The slot that opened, and the face behind it when a face was part of the secret."""

    slot: Slot
    face: EnrolledFace | None = field(default=None, repr=False)


def check_offer(offer: Factors) -> None:
    if not isinstance(offer, Factors):
        raise TypeError("offer must be Factors")
    if not offer:
        raise UsageError("nothing to unlock with", hint=Hint.GIVE_UNLOCK_FACTOR)


def _open_slots(slots: Sequence[Slot], offer: Factors,
                policy: DecodePolicy) -> tuple[bytes, Opened]:
    """The key behind the first slot the offer fits, and what opened it. NotRecognisedError
    (saying what was tried) if none. Core-internal: the key stays in facevault.core."""
    check_offer(offer)
    tried: list[Kind] = []
    order = sorted(range(len(slots)), key=lambda i: (slots[i].kind.spec.try_order, i))
    for slot in (slots[i] for i in order):
        guesses = slot.kind.spec.guesses(slot, offer, policy)
        if not guesses:
            continue
        tried.append(slot.kind)
        for guess in guesses:
            try:
                key = open_slot(slot, guess.secret)
            except NotRecognisedError:
                continue
            return key, Opened(slot, guess.face)
    raise _not_recognised(slots, offer, tried)


def _not_recognised(slots: Sequence[Slot], offer: Factors, tried: list[Kind]) -> NotRecognisedError:
    present = sorted({s.kind for s in slots}, key=lambda k: k.spec.try_order)
    parts: list[str] = []
    hint: str | Hint = Hint.RETRY_FACE
    for factor in offer:
        label = type(factor).label
        if any(type(factor) in k.spec.needs for k in tried):
            parts.append(label)
            continue
        partly = [k for k in present if type(factor) in k.spec.needs]
        if partly:
            spec = partly[0].spec
            parts.append(f"{label} alone (this vault needs {spec.requirement})")
            hint = spec.incomplete_hint
        else:
            parts.append(f"{label} (this vault has no slot it opens)")
    what = " / ".join(parts) or "nothing"
    return NotRecognisedError(f"not recognised: {what} did not open it. Nothing was changed.",
                              hint=hint)
