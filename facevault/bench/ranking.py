"""The helper-ranking attack (SECURITY-NOTES attack 2) on the slots FaceVault writes.

For any face x the stored helper P gives a free score s(x) = <Px, decode(Px)>: the sum of
the `alpha` largest |(Px)_i| over sqrt(alpha). For the enrolled face it is cos(x, t)
whenever x decodes; for everyone else it sits near the "random vector against the
codebook" level. Whoever holds the folder can therefore

  - identify the owner: rank a public gallery (one photo per person) by s and take the top;
  - open a face-mode vault with a face dictionary in very few decode attempts: try the
    gallery's faces best score first.

Here each owner is enrolled with the product's own code (facekey.enroll, then the slot
kind's `make`: face keeps P, face+device and face+passphrase keep the hidden P' = P Q2), and
the attack runs on exactly the helper bytes the slot stores. Per mode and preset: the
rank-1 identification rate against a gallery of N identities (chance: 1/N, with a 95%
Wilson interval), the owner photo's median rank, and for the face dictionary how many
decode attempts (best score first) it takes until one opens the slot, and how often the
gallery opens it at all.

May import: stdlib, numpy, facevault.core, facevault.bench.images.
"""

from __future__ import annotations

import math
import os
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from facevault.bench.images import ImageSet, fuse_embeddings

__all__ = ["RankingRow", "ranking_scores", "wilson", "run_ranking", "ranking_lines", "as_dicts"]


def ranking_scores(helper: np.ndarray, gallery: np.ndarray, alpha: int) -> np.ndarray:
    """s(x) for every row x of `gallery` under the helper matrix (n x n)."""
    y = np.abs(gallery @ np.asarray(helper, dtype=np.float64).T)
    top = np.partition(y, y.shape[1] - alpha, axis=1)[:, -alpha:]
    out: np.ndarray = top.sum(axis=1) / math.sqrt(alpha)
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a rate k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


@dataclass(frozen=True)
class RankingRow:
    mode: str
    preset: str
    owners: int
    gallery: int  # identities in the gallery (chance of rank 1: 1/gallery)
    rank1: int  # owners whose photo scored highest
    rank1_rate: float
    rank1_low: float
    rank1_high: float
    chance: float
    median_rank: float
    opened: int  # owners whose slot some gallery face opens
    median_tries: float  # decode attempts, best score first, until it opens (of those opened)
    mean_tries: float


def _slot_helpers(mode: str, preset: str, template: np.ndarray) -> tuple[np.ndarray, bytes, int, Callable[[np.ndarray], bool]]:
    """(stored helper matrix, codeword, alpha, opens(x)) for one enrollment in `mode`, made
    by the product's own slot code."""
    from facevault.core import facekey, ironmask
    from facevault.core.facekey import DecodePolicy
    from facevault.core.factors import DeviceSecret, Factors, PassphraseFactor
    from facevault.core.kdf import TEST_PARAMS
    from facevault.core.kinds import Kind

    enrolled = facekey.enroll(template, preset=preset)
    kind = {"face": Kind.FACE, "face+device": Kind.FACE_DEVICE, "face+passphrase": Kind.FACE_PASSPHRASE}[mode]
    if kind is Kind.FACE:
        parts = Factors(enrolled)
    elif kind is Kind.FACE_DEVICE:
        parts = Factors(enrolled, DeviceSecret("device-bench", os.urandom(32)))
    else:
        parts = Factors(enrolled, PassphraseFactor(os.urandom(8).hex()))
    slot = kind.spec.make(parts, kdf=TEST_PARAMS)
    stored = ironmask.helper_from_bytes(kind.spec.helper(slot.public) or b"")
    plain = ironmask.helper_from_bytes(enrolled.helper)
    policy = DecodePolicy()

    def opens(x: np.ndarray) -> bool:  # does this face (with the second factor) open the slot?
        return enrolled.codeword in facekey.codeword_guesses(plain, [x], policy)

    return stored.matrix, enrolled.codeword, stored.params.alpha, opens


def run_ranking(images: ImageSet, *, owners: int = 200, presets: Sequence[str] = ("default",),
                modes: Sequence[str] = ("face", "face+device", "face+passphrase"), seed: int = 0,
                enroll_max: int = 5, max_tries: int = 50,
                progress: Callable[[str, int, int], None] | None = None) -> list[RankingRow]:
    """Owners: identities with at least two images, enrolled from all but one (at most
    `enroll_max`); the held-out image is their public photo. The gallery: one image of every
    identity (the owner's public photo among them)."""
    by_id: dict[str, list[int]] = {}
    for i, ident in enumerate(images.identities):
        by_id.setdefault(ident, []).append(i)
    rng = random.Random(seed)
    candidates = sorted(k for k, v in by_id.items() if len(v) >= 2)
    chosen = rng.sample(candidates, min(owners, len(candidates)))
    public = {k: rng.choice(v) for k, v in by_id.items()}
    gallery_ids = sorted(by_id)
    gallery = images.vectors[[public[k] for k in gallery_ids]]
    position = {k: i for i, k in enumerate(gallery_ids)}
    rows = []
    for preset in presets:
        for mode in modes:
            ranks, tries = [], []
            for done, ident in enumerate(chosen):
                enroll = [i for i in by_id[ident] if i != public[ident]][:enroll_max]
                template = fuse_embeddings(images, enroll)
                helper, _codeword, alpha, opens = _slot_helpers(mode, preset, template)
                scores = ranking_scores(helper, gallery, alpha)
                mine = scores[position[ident]]
                ranks.append(1 + int((scores > mine).sum()))
                order = np.argsort(-scores)[:max_tries]
                hit = next((t + 1 for t, g in enumerate(order) if opens(gallery[g])), None)
                if hit is not None:
                    tries.append(hit)
                if progress is not None:
                    progress(f"{mode} {preset}", done + 1, len(chosen))
            k = sum(1 for r in ranks if r == 1)
            low, high = wilson(k, len(ranks))
            rows.append(RankingRow(mode, preset, len(ranks), len(gallery_ids), k, k / len(ranks), low, high,
                                   1 / len(gallery_ids), statistics.median(ranks), len(tries),
                                   statistics.median(tries) if tries else float("nan"),
                                   statistics.fmean(tries) if tries else float("nan")))
    return rows


def ranking_lines(rows: Sequence[RankingRow], max_tries: int = 50) -> list[str]:
    lines = [f"helper-ranking attack: {rows[0].owners} owners, gallery of {rows[0].gallery} identities "
             f"(rank 1 by chance: {rows[0].chance:.2%})" if rows else "no rows",
             f"{'mode':16} {'preset':9} {'rank-1':>16} {'95% interval':>16} {'median rank':>12} "
             f"{'opened by gallery':>18} {'tries to open':>14}"]
    for r in rows:
        tries = f"{r.median_tries:.0f} (mean {r.mean_tries:.2f})" if r.opened else "-"
        lines.append(f"{r.mode:16} {r.preset:9} {r.rank1:>5}/{r.owners:<4} {r.rank1_rate:>6.1%} "
                     f"{r.rank1_low:>7.1%}-{r.rank1_high:<7.1%} {r.median_rank:>12.0f} "
                     f"{r.opened:>8}/{r.owners:<9} {tries:>14}")
    lines.append(f"tries: decode attempts, gallery faces taken best score first (at most {max_tries}); "
                 "for face+device and face+passphrase each one also needs the second factor, so "
                 "'opened' there is what an attacker who already had it would get")
    return lines


def as_dicts(rows: Sequence[RankingRow]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
