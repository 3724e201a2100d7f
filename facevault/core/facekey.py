"""A face as a key: enrolling a template with IronMask and turning probe embeddings into
codeword guesses. Shared by every slot kind that carries a face (face, face+device,
face+passphrase).

`EnrolledFace` is one enrollment: the helper bytes (P, before any hiding: a two-factor slot
stores P Q2, facevault.core.hiding), the codeword bytes (secret, never stored) and the
embedding model it belongs to. It exists only in memory: at enrollment, and after a face
unlock (the codeword that opened the slot), so a mode change can re-seal the same
enrollment without making a second helper of the same face (SECURITY.md, multi-sketch).

`ModelRef` names the embedding model a face slot was enrolled with: its name and a digest
of its weights' sha256 and preprocessing constants, stored in the slot (FORMAT.md).

May import: stdlib, numpy, facevault.core (ironmask, factors), facevault.errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facevault.core import ironmask
from facevault.core.factors import Factor
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.errors import UsageError

__all__ = ["DecodePolicy", "ModelRef", "UNKNOWN_MODEL", "EnrolledFace", "enroll", "preset_params",
           "preset_of", "shipped_params", "codeword_guesses"]


@dataclass(frozen=True)
class DecodePolicy:
    """How unlocking turns probe embeddings into codeword guesses.

    max_tries bounds the KDF calls per face slot (each costs the slot's Argon2id time), so
    a wrong face costs at most max_tries KDF runs per slot. list_candidates > 1 adds the
    nearest alternative codewords of the fused probe (list decoding; raises the FAR).
    """

    max_tries: int = 4
    list_candidates: int = 4


@dataclass(frozen=True, repr=False)
class EnrolledFace(Factor):
    helper: bytes
    codeword: bytes
    model: ModelRef = UNKNOWN_MODEL

    def __repr__(self) -> str:
        return f"EnrolledFace(model={self.model.name}, <helper and codeword hidden>)"


def preset_params(preset: str) -> ironmask.IronMaskParams:
    try:
        return ironmask.PRESETS[preset]
    except KeyError:
        names = ", ".join(sorted(ironmask.PRESETS))
        raise UsageError(f"unknown security preset {preset!r}", hint=f"Choose one of: {names}.") from None


def preset_of(params: ironmask.IronMaskParams) -> str | None:
    """The name of the shipped preset with these parameters, or None."""
    return next((name for name, p in ironmask.PRESETS.items() if p == params), None)


def shipped_params(dim: int) -> list[ironmask.IronMaskParams]:
    """The codebooks FaceVault makes for embeddings of `dim` (the only ones it decodes)."""
    return [p for p in ironmask.PRESETS.values() if p.dim == dim]


def enroll(template: np.ndarray, *, preset: str = ironmask.DEFAULT_PRESET,
           model: ModelRef = UNKNOWN_MODEL) -> EnrolledFace:
    """Enroll a unit (n,) template with IronMask: a fresh helper and codeword."""
    helper, codeword = ironmask.enroll(np.asarray(template, dtype=np.float64), preset_params(preset))
    return EnrolledFace(ironmask.helper_to_bytes(helper), codeword.to_bytes(), model)


def codeword_guesses(helper_bytes: bytes | ironmask.Helper, embeddings: Sequence[np.ndarray],
                     policy: DecodePolicy) -> list[bytes]:
    """Codeword guesses for one face slot, deduplicated, at most policy.max_tries.

    Order (docs/BENCHMARKS.md measured each idea on LFW): the decode of the fused probe (mean
    of the unit probes, renormalised: fusing 2 probes lifted single-enrollment TAR from 51%
    to 70%), then each frame's own decode, most-voted first, then the fused probe's nearest
    alternative codewords (list decoding: +8 points TAR with 4 candidates, FAR unchanged).
    """
    helper = (helper_bytes if isinstance(helper_bytes, ironmask.Helper)
              else ironmask.helper_from_bytes(helper_bytes))
    probes = [np.asarray(e, dtype=np.float64) for e in embeddings]
    probes = [p / n for p in probes
              if p.shape == (helper.params.dim,) and (n := float(np.linalg.norm(p))) > 0]
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
