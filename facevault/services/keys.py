"""Turning what a user offers (a face, a recovery code, this device) into a key.

Both the vault and single encrypted files keep a list of key slots (core.slots). This
module seals new slots from a fresh face template, a recovery code or a device secret, and
finds the key behind a list of slots from an `Offer`. The face never becomes a stored
template: enrollment keeps only IronMask's helper matrix (in the slot's public data); the
codeword decoded from a probe is the slot secret.

May import: numpy, facevault.core, facevault.errors, facevault.services.secretstore.
"""

from __future__ import annotations

import logging
import secrets as _secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facevault.core import ironmask, kdf as kdf_mod, recovery, slots as slots_mod
from facevault.errors import KeyringUnavailableError, NotRecognisedError, UsageError
from facevault.services.secretstore import SecretStore

log = logging.getLogger(__name__)

__all__ = [
    "Offer",
    "FaceSlotPolicy",
    "seal_face_slot",
    "seal_recovery_slot",
    "seal_device_slot",
    "face_candidates",
    "find_key",
]

DEVICE_SECRET_SIZE = 32


@dataclass(frozen=True)
class FaceSlotPolicy:
    """How unlocking turns probe embeddings into codeword guesses.

    max_tries bounds the number of KDF calls (each costs the slot's Argon2id time), so a
    wrong face costs at most max_tries * KDF time per face slot. list_candidates > 1 adds
    the nearest alternative codewords of each probe (list decoding; raises the FAR).
    """

    max_tries: int = 4
    list_candidates: int = 1


@dataclass(frozen=True)
class Offer:
    """What the user presents to open a vault or a file. Embeddings stay in memory only.

    face_embeddings: unit (512,) float32 vectors from fresh probe frames.
    """

    face_embeddings: Sequence[np.ndarray] = ()
    recovery_code: str | None = None
    use_device: bool = False
    store: SecretStore | None = field(default=None, repr=False)

    def is_empty(self) -> bool:
        return not self.face_embeddings and self.recovery_code is None and not self.use_device


def seal_face_slot(
    key: bytes,
    template: np.ndarray,
    *,
    preset: str = ironmask.DEFAULT_PRESET,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
) -> slots_mod.Slot:
    """Enroll `template` (unit (n,) float) with IronMask and wrap `key` under its codeword."""
    try:
        params = ironmask.PRESETS[preset]
    except KeyError:
        names = ", ".join(sorted(ironmask.PRESETS))
        raise UsageError(f"unknown security preset {preset!r}", hint=f"choose one of: {names}") from None
    helper, codeword = ironmask.enroll(np.asarray(template, dtype=np.float64), params)
    return slots_mod.seal_slot(
        "face", key, codeword.to_bytes(), kdf=kdf, public=ironmask.helper_to_bytes(helper)
    )


def seal_recovery_slot(
    key: bytes, *, kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS
) -> tuple[slots_mod.Slot, str]:
    """A new random recovery code and the slot it opens. The code is shown once, never stored."""
    code = recovery.new_recovery_code()
    slot = slots_mod.seal_slot("recovery", key, recovery.normalise_recovery_code(code), kdf=kdf)
    return slot, code


def seal_device_slot(
    key: bytes, store: SecretStore, *, kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS
) -> slots_mod.Slot:
    """A random device secret put in `store` (the OS keyring) and the slot it opens."""
    entry = "device-" + _secrets.token_hex(16)
    secret = _secrets.token_bytes(DEVICE_SECRET_SIZE)
    store.set(entry, secret)
    return slots_mod.seal_slot("device", key, secret, kdf=kdf, public=entry.encode("ascii"))


def device_entry(slot: slots_mod.Slot) -> str:
    return slot.public.decode("ascii", errors="replace")


def face_candidates(
    slot: slots_mod.Slot, embeddings: Sequence[np.ndarray], policy: FaceSlotPolicy
) -> list[bytes]:
    """Codeword guesses for one face slot, most-voted first, deduplicated, at most max_tries."""
    helper = ironmask.helper_from_bytes(slot.public)
    votes: Counter[bytes] = Counter()
    order: dict[bytes, int] = {}
    for emb in embeddings:
        probe = np.asarray(emb, dtype=np.float64)
        if policy.list_candidates > 1:
            words = ironmask.decode_candidates(helper, probe, max_candidates=policy.list_candidates)
        else:
            words = [ironmask.decode(helper, probe)]
        for rank, word in enumerate(words):
            data = word.to_bytes()
            # the plainly decoded word of each frame outweighs all list alternatives
            votes[data] += 1000 if rank == 0 else 1
            order.setdefault(data, len(order))
    ranked = sorted(votes, key=lambda d: (-votes[d], order[d]))
    return ranked[: policy.max_tries]


def find_key(
    slots: Sequence[slots_mod.Slot], offer: Offer, policy: FaceSlotPolicy = FaceSlotPolicy()
) -> tuple[bytes, slots_mod.Slot]:
    """Open the first slot the offer fits; return (key, slot). NotRecognisedError otherwise."""
    if offer.is_empty():
        raise UsageError(
            "nothing to unlock with", hint="give --face SRC, --recovery-code CODE or --device"
        )
    tried_kinds: list[str] = []
    if offer.recovery_code is not None:
        secret = recovery.normalise_recovery_code(offer.recovery_code)
        for slot in (s for s in slots if s.kind == "recovery"):
            tried_kinds.append("recovery")
            try:
                return slots_mod.open_slot(slot, secret), slot
            except NotRecognisedError:
                continue
    if offer.use_device:
        if offer.store is None:
            raise KeyringUnavailableError("no keyring was given to look for this device's secret")
        for slot in (s for s in slots if s.kind == "device"):
            tried_kinds.append("device")
            secret = offer.store.get(device_entry(slot))
            if secret is None:
                continue
            try:
                return slots_mod.open_slot(slot, secret), slot
            except NotRecognisedError:
                continue
    if offer.face_embeddings:
        for slot in (s for s in slots if s.kind == "face"):
            tried_kinds.append("face")
            for guess in face_candidates(slot, offer.face_embeddings, policy):
                try:
                    return slots_mod.open_slot(slot, guess), slot
                except NotRecognisedError:
                    continue
    raise _not_recognised(offer, tried_kinds)


def _not_recognised(offer: Offer, tried: list[str]) -> NotRecognisedError:
    parts = []
    if offer.face_embeddings:
        parts.append("face" if "face" in tried else "face (this vault has no face slot)")
    if offer.recovery_code is not None:
        parts.append("recovery code" if "recovery" in tried else "recovery code (no recovery slot)")
    if offer.use_device:
        parts.append(
            "this device" if "device" in tried else "this device (device unlock is not enabled)"
        )
    what = " / ".join(parts)
    return NotRecognisedError(
        f"not recognised: {what} did not open it. Nothing was changed.",
        hint="try again facing the camera in good light, or use the recovery code",
    )
