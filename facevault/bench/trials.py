"""Forming seeded verification trials from an embedded image set: the LFW pairs protocol,
or K enrollment and M probe images per identity, with impostor groups of other identities.

May import: stdlib, numpy, facevault.bench.images.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facevault.bench.images import ImageSet

__all__ = ["Trials", "parse_pairs", "pair_trials", "folder_trials", "impostor_columns", "index_by_name"]


@dataclass(frozen=True)
class Trials:
    """enroll[e]: image indices fused into enrollment e; genuine[e]: probe groups of the same
    identity (each group = the frames of one unlock attempt); impostor_groups: probe groups
    of single identities; impostor_ids: identity of each group; enroll_ids: identity per
    enrollment. Impostor trials of e are the groups with another identity (up to a cap)."""

    enroll: tuple[tuple[int, ...], ...]
    enroll_ids: tuple[str, ...]
    genuine: tuple[tuple[tuple[int, ...], ...], ...]
    impostor_groups: tuple[tuple[int, ...], ...]
    impostor_ids: tuple[str, ...]
    max_impostors_per_enrollment: int | None = None
    description: str = ""


def parse_pairs(pairs_file: Path) -> list[tuple[str, int, str, int]]:
    """LFW pairs lines as (name_a, i, name_b, j); same-person lines have name_a == name_b."""
    out = []
    for line in Path(pairs_file).read_text().splitlines()[1:]:
        f = line.split()
        if len(f) == 3:
            out.append((f[0], int(f[1]), f[0], int(f[2])))
        elif len(f) == 4:
            out.append((f[0], int(f[1]), f[2], int(f[3])))
    return out


def _index_by_name(images: ImageSet) -> dict[str, int]:
    return {p.name: i for i, p in enumerate(images.paths)}


def pair_trials(images: ImageSet, pairs_file: Path, *, max_impostors: int | None = None) -> Trials:
    """LFW pairs protocol (K = M = 1): each same-person pair enrolls its first image and
    probes with the second; impostor probes are every image of every other identity in the
    folder (so FAR is resolved far below 1/#pairs)."""
    index = _index_by_name(images)
    enroll, ids, genuine = [], [], []
    for a, i, b, j in parse_pairs(pairs_file):
        if a != b:
            continue
        ia, ib = index.get(f"{a}_{i:04d}.jpg"), index.get(f"{b}_{j:04d}.jpg")
        if ia is None or ib is None:
            raise FileNotFoundError(f"pair image missing for {a} {i} {j}")
        enroll.append((ia,))
        ids.append(a)
        genuine.append(((ib,),))
    groups = tuple((i,) for i in range(len(images.paths)))
    return Trials(tuple(enroll), tuple(ids), tuple(genuine), groups, images.identities,
                  max_impostors, f"pairs {Path(pairs_file).name}")


def folder_trials(
    images: ImageSet,
    *,
    enroll_k: int,
    probe_m: int,
    seed: int = 0,
    identities: set[str] | None = None,
    max_impostors: int | None = None,
    impostor_pool: set[str] | None = None,
) -> Trials:
    """Seeded trials: for each identity (of `identities`, default all) with at least K + M
    images, enroll from K images and probe with the remaining images in groups of M
    (genuine); impostor probe groups are M images of one identity from `impostor_pool`
    (default all identities), every such group of another identity being one trial."""
    rnd = random.Random(seed)
    by_id: dict[str, list[int]] = {}
    for i, name in enumerate(images.identities):
        by_id.setdefault(name, []).append(i)
    enroll, ids, genuine = [], [], []
    for name in sorted(by_id):
        if identities is not None and name not in identities:
            continue
        idx = list(by_id[name])
        if len(idx) < enroll_k + probe_m:
            continue
        rnd.shuffle(idx)
        rest = idx[enroll_k:]
        groups = [tuple(rest[k : k + probe_m]) for k in range(0, len(rest) - probe_m + 1, probe_m)]
        enroll.append(tuple(idx[:enroll_k]))
        ids.append(name)
        genuine.append(tuple(groups))
    imp_groups, imp_ids = [], []
    for name in sorted(by_id):
        if impostor_pool is not None and name not in impostor_pool:
            continue
        idx = list(by_id[name])
        rnd.shuffle(idx)
        for k in range(0, len(idx) - probe_m + 1, probe_m):
            imp_groups.append(tuple(idx[k : k + probe_m]))
            imp_ids.append(name)
    return Trials(tuple(enroll), tuple(ids), tuple(genuine), tuple(imp_groups), tuple(imp_ids),
                  max_impostors, f"folders K={enroll_k} M={probe_m} seed={seed}")


def _impostor_columns(trials: Trials, e: int, seed: int) -> np.ndarray:
    """Impostor groups of enrollment e; with a cap, a sample seeded by (seed, e) so the
    plain baseline and every setting see exactly the same impostor trials."""
    ids = np.asarray(trials.impostor_ids)
    cols = np.flatnonzero(ids != trials.enroll_ids[e])
    cap = trials.max_impostors_per_enrollment
    if cap is not None and cols.size > cap:
        rnd = random.Random(seed * 1_000_003 + e)
        cols = np.sort(np.asarray(rnd.sample(list(cols), cap)))
    return cols


impostor_columns = _impostor_columns
index_by_name = _index_by_name
