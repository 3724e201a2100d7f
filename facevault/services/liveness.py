"""Unlock with a liveness challenge: capture frames, run the challenge on one tracked face,
and hand out probe embeddings only when it passed.

`run_challenge()` is a generator like services.capture.capture(): it yields a
LivenessProgress after every frame (the instruction to show: "Blink", "Turn your head a
little to your left", ...) and returns a LivenessResult. `live_probes()` is the one call
the CLI and the GUI make: with `require=False` it is the plain capture; with
`require=True` it returns the challenge's embeddings or raises.

Input rules: a still image or a folder of photos never passes (it cannot blink or turn);
a video file is not live input and is accepted only with `allow_still=True` (tests,
benchmarks); a camera is live. Embeddings live only in memory and are never logged.

May import: numpy, facevault.vision, facevault.services.capture, facevault.errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facevault.errors import NotRecognisedError, UsageError
from facevault.vision.liveness import Challenge, ChallengeSettings, ChallengeStatus

__all__ = [
    "LivenessProgress",
    "LivenessResult",
    "run_challenge",
    "live_probes",
    "monotonic_ms",
]

log = logging.getLogger(__name__)

STILL_REASON = "A still image or a folder of photos cannot blink or turn its head."
PASSIVE_REASON = "The camera picture looks like a photo or a screen (passive check)."
# Median p(live) below which the passive model vetoes a passed challenge; see
# docs/LIVENESS.md for the measurement behind it.
PASSIVE_MIN = 0.1


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True)
class LivenessProgress:
    """One frame of the challenge, for a live view: show status.instruction."""

    frames: int
    status: ChallengeStatus
    observation: Any  # the frame's FaceObservation
    rgb: Any = None  # the frame's (H, W, 3) uint8 RGB image; not kept


@dataclass(frozen=True)
class LivenessResult:
    """passed with the tracked face's embeddings, or not passed with a plain reason."""

    passed: bool
    reason: str | None
    frames: int
    side: str
    live: bool
    embeddings: tuple[np.ndarray, ...] = field(default=(), repr=False)
    passive_score: float | None = None  # median p(live) of the passive model, when used


def _default_pipeline(video: bool) -> Any:
    from facevault.vision.pipeline import FacePipeline

    return FacePipeline.from_models(video=video)


def run_challenge(
    spec: str,
    *,
    allow_still: bool = False,
    settings: ChallengeSettings = ChallengeSettings(),
    side: str | None = None,
    clock: Callable[[], int] | None = None,
    pipeline_factory: Callable[[bool], Any] = _default_pipeline,
    max_frames: int = 2000,
    stop: Callable[[], bool] | None = None,
    passive: Any = None,
    passive_min: float = PASSIVE_MIN,
) -> Generator[LivenessProgress, None, LivenessResult]:
    """Run one challenge on frames from `spec` until it passes, fails or the source ends.

    clock: milliseconds, monotonic. Default: the real clock for a camera, and the frames'
    own timestamps for a video file (so a slow machine does not turn a test clip into a
    timeout). side: "left"/"right" for tests; None draws it with `secrets`.
    passive: a vision.antispoof.PassiveLiveness (or anything with score(rgb, box)); when
    given, it scores every frame whose embedding the challenge keeps, and a passed
    challenge whose median score is below passive_min fails.
    Raises UsageError for non-live input unless allow_still.
    """
    from facevault.vision.sources import open_source

    frames = 0
    scores: list[float] = []
    with open_source(spec) as source:
        live = bool(source.is_live)
        stream = bool(source.is_stream)
        if not live and not allow_still:
            raise UsageError(
                f"{source.describe()} is not a live camera; a liveness check needs camera:N",
                hint="use --face camera:0, or pass --allow-still for tests and benchmarks",
            )
        use_frame_time = clock is None and not live
        now = clock or monotonic_ms
        challenge: Challenge | None = None
        if not stream:
            return LivenessResult(False, STILL_REASON, 0, side or "-", live)
        pipeline = pipeline_factory(stream)
        try:
            for frame in source:
                t = int(frame.timestamp_ms) if use_frame_time else int(now())
                if challenge is None:
                    challenge = Challenge(settings, side=side, start_ms=t)
                obs = pipeline.process(frame)
                frames += 1
                kept = challenge.kept
                status = challenge.update(obs, t)
                if passive is not None and challenge.kept > kept and obs.box is not None:
                    scores.append(float(passive.score(frame.rgb, obs.box)))
                yield LivenessProgress(frames, status, obs, frame.rgb)
                if status.done:
                    break
                if frames >= max_frames or (stop is not None and stop()):
                    challenge.fail("The liveness check was stopped.")
                    break
        finally:
            pipeline.close()
    if challenge is None:
        return LivenessResult(False, "The source gave no frames.", 0, side or "-", live)
    if not challenge.status(0).done:
        challenge.fail("The video ended before the liveness check was done.")
    final = challenge.status(0)
    score = float(np.median(scores)) if scores else None
    if not final.passed:
        return LivenessResult(False, final.reason, frames, challenge.side, live, passive_score=score)
    if passive is not None and (score is None or score < passive_min):
        return LivenessResult(False, PASSIVE_REASON, frames, challenge.side, live, passive_score=score)
    return LivenessResult(True, None, frames, challenge.side, live, challenge.embeddings(), score)


def live_probes(
    spec: str,
    *,
    require: bool,
    allow_still: bool = False,
    want: int = 3,
    max_frames: int = 90,
    settings: ChallengeSettings = ChallengeSettings(),
    pipeline_factory: Callable[[bool], Any] = _default_pipeline,
    clock: Callable[[], int] | None = None,
    side: str | None = None,
    stop: Callable[[], bool] | None = None,
    passive: Any = None,
) -> Generator[Any, None, list[np.ndarray]]:
    """Probe embeddings for unlocking: a generator of progress items returning the list.

    require=False: the plain capture (services.capture), `want` good frames out of at most
    `max_frames`; yields CaptureProgress. require=True: the liveness challenge; yields
    LivenessProgress and returns only the embeddings of the challenged face. Raises
    NotRecognisedError when the challenge fails, UsageError for non-live input without
    allow_still, NoUsableFaceError when the plain capture finds no face.
    passive: None, or a vision.antispoof.PassiveLiveness (`PassiveLiveness.from_manifest()`)
    as an extra veto on a passed challenge (see run_challenge and docs/LIVENESS.md).
    """
    from facevault.services import capture

    if not require:
        result = yield from capture.capture(
            spec, want=want, max_frames=max_frames, pipeline_factory=pipeline_factory, stop=stop
        )
        return capture.probes_of(result)
    outcome = yield from run_challenge(
        spec, allow_still=allow_still, settings=settings, side=side, clock=clock,
        pipeline_factory=pipeline_factory, stop=stop, passive=passive,
    )
    if not outcome.passed:
        raise NotRecognisedError(
            f"liveness check failed: {outcome.reason} Nothing was opened.",
            hint="face the camera alone in good light and follow the instructions: "
            "blink once, turn your head a little to the side asked, look back",
        )
    return list(outcome.embeddings)
