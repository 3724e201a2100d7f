"""The capture loop: frames from a source through the face pipeline, the one loop enroll,
unlock, liveness, the CLI, the GUI and the benchmarks share.

`capture()` opens the source with the injected `CaptureParts.sources`, builds a pipeline
with `CaptureParts.pipelines` (video mode for cameras and videos), and yields a progress
item after every frame (so a live view can follow and a stop flag is honoured between
frames). It returns a `Capture` with the good observations. An `Observer` plugs into the
loop: it sees every frame, may yield its own progress item instead of the plain
FrameProgress, and decides when the loop is done (the liveness challenge, the live unlock).
Embeddings live only in memory.

May import: stdlib, numpy, facevault.vision, facevault.services.progress, facevault.errors.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.errors import NoUsableFaceError
from facevault.services.progress import FrameProgress, Progress

if TYPE_CHECKING:
    from facevault.vision.pipeline import FaceObservation, FacePipeline
    from facevault.vision.sources import Frame, FrameSource

__all__ = [
    "SourceOpener",
    "PipelineFactory",
    "CaptureParts",
    "Observer",
    "Capture",
    "capture",
    "monotonic_ms",
    "default_parts",
]

SourceOpener = Callable[[str], "FrameSource"]
PipelineFactory = Callable[[bool], "FacePipeline"]  # argument: video (stream) mode


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _open_source(spec: str) -> FrameSource:
    from facevault.vision.sources import open_source

    return open_source(spec)


@dataclass(frozen=True)
class CaptureParts:
    """What the capture loop is built from; tests inject their own."""

    pipelines: PipelineFactory
    sources: SourceOpener = _open_source
    clock: Callable[[], int] = monotonic_ms  # milliseconds, monotonic
    model: ModelRef = UNKNOWN_MODEL  # the embedder the pipelines use (recorded in face slots)


def default_parts() -> CaptureParts:
    """The model store's models, loaded for this one capture (the GUI shares a loaded set)."""
    from facevault.services.models import current_model, face_pipeline

    return CaptureParts(pipelines=face_pipeline, model=current_model())


class Observer(Protocol):
    """Sees every frame of a capture. `begin` may refuse the source (UsageError)."""

    def begin(self, source: FrameSource, now_ms: int) -> None: ...
    def see(self, frame: Frame, obs: FaceObservation, frames: int, good: int,
            now_ms: int) -> Progress | None: ...
    @property
    def done(self) -> bool: ...


@dataclass(frozen=True)
class Capture:
    """good: observations with ok=True, each holding a unit (512,) float32 embedding."""

    good: tuple[FaceObservation, ...] = field(repr=False)
    frames: int
    rejected: tuple[tuple[str, str], ...]  # (origin, plain reason) per rejected frame
    skipped: tuple[tuple[str, str], ...]  # unreadable items of a folder source
    live: bool
    stream: bool = True

    @property
    def embeddings(self) -> list[np.ndarray]:
        return [obs.embedding for obs in self.good if obs.embedding is not None]

    def why_none(self) -> str:
        """The most common reason frames were rejected, for a message."""
        if not self.rejected and not self.skipped:
            return "the source gave no frames"
        if self.rejected:
            reason, count = Counter(r for _, r in self.rejected).most_common(1)[0]
            return f"{reason} ({count} of {self.frames} frames)"
        return f"no readable image ({self.skipped[0][1]})"

    def probes(self) -> list[np.ndarray]:
        """The embeddings to offer at unlock; NoUsableFaceError when there are none."""
        if not self.good:
            raise NoUsableFaceError(
                f"no usable face: {self.why_none()}",
                hint="Face the camera in good light, alone, at arm's length.",
            )
        return self.embeddings


def capture(
    spec: str,
    *,
    want: int,
    max_frames: int,
    parts: CaptureParts,
    observer: Observer | None = None,
    stop: Callable[[], bool] | None = None,
) -> Generator[Progress, None, Capture]:
    """Process frames from `spec` until `want` good faces (or, with an observer, until it is
    done), `max_frames` frames, the source ends, or stop()."""
    good: list[FaceObservation] = []
    rejected: list[tuple[str, str]] = []
    frames = 0
    with parts.sources(spec) as source:
        stream, live = bool(source.is_stream), bool(source.is_live)
        if observer is not None:
            observer.begin(source, parts.clock())
        if observer is None or not observer.done:
            pipeline = parts.pipelines(stream)
            try:
                for frame in source:
                    obs = pipeline.process(frame)
                    frames += 1
                    if obs.ok:
                        good.append(obs)
                    else:
                        rejected.append((obs.origin, obs.reason or "rejected"))
                    item = None
                    if observer is not None:
                        item = observer.see(frame, obs, frames, len(good), parts.clock())
                    yield item if item is not None else FrameProgress(
                        frames, len(good), want, obs, frame.rgb)
                    finished = observer.done if observer is not None else len(good) >= want
                    if finished or frames >= max_frames or (stop is not None and stop()):
                        break
            finally:
                pipeline.close()
        skipped = tuple(getattr(source, "skipped", ()) or ())
    return Capture(tuple(good), frames, tuple(rejected), skipped, live, stream)
