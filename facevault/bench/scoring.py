"""Plain-cosine scores and rates: TAR at a FAR level, the baseline over the same trials the
IronMask settings see, and the LFW pairs protocol's accuracy.

May import: stdlib, numpy, facevault.bench (images, trials, lfw).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from facevault.bench.images import ImageSet, fuse_embeddings
from facevault.bench.trials import Trials, _impostor_columns, _index_by_name, parse_pairs

__all__ = ["FAR_LEVELS", "tar_at_far", "baseline", "pairs_accuracy", "pairs_far0_tar",
           "pairs_threshold", "plain_scores"]

FAR_LEVELS: tuple[tuple[str, float], ...] = (("1e-3", 1e-3), ("1e-4", 1e-4), ("1e-5", 1e-5), ("0", 0.0))


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> float:
    """TAR with the threshold set so that at most `far` of impostor scores reach it (far 0:
    above the highest impostor score)."""
    if impostor.size == 0 or genuine.size == 0:
        return float("nan")
    imp = np.sort(impostor)
    allowed = int(math.floor(far * imp.size))
    thr = imp[-1] if allowed == 0 else imp[imp.size - allowed - 1]
    return float((genuine > thr).mean())


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    from facevault.bench.lfw import best_threshold

    return best_threshold(scores, same)[0]


def baseline(
    genuine: np.ndarray, impostor: np.ndarray, *, threshold: float | None = None
) -> dict[str, Any]:
    """Plain cosine: accuracy (balanced, at `threshold` if given, else the best one) and
    TAR at each FAR level over the given impostor scores."""
    if threshold is None:
        sample = impostor if impostor.size <= 200_000 else np.random.default_rng(0).choice(impostor, 200_000)
        s = np.concatenate([genuine, sample])
        y = np.concatenate([np.ones(genuine.size, bool), np.zeros(sample.size, bool)])
        threshold = _best_threshold(s, y)
    acc = 0.5 * (float((genuine >= threshold).mean()) + float((impostor < threshold).mean()))
    return {
        "accuracy": acc,
        "threshold": float(threshold),
        "tar_at_far": {k: tar_at_far(genuine, impostor, f) for k, f in FAR_LEVELS},
        "genuine_trials": int(genuine.size),
        "impostor_trials": int(impostor.size),
    }


def pairs_accuracy(images: ImageSet, pairs_file: Path, threshold: float) -> float:
    """Accuracy of plain cosine on an LFW pairs file at a fixed threshold."""
    index = _index_by_name(images)
    hits = 0
    rows = parse_pairs(pairs_file)
    for a, i, b, j in rows:
        s = float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
        hits += (s >= threshold) == (a == b)
    return hits / max(1, len(rows))


def pairs_far0_tar(images: ImageSet, pairs_file: Path) -> float:
    """Plain-cosine TAR at FAR 0 counting only the pairs file's own impostor pairs (the
    published protocol: FAR 0 over 500 DevTest or 3000 View 2 impostor pairs)."""
    index = _index_by_name(images)
    rows = parse_pairs(pairs_file)
    s = np.array([float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
                  for a, i, b, j in rows])
    same = np.array([a == b for a, _, b, _ in rows])
    if same.all() or not same.any():
        return float("nan")
    return float((s[same] > s[~same].max()).mean())


def pairs_threshold(images: ImageSet, pairs_file: Path) -> float:
    index = _index_by_name(images)
    rows = parse_pairs(pairs_file)
    s = np.array([float(images.vectors[index[f"{a}_{i:04d}.jpg"]] @ images.vectors[index[f"{b}_{j:04d}.jpg"]])
                  for a, i, b, j in rows])
    return _best_threshold(s, np.array([a == b for a, _, b, _ in rows]))


def plain_scores(images: ImageSet, trials: Trials, *, fusion: str = "quality",
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plain cosine between each enrollment template and its genuine / impostor probe groups
    (groups fused by mean), over the same trials the IronMask settings see."""
    templates = np.stack([fuse_embeddings(images, g, fusion) for g in trials.enroll])
    imp = np.stack([fuse_embeddings(images, g, "mean") for g in trials.impostor_groups])
    gen, impostor = [], []
    for e, t in enumerate(templates):
        for g in trials.genuine[e]:
            gen.append(float(fuse_embeddings(images, g, "mean") @ t))
        cols = _impostor_columns(trials, e, seed)
        impostor.append(imp[cols] @ t)
    return np.asarray(gen), np.concatenate(impostor) if impostor else np.zeros(0)


