"""LFW View 1 verification benchmark: plain-cosine accuracy and TAR at a fixed FAR.

Role: embed the images named by the DevTrain/DevTest pair files with FaceVault's own
pipeline (bench.images, gates reported but not enforced); tune one cosine threshold on DevTrain, report accuracy
on DevTest, and TAR at FAR 1e-3 on DevTest (impostor scores from every cross-identity
pair of DevTest images, since 500 impostor pairs cannot resolve 1e-3). Embeddings stay in
memory unless an embedding cache is asked for (bench.images).

For accuracy every image gets an embedding when a face is found at all (largest face, no
gates); how many images would pass the default quality gates is reported separately.

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime through facevault.vision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facevault.bench.images import ImageEmbedder

__all__ = [
    "Pair",
    "LfwReport",
    "read_pairs",
    "best_threshold",
    "tar_at_far",
    "run_lfw",
    "iter_report_lines",
    "report_dict",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    same: bool


@dataclass(frozen=True)
class LfwReport:
    images: int
    no_face: int  # images where no face was found (centre-crop fallback used)
    gate_pass_fraction: float  # share of images passing the default quality gates
    gate_fail_codes: dict[str, int]
    threshold: float  # tuned on DevTrain
    train_accuracy: float
    test_accuracy: float
    test_pairs: int
    impostor_trials: int
    tar_at_far_1e3: float
    threshold_at_far_1e3: float
    colour_order: str


def read_pairs(pairs_file: Path, images_dir: Path) -> list[Pair]:
    """Official LFW pairs format: count line, then `Name i j` or `NameA i NameB j`."""

    def img(name: str, i: str) -> Path:
        return images_dir / name / f"{name}_{int(i):04d}.jpg"

    out = []
    for line in Path(pairs_file).read_text().splitlines()[1:]:
        f = line.split()
        if len(f) == 3:
            out.append(Pair(img(f[0], f[1]), img(f[0], f[2]), True))
        elif len(f) == 4:
            out.append(Pair(img(f[0], f[1]), img(f[2], f[3]), False))
    return out


def best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The cosine threshold maximising accuracy (score >= t means same) and that accuracy."""
    order = np.argsort(scores)
    s, y = scores[order], same[order].astype(bool)
    # threshold just above s[k]: pairs 0..k say "different"
    neg_below = np.concatenate([[0], np.cumsum(~y)])
    pos_above = np.concatenate([[0], np.cumsum(y[::-1])])[::-1]
    acc = (neg_below + pos_above) / len(s)
    k = int(np.argmax(acc))
    if k == 0:
        t = float(s[0]) - 1e-6
    elif k == len(s):
        t = float(s[-1]) + 1e-6
    else:
        t = float((s[k - 1] + s[k]) / 2)
    return t, float(acc[k])


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> tuple[float, float]:
    """(TAR, threshold) where at most `far` of impostor scores are >= threshold."""
    imp = np.sort(impostor)
    k = int(np.ceil(len(imp) * (1 - far)))
    t = float(imp[min(k, len(imp) - 1)]) + 1e-7
    return float((genuine >= t).mean()), t


def run_lfw(
    data_dir: Path,
    pairs_file: Path,
    *,
    train_pairs_file: Path | None = None,
    colour_order: str | None = None,
    cache_root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LfwReport:
    """Run the benchmark. data_dir holds images/ (or is it); pairs_file is DevTest."""
    images = data_dir / "images" if (data_dir / "images").is_dir() else data_dir
    test = read_pairs(pairs_file, images)
    train_file = train_pairs_file or pairs_file.with_name(
        pairs_file.name.replace("DevTest", "DevTrain")
    )
    train = read_pairs(train_file, images) if train_file.is_file() and train_file != pairs_file else []
    wanted = sorted({p for pr in test + train for p in (pr.a, pr.b)})
    emb = ImageEmbedder(colour_order, cache_root)
    vecs: dict[Path, np.ndarray] = {}
    codes: dict[Path, str | None] = {}
    no_face = 0
    try:
        for i, path in enumerate(wanted):
            v, code, found = emb.get(path)
            vecs[path], codes[path] = v, code
            no_face += not found
            if progress is not None:
                progress(i + 1, len(wanted))
    finally:
        emb.close()

    def scores(pairs: Sequence[Pair]) -> tuple[np.ndarray, np.ndarray]:
        s = np.array([float(vecs[p.a] @ vecs[p.b]) for p in pairs])
        return s, np.array([p.same for p in pairs])

    test_s, test_y = scores(test)
    if train:
        train_s, train_y = scores(train)
        threshold, train_acc = best_threshold(train_s, train_y)
    else:
        threshold, train_acc = best_threshold(test_s, test_y)
    test_acc = float(((test_s >= threshold) == test_y).mean())
    test_imgs = sorted({p for pr in test for p in (pr.a, pr.b)})
    mat = np.stack([vecs[p] for p in test_imgs])
    ids = np.array([p.parent.name for p in test_imgs])
    sim = mat @ mat.T
    iu = np.triu_indices(len(test_imgs), k=1)
    impostor = sim[iu][ids[iu[0]] != ids[iu[1]]]
    tar, t_far = tar_at_far(test_s[test_y], impostor, 1e-3)
    fails: dict[str, int] = {}
    for c in codes.values():
        if c is not None:
            fails[c] = fails.get(c, 0) + 1
    return LfwReport(
        images=len(wanted), no_face=no_face,
        gate_pass_fraction=sum(c is None for c in codes.values()) / max(1, len(codes)),
        gate_fail_codes=fails, threshold=threshold, train_accuracy=train_acc,
        test_accuracy=test_acc, test_pairs=len(test), impostor_trials=int(len(impostor)),
        tar_at_far_1e3=tar, threshold_at_far_1e3=t_far, colour_order=emb.colour_order,
    )


def iter_report_lines(r: LfwReport) -> Iterator[str]:
    yield f"images embedded        {r.images} ({r.no_face} without a detected face: centre crop)"
    yield f"colour order           {r.colour_order}"
    yield f"default gates pass     {r.gate_pass_fraction:.1%}  fails: {r.gate_fail_codes}"
    yield f"threshold (DevTrain)   {r.threshold:.4f}  (train accuracy {r.train_accuracy:.2%})"
    yield f"accuracy (DevTest)     {r.test_accuracy:.2%} on {r.test_pairs} pairs"
    yield (f"TAR @ FAR 1e-3         {r.tar_at_far_1e3:.2%}  (threshold {r.threshold_at_far_1e3:.4f}, "
           f"{r.impostor_trials} impostor trials)")


def report_dict(r: LfwReport) -> dict[str, Any]:
    return asdict(r)
