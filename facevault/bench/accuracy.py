"""`facevault bench accuracy`: TAR and FAR of IronMask settings on real faces, and the
plain-cosine baseline on the same trials.

Role: run the suite over an embedded image set (bench.images) and seeded trials
(bench.trials): the plain-cosine baseline (bench.scoring) and, per IronMask setting
(bench.decoding), codebook bits, TAR, FAR and trial counts; and the report lines.

May import: stdlib, numpy, facevault.core, facevault.bench.lfw (vision lazily through it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from facevault.bench.decoding import Setting, SettingResult, default_settings, evaluate_setting
from facevault.bench.images import ImageSet, fuse_embeddings, load_images
from facevault.bench.scoring import (
    FAR_LEVELS,
    baseline,
    pairs_accuracy,
    pairs_far0_tar,
    pairs_threshold,
    plain_scores,
    tar_at_far,
)
from facevault.bench.trials import Trials, folder_trials, pair_trials, parse_pairs

__all__ = [
    "Setting",
    "ImageSet",
    "Trials",
    "SettingResult",
    "AccuracyReport",
    "load_images",
    "pair_trials",
    "folder_trials",
    "fuse_embeddings",
    "baseline",
    "evaluate_setting",
    "run_accuracy",
    "default_settings",
    "parse_pairs",
    "FAR_LEVELS",
    "tar_at_far",
    "pairs_accuracy",
    "pairs_far0_tar",
    "pairs_threshold",
    "plain_scores",
    "report_lines",
]


@dataclass(frozen=True)
class AccuracyReport:
    images: int
    no_face: list[str]
    trials: str
    enrollments: int
    enroll_k: int
    probe_m: int
    fusion: str
    probe_mode: str
    baseline: dict[str, Any]
    settings: list[SettingResult]
    genuine_scores: np.ndarray = field(repr=False)  # plain cosine, for the plots
    impostor_scores: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("genuine_scores", "impostor_scores")}
        return d


def run_accuracy(
    images: ImageSet,
    trials: Trials,
    settings: Sequence[Setting],
    *,
    enroll_k: int,
    probe_m: int,
    fusion: str = "quality",
    probe_mode: str = "fuse",
    threshold: float | None = None,
    accuracy_override: float | None = None,
    pool: int = 4,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> AccuracyReport:
    gen, imp = plain_scores(images, trials, fusion=fusion, seed=seed)
    base = baseline(gen, imp, threshold=threshold)
    if accuracy_override is not None:
        base["accuracy"] = accuracy_override
    results = []
    for s in settings:
        cb = None if progress is None else (lambda d, t, name=s.name: progress(name, d, t))
        results.append(evaluate_setting(s, images, trials, fusion=fusion, probe_mode=probe_mode,
                                        pool=pool, seed=seed, plain=(gen, imp), progress=cb))
    return AccuracyReport(len(images.paths), images.no_face, trials.description, len(trials.enroll),
                          enroll_k, probe_m, fusion, probe_mode, base, results, gen, imp)


def report_lines(r: AccuracyReport) -> list[str]:
    b = r.baseline
    lines = [
        f"images                 {r.images} ({len(r.no_face)} without a detected face)",
        f"trials                 {r.trials}; {r.enrollments} enrollments, fusion {r.fusion}, probes {r.probe_mode}",
        f"plain cosine           accuracy {b['accuracy']:.2%}; TAR at FAR "
        + ", ".join(f"{k}: {v:.2%}" for k, v in b["tar_at_far"].items())
        + f" ({b['genuine_trials']} genuine, {b['impostor_trials']} impostor)",
    ]
    if "tar_at_far0_pair_impostors" in b:
        lines.append(f"plain TAR at FAR 0 over the pairs file's impostor pairs only: {b['tar_at_far0_pair_impostors']:.2%}")
    lines.append(f"{'setting':22s} {'dim':>5s} {'a':>3s} {'bits':>6s} {'TAR':>7s} {'FAR':>10s} "
                 f"{'plainTAR@FAR':>12s} {'genuine':>8s} {'impostor':>10s}")
    for s in r.settings:
        lines.append(f"{s.name:22s} {s.dim:5d} {s.alpha:3d} {s.bits:6.1f} {s.tar:7.2%} "
                     f"{s.far:10.2e} {s.plain_tar_at_same_far:12.2%} {s.genuine_trials:8d} {s.impostor_trials:10d}")
    return lines
