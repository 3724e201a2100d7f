"""The one capture loop (services.capture) with injected sources and pipelines: progress per
frame, stopping at `want`, at `max_frames` or on the stop flag, rejected frames with their
reasons, and an observer that decides when it is done."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from facevault.errors import NoUsableFaceError
from facevault.services.capture import Capture, CaptureParts, capture
from facevault.services.progress import FrameProgress, StageProgress, Stage, drive
from facevault.vision.pipeline import FaceObservation


@dataclass
class _Frame:
    rgb: np.ndarray
    index: int
    timestamp_ms: int
    origin: str


class FakeSource:
    """A stream of `n` grey frames, like a video file."""

    is_stream = True
    is_live = False

    def __init__(self, spec: str, n: int = 50) -> None:
        self.spec, self.n, self.closed = spec, n, False
        self.skipped: list[tuple[str, str]] = []

    def describe(self) -> str:
        return f"fake {self.spec}"

    def __enter__(self) -> FakeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True

    def __iter__(self) -> Iterator[_Frame]:
        for i in range(self.n):
            yield _Frame(np.full((48, 64, 3), 100, np.uint8), i, 40 * i, f"{self.spec}#{i}")


class FakePipeline:
    """ok on the frames whose index is in `good`, 'No face found.' on the others."""

    def __init__(self, good: set[int]) -> None:
        self.good, self.closed, self.seen = good, False, 0

    def process(self, frame: Any) -> FaceObservation:
        self.seen += 1
        if frame.index in self.good:
            v = np.zeros(512, np.float32)
            v[frame.index % 512] = 1
            return FaceObservation(frame.origin, True, None, None, v, quality=1.0)
        return FaceObservation(frame.origin, False, "No face found.", "no_face")

    def close(self) -> None:
        self.closed = True


def parts(good: set[int], n: int = 50) -> tuple[CaptureParts, list[FakePipeline], list[FakeSource]]:
    pipes: list[FakePipeline] = []
    sources: list[FakeSource] = []

    def pipeline(video: bool) -> FakePipeline:
        assert video  # a stream source runs the pipeline in video mode
        pipes.append(FakePipeline(good))
        return pipes[-1]

    def source(spec: str) -> FakeSource:
        sources.append(FakeSource(spec, n))
        return sources[-1]

    return CaptureParts(pipelines=pipeline, sources=source), pipes, sources  # type: ignore[arg-type]


def test_progress_per_frame_and_stop_at_want() -> None:
    p, pipes, sources = parts({1, 3, 4, 9})
    items: list[Any] = []
    result = drive(capture("clip", want=3, max_frames=50, parts=p), items.append)
    assert isinstance(result, Capture) and result.frames == 5 and len(result.good) == 3
    assert [i.good for i in items] == [0, 1, 1, 2, 3]
    assert all(isinstance(i, FrameProgress) and i.rgb is not None for i in items)
    assert result.rejected == (("clip#0", "No face found."), ("clip#2", "No face found."))
    assert pipes[0].closed and sources[0].closed


def test_max_frames_and_the_reason_when_none_is_good() -> None:
    p, pipes, _ = parts(set())
    result = drive(capture("clip", want=3, max_frames=4, parts=p))
    assert result.frames == 4 and result.good == ()
    assert "No face found." in result.why_none() and "4 of 4" in result.why_none()
    with pytest.raises(NoUsableFaceError):
        result.probes()


def test_stop_flag_ends_the_loop_between_frames() -> None:
    p, pipes, _ = parts(set())
    seen: list[Any] = []
    drive(capture("clip", want=3, max_frames=100, parts=p, stop=lambda: len(seen) >= 2), seen.append)
    assert len(seen) == 2 and pipes[0].seen == 2


class CountingObserver:
    """Done after `n` good frames; replaces the plain progress item with a stage."""

    def __init__(self, n: int) -> None:
        self.n, self.good, self.begun = n, 0, False

    def begin(self, source: Any, now_ms: int) -> None:
        self.begun = True

    @property
    def done(self) -> bool:
        return self.good >= self.n

    def see(self, frame: Any, obs: FaceObservation, frames: int, good: int, now_ms: int) -> Any:
        self.good = good
        return StageProgress(Stage.DECODING, str(frames))


def test_an_observer_decides_when_the_capture_is_done() -> None:
    p, _, _ = parts(set(range(50)))
    observer = CountingObserver(7)
    items: list[Any] = []
    result = drive(capture("clip", want=1, max_frames=50, parts=p, observer=observer), items.append)
    assert observer.begun and result.frames == 7  # `want` is the observer's business now
    assert all(isinstance(i, StageProgress) for i in items) and items[-1].detail == "7"
