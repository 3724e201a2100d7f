"""Guided enrollment against today's first good frames, on camera-like streams made from
photos: does a template fused across poses unlock more often?

For each person with at least 4 photos (the shared photos/ folder, and lfw-dev's people
with 4 or more images when given), several random orders: the first half of the photos
become a stream (each photo held for `hold` frames with a little sensor noise, as a person
holding a pose would give), the rest are the unlock attempts (one photo each). The stream
is enrolled twice with the app's own capture loop and quality gates: `first` fuses the
first `want` good frames (what the app did before), `guided` the PoseGuide's frames
(services.guided). An attempt succeeds when the shipped decoder finds the enrolled codeword
from that one photo. Reports successes per method with 95% Wilson intervals.

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime through facevault.vision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["GuidedReport", "run_guided", "report_lines"]

_EXTS = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class GuidedReport:
    people: int
    trials: int  # unlock attempts per method
    first_ok: int
    guided_ok: int
    both_ok: int
    guided_poses_found: float  # mean share of the guide's pose bins that filled
    hold: int

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    z, p = 1.96, k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


class _Stream:
    """A camera-like source over photos: each held for `hold` frames with noise."""

    is_stream = True
    is_live = False

    def __init__(self, images: list[np.ndarray], hold: int, rng: np.random.Generator) -> None:
        self.images, self.hold, self.rng = images, hold, rng
        self.spec = "photos-as-stream"
        self.skipped: list[tuple[str, str]] = []

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def describe(self) -> str:
        return f"{len(self.images)} photos, {self.hold} frames each"

    def __iter__(self) -> Iterator[Any]:
        from facevault.vision.sources import Frame

        index = 0
        for rgb in self.images:
            for _ in range(self.hold):
                noisy = np.clip(rgb.astype(np.int16) + self.rng.normal(0, 2.0, rgb.shape).astype(np.int16),
                                0, 255).astype(np.uint8)
                yield Frame(noisy, index, index * 33, f"frame {index}")
                index += 1


def _people(photos: Path | None, lfw: Path | None, min_photos: int) -> list[list[Path]]:
    groups: list[list[Path]] = []
    for root in (photos, lfw / "images" if lfw is not None and (lfw / "images").is_dir() else lfw):
        if root is None or not root.is_dir():
            continue
        for person in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(f for f in person.iterdir() if f.suffix.lower() in _EXTS)
            if len(files) >= min_photos:
                groups.append(files)
    return groups


def run_guided(photos: Path | None, lfw: Path | None = None, *, orders: int = 3, hold: int = 6,
               seed: int = 0, max_people: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> GuidedReport:
    from facevault.core import facekey
    from facevault.core.facekey import DecodePolicy
    from facevault.errors import NoUsableFaceError
    from facevault.services.capture import CaptureParts
    from facevault.services.enroll import capture_template
    from facevault.services.guided import guided_template
    from facevault.services.models import face_pipeline
    from facevault.services.policy import EnrollPolicy
    from facevault.services.progress import drive
    from facevault.vision.sources import decode_image

    rng = np.random.default_rng(seed)
    pipeline = face_pipeline(False)
    shared = _Shared(pipeline)
    streams: list[_Stream] = []
    parts = CaptureParts(pipelines=cast(Any, lambda _video: shared), sources=cast(Any, lambda _spec: streams[-1]))
    policy = EnrollPolicy()
    people = _people(photos, lfw, 4)[:max_people]
    trials = first_ok = guided_ok = both_ok = 0
    filled: list[float] = []
    try:
        for i, files in enumerate(people):
            images = {f: decode_image(f) for f in files}
            probes = {f: pipeline.process(_frame(images[f])) for f in files}
            for _ in range(orders):
                order = list(rng.permutation(len(files)))
                cut = len(files) // 2
                enroll, attempts = [files[j] for j in order[:cut]], [files[j] for j in order[cut:]]
                templates: list[np.ndarray | None] = []
                for method in ("first", "guided"):
                    streams.append(_Stream([images[f] for f in enroll], hold, np.random.default_rng(seed + i)))
                    try:
                        if method == "first":
                            gen = capture_template("stream", parts=parts, policy=policy)
                        else:
                            gen = guided_template("stream", parts=parts, policy=policy)
                        templates.append(drive(gen))
                    except NoUsableFaceError:
                        templates.append(None)
                filled.append(_filled([probes[f] for f in enroll]))
                for f in attempts:
                    obs = probes[f]
                    if not obs.ok or obs.embedding is None:
                        continue
                    trials += 1
                    ok = []
                    for template in templates:
                        if template is None:
                            ok.append(False)
                            continue
                        enrolled = facekey.enroll(template)
                        ok.append(enrolled.codeword in facekey.codeword_guesses(
                            enrolled.helper, [obs.embedding], DecodePolicy()))
                    first_ok += ok[0]
                    guided_ok += ok[1]
                    both_ok += ok[0] and ok[1]
            if progress is not None:
                progress(i + 1, len(people))
    finally:
        pipeline.close()
    return GuidedReport(len(people), trials, first_ok, guided_ok, both_ok,
                        float(np.mean(filled)) if filled else 0.0, hold)


def _frame(rgb: np.ndarray) -> Any:
    from facevault.vision.sources import Frame

    return Frame(rgb, 0, 0, "photo")


def _filled(observations: list[Any]) -> float:
    """The share of the guide's poses that these photos show at all."""
    from facevault.services.guided import POSES, pose_of

    poses = {pose_of(o) for o in observations if o.ok}
    return sum(1 for p in POSES if p in poses) / len(POSES)


class _Shared:
    """One pipeline for every capture of the run (closing it is the run's job)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def process(self, frame: Any) -> Any:
        return self.pipeline.process(frame)

    def close(self) -> None:
        return None


def report_lines(r: GuidedReport) -> list[str]:
    lines = [f"people {r.people}, unlock attempts per method {r.trials} (one held-out photo each; "
             f"each enrollment photo held {r.hold} frames)"]
    for name, k in (("first good frames (before)", r.first_ok), ("guided poses", r.guided_ok)):
        lo, hi = _wilson(k, r.trials)
        share = k / r.trials if r.trials else 0.0
        lines.append(f"  {name:28} {k}/{r.trials} = {share:.1%} (95% {lo:.1%}-{hi:.1%})")
    lines.append(f"  both {r.both_ok}; guided only {r.guided_ok - r.both_ok}; first only {r.first_ok - r.both_ok}")
    lines.append(f"  pose bins the enrollment photos could fill: {r.guided_poses_found:.0%} on average")
    return lines

