"""Finding the key behind a list of version-1 slots from the factors a person offers.

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

from facevault.core.kdf import unlock_budget
from facevault.core.facekey import DecodePolicy, EnrolledFace
from facevault.core.factors import Factors
from facevault.core.kinds import Kind
from facevault.core.unlocking import not_recognised
from facevault.core.v1.secrets import guesses as v1_guesses
from facevault.core.v1.slots import Slot, open_slot
from facevault.errors import Hint, NotRecognisedError, UsageError  # noqa: F401

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
    with unlock_budget():
        return _try_slots(slots, offer, policy)


def _try_slots(slots: Sequence[Slot], offer: Factors, policy: DecodePolicy) -> tuple[bytes, Opened]:
    tried: list[Kind] = []
    order = sorted(range(len(slots)), key=lambda i: (slots[i].kind.spec.try_order, i))
    for slot in (slots[i] for i in order):
        guesses = v1_guesses(slot, offer, policy)
        if not guesses:
            continue
        tried.append(slot.kind)
        for guess in guesses:
            try:
                key = open_slot(slot, guess.secret)
            except NotRecognisedError:
                continue
            return key, Opened(slot, guess.face)
    raise not_recognised({s.kind for s in slots}, offer, tried)
