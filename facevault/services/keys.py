"""Turning what a user offers (a face, a recovery code, this device, a passphrase) into a key.

Both the vault and single encrypted files keep a list of key slots (core.slots). This
module seals new slots from a fresh face template, a recovery code, a device secret or a
passphrase, and finds the key behind a list of slots from an `Offer`. The face never becomes
a stored template: enrollment keeps only IronMask's helper matrix (in the slot's public
data); the codeword decoded from a probe is the slot secret, alone ("face") or combined with
a second factor ("face+device": a 256-bit secret in the OS keyring; "face+passphrase": the
NFC-normalised UTF-8 passphrase) through `slots.combine_secrets`.

Pairing codes carry a face+device slot's id and device secret to another machine
(`pairing_code` / `parse_pairing_code`); see services.vaults for the pairing flow.

May import: numpy, facevault.core, facevault.errors, facevault.services.secretstore.
"""

from __future__ import annotations

import hashlib
import logging
import secrets as _secrets
import struct
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facevault.core import ironmask, kdf as kdf_mod, recovery, slots as slots_mod
from facevault.errors import IntegrityError, KeyringUnavailableError, NotRecognisedError, UsageError
from facevault.services.secretstore import SecretStore

log = logging.getLogger(__name__)

__all__ = [
    "Offer",
    "FaceSlotPolicy",
    "FaceKey",
    "Unlocked",
    "enroll_face",
    "seal_face_slot",
    "seal_face_key_slot",
    "seal_face_device_slot",
    "seal_face_passphrase_slot",
    "seal_recovery_slot",
    "seal_device_slot",
    "new_device_secret",
    "new_device_entry",
    "normalise_passphrase",
    "face_helper",
    "device_entry",
    "face_candidates",
    "find_key",
    "open_slots",
    "pairing_code",
    "parse_pairing_code",
]

DEVICE_SECRET_SIZE = 32
MIN_PASSPHRASE_CHARS = 4  # a 4-digit PIN is the least; THREAT-MODEL.md says what it buys


@dataclass(frozen=True)
class FaceSlotPolicy:
    """How unlocking turns probe embeddings into codeword guesses.

    max_tries bounds the number of KDF calls (each costs the slot's Argon2id time), so a
    wrong face costs at most max_tries * KDF time per face slot. list_candidates > 1 adds
    the nearest alternative codewords of each probe (list decoding; raises the FAR).
    """

    max_tries: int = 4
    list_candidates: int = 4


@dataclass(frozen=True)
class Offer:
    """What the user presents to open a vault or a file. Embeddings stay in memory only.

    face_embeddings: unit (512,) float32 vectors from fresh probe frames.
    """

    face_embeddings: Sequence[np.ndarray] = ()
    recovery_code: str | None = None
    use_device: bool = False
    store: SecretStore | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)

    def is_empty(self) -> bool:
        return (not self.face_embeddings and self.recovery_code is None and not self.use_device
                and self.passphrase is None)


@dataclass(frozen=True)
class FaceKey:
    """An enrolled face: IronMask helper bytes (public) and codeword bytes (secret).

    Exists only in memory: at enrollment, and after a face unlock (the codeword that opened
    the slot), so a mode change can re-seal the same enrollment without a new capture and
    without making a second helper matrix of the same face (see SECURITY.md, multi-sketch).
    """

    helper: bytes = field(repr=False)
    codeword: bytes = field(repr=False)


@dataclass(frozen=True)
class Unlocked:
    """What find_key learnt: the key, the slot that opened, and the face behind it if any."""

    key: bytes = field(repr=False)
    slot: slots_mod.Slot
    face: FaceKey | None = field(default=None, repr=False)


def enroll_face(template: np.ndarray, *, preset: str = ironmask.DEFAULT_PRESET) -> FaceKey:
    """Enroll `template` (unit (n,) float) with IronMask: a fresh helper and codeword."""
    try:
        params = ironmask.PRESETS[preset]
    except KeyError:
        names = ", ".join(sorted(ironmask.PRESETS))
        raise UsageError(f"unknown security preset {preset!r}", hint=f"choose one of: {names}") from None
    helper, codeword = ironmask.enroll(np.asarray(template, dtype=np.float64), params)
    return FaceKey(ironmask.helper_to_bytes(helper), codeword.to_bytes())


def seal_face_slot(
    key: bytes,
    template: np.ndarray,
    *,
    preset: str = ironmask.DEFAULT_PRESET,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
) -> slots_mod.Slot:
    """Enroll `template` (unit (n,) float) with IronMask and wrap `key` under its codeword."""
    return seal_face_key_slot(key, enroll_face(template, preset=preset), kdf=kdf)


def seal_face_key_slot(
    key: bytes, face: FaceKey, *, kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS
) -> slots_mod.Slot:
    """A face-only slot for an existing enrollment (face alone opens it)."""
    return slots_mod.seal_slot("face", key, face.codeword, kdf=kdf, public=face.helper)


def new_device_entry() -> str:
    """A fresh keyring entry name (public; stored in the slot)."""
    return "device-" + _secrets.token_hex(16)


def new_device_secret() -> bytes:
    """32 random bytes from the OS random source."""
    return _secrets.token_bytes(DEVICE_SECRET_SIZE)


def _face_device_public(entry: str, helper: bytes) -> bytes:
    raw = entry.encode("ascii")
    return struct.pack(">H", len(raw)) + raw + helper


def _split_face_device_public(public: bytes) -> tuple[str, bytes]:
    if len(public) < 2:
        raise IntegrityError("face+device slot public data is truncated")
    (n,) = struct.unpack_from(">H", public)
    if not 1 <= n <= len(public) - 2:
        raise IntegrityError("face+device slot public data is malformed")
    return public[2 : 2 + n].decode("ascii", errors="replace"), public[2 + n :]


def seal_face_device_slot(
    key: bytes,
    face: FaceKey,
    secret: bytes,
    *,
    entry: str,
    kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS,
) -> slots_mod.Slot:
    """A slot that needs both the face (codeword) and `secret` (kept in a keyring as `entry`).

    The caller puts `secret` in the keyring (this device) or in a pairing code (another one).
    """
    if len(secret) != DEVICE_SECRET_SIZE:
        raise ValueError(f"device secret must be {DEVICE_SECRET_SIZE} bytes")
    return slots_mod.seal_slot(
        "face+device", key, slots_mod.combine_secrets(face.codeword, secret),
        kdf=kdf, public=_face_device_public(entry, face.helper),
    )


def normalise_passphrase(passphrase: str) -> bytes:
    """NFC-normalised UTF-8 bytes, so the same passphrase typed on another OS or keyboard
    layout gives the same key. Leading/trailing whitespace is kept (it was typed)."""
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be a str")
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE_CHARS:
        raise UsageError(
            f"the passphrase or PIN must have at least {MIN_PASSPHRASE_CHARS} characters",
            hint="longer is stronger: see docs/THREAT-MODEL.md for what each length buys",
        )
    return text.encode("utf-8")


def seal_face_passphrase_slot(
    key: bytes, face: FaceKey, passphrase: str, *, kdf: kdf_mod.KdfParams = kdf_mod.DEFAULT_PARAMS
) -> slots_mod.Slot:
    """A slot that needs both the face (codeword) and the passphrase, both in the KDF."""
    secret = slots_mod.combine_secrets(face.codeword, normalise_passphrase(passphrase))
    return slots_mod.seal_slot("face+passphrase", key, secret, kdf=kdf, public=face.helper)


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
    entry = new_device_entry()
    secret = new_device_secret()
    store.set(entry, secret)
    return slots_mod.seal_slot("device", key, secret, kdf=kdf, public=entry.encode("ascii"))


def device_entry(slot: slots_mod.Slot) -> str:
    """The keyring entry name of a "device" or "face+device" slot."""
    if slot.kind == "face+device":
        return _split_face_device_public(slot.public)[0]
    return slot.public.decode("ascii", errors="replace")


def face_helper(slot: slots_mod.Slot) -> bytes:
    """The IronMask helper bytes of any slot kind in slots.FACE_KINDS."""
    if slot.kind == "face+device":
        return _split_face_device_public(slot.public)[1]
    if slot.kind not in slots_mod.FACE_KINDS:
        raise ValueError(f"a {slot.kind} slot has no face")
    return slot.public


def face_candidates(
    slot: slots_mod.Slot, embeddings: Sequence[np.ndarray], policy: FaceSlotPolicy
) -> list[bytes]:
    """Codeword guesses for one face slot, deduplicated, at most policy.max_tries.

    Order (docs/BENCHMARKS.md measured each idea on LFW): the decode of the fused probe (mean
    of the unit probes, renormalised: fusing 2 probes lifted single-enrollment TAR from 51%
    to 70%), then each frame's own decode, most-voted first, then the fused probe's nearest
    alternative codewords (list decoding: +8 points TAR with 4 candidates, FAR unchanged).
    """
    helper = ironmask.helper_from_bytes(face_helper(slot))
    probes = [np.asarray(e, dtype=np.float64) for e in embeddings]
    probes = [p / n for p in probes if (n := float(np.linalg.norm(p))) > 0]
    if not probes:
        return []
    guesses: list[bytes] = []

    def add(word: ironmask.Codeword) -> None:
        data = word.to_bytes()
        if data not in guesses:
            guesses.append(data)

    fused = np.mean(probes, axis=0)
    norm = float(np.linalg.norm(fused))
    fused = fused / norm if norm > 1e-9 else probes[0]
    add(ironmask.decode(helper, fused))
    votes: Counter[bytes] = Counter()
    words: dict[bytes, ironmask.Codeword] = {}
    for probe in probes:
        word = ironmask.decode(helper, probe)
        votes[word.to_bytes()] += 1
        words.setdefault(word.to_bytes(), word)
    for data, _count in votes.most_common():
        add(words[data])
    if policy.list_candidates > 1:
        for word in ironmask.decode_candidates(helper, fused, max_candidates=policy.list_candidates):
            add(word)
    return guesses[: policy.max_tries]


def find_key(
    slots: Sequence[slots_mod.Slot], offer: Offer, policy: FaceSlotPolicy = FaceSlotPolicy()
) -> tuple[bytes, slots_mod.Slot]:
    """Open the first slot the offer fits; return (key, slot). NotRecognisedError otherwise."""
    found = open_slots(slots, offer, policy)
    return found.key, found.slot


def open_slots(
    slots: Sequence[slots_mod.Slot], offer: Offer, policy: FaceSlotPolicy = FaceSlotPolicy()
) -> Unlocked:
    """Like find_key, and also return the enrolled face (helper, codeword) when a face opened.

    Two-factor slots are tried only when the offer has both factors: face+device needs face
    embeddings and a store holding the slot's entry; face+passphrase needs face embeddings and
    a passphrase. One factor alone never opens them (their secret needs both parts).
    """
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
                return Unlocked(slots_mod.open_slot(slot, secret), slot)
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
                return Unlocked(slots_mod.open_slot(slot, secret), slot)
            except NotRecognisedError:
                continue
    if offer.face_embeddings:
        for slot in slots:
            second = _second_factor(slot, offer)
            if second is None:
                continue
            tried_kinds.append(slot.kind)
            for guess in face_candidates(slot, offer.face_embeddings, policy):
                secret = guess if not second else slots_mod.combine_secrets(guess, second)
                try:
                    key = slots_mod.open_slot(slot, secret)
                except NotRecognisedError:
                    continue
                return Unlocked(key, slot, FaceKey(face_helper(slot), guess))
    raise _not_recognised(slots, offer, tried_kinds)


def _second_factor(slot: slots_mod.Slot, offer: Offer) -> bytes | None:
    """b"" for a face-only slot, the second secret for a two-factor slot the offer can try,
    None when the slot is not a face slot or the offer lacks its second factor."""
    if slot.kind == "face":
        return b""
    if slot.kind == "face+passphrase" and offer.passphrase is not None:
        return unicodedata.normalize("NFC", offer.passphrase).encode("utf-8") or None
    if slot.kind == "face+device" and offer.store is not None:
        return offer.store.get(device_entry(slot))
    return None


def _not_recognised(
    slots: Sequence[slots_mod.Slot], offer: Offer, tried: list[str]
) -> NotRecognisedError:
    kinds = {s.kind for s in slots}
    parts = []
    hint = "try again facing the camera in good light, or use the recovery code"
    if offer.face_embeddings:
        if any(k in tried for k in slots_mod.FACE_KINDS):
            parts.append("face")
        elif "face+device" in kinds:
            parts.append("face alone (this vault needs your face and a paired device)")
            hint = "add --device on a paired device, or use the recovery code"
        elif "face+passphrase" in kinds:
            parts.append("face alone (this vault needs your face and its passphrase)")
            hint = "give the passphrase too (--passphrase-file F, or type it when asked)"
        else:
            parts.append("face (this vault has no face slot)")
    if offer.passphrase is not None and not offer.face_embeddings:
        parts.append("passphrase alone (it only works together with your face)")
        hint = "give --face SRC too"
    if offer.recovery_code is not None:
        parts.append("recovery code" if "recovery" in tried else "recovery code (no recovery slot)")
    if offer.use_device:
        if "device" in tried or "face+device" in tried:
            parts.append("this device")
        elif "face+device" in kinds and not offer.face_embeddings:
            parts.append("this device alone (this vault needs your face too)")
            hint = "give --face SRC too"
        else:
            parts.append("this device (device unlock is not enabled)")
    what = " / ".join(parts)
    return NotRecognisedError(f"not recognised: {what} did not open it. Nothing was changed.", hint=hint)


# ---------------------------------------------------------------- pairing codes

_PAIR_CHECK = 5
_PAIR_SYMBOLS = 72  # (8 slot id + 32 secret + 5 check) bytes * 8 / 5
_PAIR_GROUP = 6


def _pair_check(payload: bytes) -> bytes:
    return hashlib.sha256(b"FaceVault pairing code\x00" + payload).digest()[:_PAIR_CHECK]


def pairing_code(slot_id: bytes, secret: bytes) -> str:
    """Text that carries a face+device slot's id and device secret to another machine.

    72 Crockford base32 symbols in groups of six: slot id (8 bytes) || secret (32 bytes) ||
    a 5-byte SHA-256 check that catches typing mistakes before any KDF runs.
    """
    if len(slot_id) != slots_mod.SLOT_ID_SIZE or len(secret) != DEVICE_SECRET_SIZE:
        raise ValueError("pairing code needs an 8-byte slot id and a 32-byte secret")
    payload = bytes(slot_id) + bytes(secret)
    value = int.from_bytes(payload + _pair_check(payload), "big")
    symbols = "".join(
        recovery.ALPHABET[(value >> (5 * (_PAIR_SYMBOLS - 1 - i))) & 31] for i in range(_PAIR_SYMBOLS)
    )
    return "-".join(symbols[i : i + _PAIR_GROUP] for i in range(0, _PAIR_SYMBOLS, _PAIR_GROUP))


def parse_pairing_code(text: str) -> tuple[bytes, bytes]:
    """(slot_id, secret) from pairing_code output; case, spaces and dashes do not matter."""
    values = {ch: i for i, ch in enumerate(recovery.ALPHABET)}
    values.update({"O": 0, "I": 1, "L": 1})
    cleaned = [ch for ch in text.upper() if ch not in " -\t\r\n"]
    if len(cleaned) != _PAIR_SYMBOLS or any(ch not in values for ch in cleaned):
        raise NotRecognisedError(
            "that is not a pairing code", hint=f"a pairing code has {_PAIR_SYMBOLS} letters and digits"
        )
    value = 0
    for ch in cleaned:
        value = (value << 5) | values[ch]
    raw = value.to_bytes((_PAIR_SYMBOLS * 5) // 8, "big")
    payload, check = raw[:-_PAIR_CHECK], raw[-_PAIR_CHECK:]
    if not _secrets.compare_digest(check, _pair_check(payload)):
        raise NotRecognisedError("the pairing code looks mistyped (checksum)",
                                 hint="copy it again from the other device")
    return payload[: slots_mod.SLOT_ID_SIZE], payload[slots_mod.SLOT_ID_SIZE :]
