"""Capturing faces from a frame source: the one loop enroll, unlock, CLI and GUI share.

`capture()` is a generator: it yields a CaptureProgress after every frame (so a progress
bar or a live view can follow it and a stop flag is honoured between frames) and returns a
Capture with the good observations. Embeddings live only in memory.

May import: numpy, facevault.vision, facevault.errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from facevault.errors import NoUsableFaceError

__all__ = ["CaptureProgress", "Capture", "capture", "run", "template_of"]

T = TypeVar("T")


@dataclass(frozen=True)
class CaptureProgress:
    frames: int  # frames processed so far
    good: int  # frames that passed every quality gate
    want: int  # good frames wanted
    observation: Any  # the last FaceObservation (for a live view); None before the first
    rgb: Any = None  # that frame's (H, W, 3) uint8 RGB image (for a live view); not kept


@dataclass(frozen=True)
class Capture:
    good: tuple[Any, ...]  # FaceObservation with ok=True, each holding a unit (512,) embedding
    frames: int
    rejected: tuple[tuple[str, str], ...]  # (origin, plain reason) per rejected frame
    skipped: tuple[tuple[str, str], ...]  # unreadable items of a folder source
    live: bool

    @property
    def embeddings(self) -> list[np.ndarray]:
        return [obs.embedding for obs in self.good]

    def why_none(self) -> str:
        """The most common reason frames were rejected, for a message."""
        if not self.rejected and not self.skipped:
            return "the source gave no frames"
        if self.rejected:
            reason, count = Counter(r for _, r in self.rejected).most_common(1)[0]
            return f"{reason} ({count} of {self.frames} frames)"
        return f"no readable image ({self.skipped[0][1]})"


def _default_pipeline(video: bool) -> Any:
    from facevault.vision.pipeline import FacePipeline

    return FacePipeline.from_models(video=video)


def capture(
    spec: str,
    *,
    want: int,
    max_frames: int,
    pipeline_factory: Callable[[bool], Any] = _default_pipeline,
    stop: Callable[[], bool] | None = None,
) -> Generator[CaptureProgress, None, Capture]:
    """Process frames from `spec` until `want` good faces or `max_frames` frames."""
    from facevault.vision.sources import open_source

    good: list[Any] = []
    rejected: list[tuple[str, str]] = []
    frames = 0
    with open_source(spec) as source:
        pipeline = pipeline_factory(bool(source.is_stream))
        try:
            for frame in source:
                obs = pipeline.process(frame)
                frames += 1
                if obs.ok:
                    good.append(obs)
                else:
                    rejected.append((obs.origin, obs.reason or "rejected"))
                yield CaptureProgress(frames, len(good), want, obs, frame.rgb)
                if len(good) >= want or frames >= max_frames or (stop is not None and stop()):
                    break
        finally:
            pipeline.close()
        skipped = tuple(getattr(source, "skipped", ()) or ())
        live = bool(source.is_live)
    return Capture(tuple(good), frames, tuple(rejected), skipped, live)


def run(gen: Generator[Any, None, T], on_progress: Callable[[Any], None] | None = None) -> T:
    """Drive a progress generator to its end and return its result."""
    while True:
        try:
            item = next(gen)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(item)


def template_of(result: Capture, *, minimum: int = 1) -> np.ndarray:
    """Fuse the good observations into one unit template (mean of unit vectors)."""
    if len(result.good) < minimum:
        raise NoUsableFaceError(
            f"no usable face: {result.why_none()}" if not result.good
            else f"only {len(result.good)} usable face image(s); {minimum} needed",
            hint="face the camera in good light, alone, at arm's length; or give clearer photos",
        )
    from facevault.vision.pipeline import fuse

    return np.asarray(fuse(list(result.good)).embedding, dtype=np.float32)


def probes_of(result: Capture) -> list[np.ndarray]:
    if not result.good:
        raise NoUsableFaceError(
            f"no usable face: {result.why_none()}",
            hint="face the camera in good light, alone, at arm's length",
        )
    return result.embeddings


