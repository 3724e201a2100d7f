"""The liveness challenge as an observer of the capture loop: probe embeddings are handed out
only when a live person blinked and turned their head as asked.

`ChallengeObserver` plugs into services.capture.capture: it yields a ChallengeProgress per
frame (the instruction to show: "Blink", "Turn your head a little to your left", ...) and
ends the capture when the challenge passed or failed. `live_probes()` is the one call the
CLI and the GUI make: with `require=False` it is the plain capture; with `require=True` it
returns the challenge's embeddings or raises.

Input rules: a still image or a folder of photos never passes (it cannot blink or turn);
a video file is not live input and is accepted only with `allow_still=True` (tests,
benchmarks); a camera is live. Embeddings live only in memory and are never logged.

May import: stdlib, numpy, facevault.vision, facevault.services (capture, progress),
facevault.errors.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from facevault.errors import Hint, NotRecognisedError, UsageError
from facevault.services.capture import CaptureParts, capture
from facevault.services.progress import ChallengeProgress, Progress
from facevault.vision.liveness import Challenge, ChallengeSettings

if TYPE_CHECKING:
    from facevault.vision.pipeline import FaceObservation
    from facevault.vision.sources import Frame, FrameSource

__all__ = [
    "PassiveScorer",
    "LivenessResult",
    "ChallengeObserver",
    "live_probes",
    "PASSIVE_MIN",
    "run_challenge",
]

STILL_REASON = "A still image or a folder of photos cannot blink or turn its head."
PASSIVE_REASON = "The camera picture looks like a photo or a screen (passive check)."
# Median p(live) below which the passive model vetoes a passed challenge; see
# docs/LIVENESS.md for the measurement behind it.
PASSIVE_MIN = 0.1


class PassiveScorer(Protocol):
    """vision.antispoof.PassiveLiveness, or a fake: p(live) of one face in one frame."""

    def score(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> float: ...


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


class ChallengeObserver:
    """One blink-and-turn challenge over the frames of a capture.

    The clock is the capture's (real time) for a camera and the frames' own timestamps for a
    video file, so a slow machine does not turn a test clip into a timeout. `side` is for
    tests ("left"/"right"); None draws it with `secrets`.
    """

    def __init__(self, *, allow_still: bool = False,
                 settings: ChallengeSettings = ChallengeSettings(), side: str | None = None,
                 passive: PassiveScorer | None = None, passive_min: float = PASSIVE_MIN,
                 use_frame_time: bool | None = None) -> None:
        self.allow_still = allow_still
        self.settings = settings
        self.side = side
        self.passive = passive
        self.passive_min = passive_min
        self._use_frame_time = use_frame_time
        self._frame_time = False
        self.challenge: Challenge | None = None
        self.scores: list[float] = []
        self.live = False
        self.still = False

    def begin(self, source: FrameSource, now_ms: int) -> None:
        self.live = bool(source.is_live)
        if not self.live and not self.allow_still:
            raise UsageError(
                f"{source.describe()} is not a live camera; a liveness check needs one",
                hint=Hint.LIVE_CAMERA,
            )
        self._frame_time = (not self.live) if self._use_frame_time is None else self._use_frame_time
        self.still = not bool(source.is_stream)

    @property
    def done(self) -> bool:
        return self.still or (self.challenge is not None and self.challenge.status(0).done)

    def see(self, frame: Frame, obs: FaceObservation, frames: int, good: int,
            now_ms: int) -> Progress | None:
        t = int(frame.timestamp_ms) if self._frame_time else int(now_ms)
        if self.challenge is None:
            self.challenge = Challenge(self.settings, side=self.side, start_ms=t)
        kept = self.challenge.kept
        status = self.challenge.update(obs, t)
        if self.passive is not None and self.challenge.kept > kept and obs.box is not None:
            self.scores.append(float(self.passive.score(frame.rgb, obs.box)))
        return ChallengeProgress(frames, status, obs, frame.rgb)

    def result(self, frames: int, *, stopped: bool) -> LivenessResult:
        if self.still:
            return LivenessResult(False, STILL_REASON, 0, self.side or "-", self.live)
        challenge = self.challenge
        if challenge is None:
            return LivenessResult(False, "The source gave no frames.", 0, self.side or "-", self.live)
        if not challenge.status(0).done:
            challenge.fail("The liveness check was stopped." if stopped
                           else "The video ended before the liveness check was done.")
        final = challenge.status(0)
        score = float(np.median(self.scores)) if self.scores else None
        if not final.passed:
            return LivenessResult(False, final.reason, frames, challenge.side, self.live,
                                  passive_score=score)
        if self.passive is not None and (score is None or score < self.passive_min):
            return LivenessResult(False, PASSIVE_REASON, frames, challenge.side, self.live,
                                  passive_score=score)
        return LivenessResult(True, None, frames, challenge.side, self.live,
                              challenge.embeddings(), score)


def run_challenge(spec: str, *, parts: CaptureParts, observer: ChallengeObserver,
                  max_frames: int = 2000, stop: Callable[[], bool] | None = None,
                  ) -> Generator[Progress, None, LivenessResult]:
    """One challenge on frames from `spec` until it passes, fails or the source ends."""
    stopped = [False]

    def stopping() -> bool:
        stopped[0] = stop is not None and stop()
        return stopped[0]

    result = yield from capture(spec, want=max_frames, max_frames=max_frames, parts=parts,
                                observer=observer, stop=stopping)
    hit_cap = result.frames >= max_frames
    return observer.result(result.frames, stopped=stopped[0] or hit_cap)


def live_probes(
    spec: str,
    *,
    parts: CaptureParts,
    require: bool,
    allow_still: bool = False,
    want: int = 3,
    max_frames: int = 90,
    settings: ChallengeSettings = ChallengeSettings(),
    side: str | None = None,
    stop: Callable[[], bool] | None = None,
    passive: PassiveScorer | None = None,
) -> Generator[Progress, None, list[np.ndarray]]:
    """Probe embeddings for unlocking.

    require=False: the plain capture, `want` good frames out of at most `max_frames`.
    require=True: the liveness challenge; only the challenged face's embeddings. Raises
    NotRecognisedError when the challenge fails, UsageError for non-live input without
    allow_still, NoUsableFaceError when the plain capture finds no face.
    """
    if not require:
        result = yield from capture(spec, want=want, max_frames=max_frames, parts=parts, stop=stop)
        return result.probes()
    observer = ChallengeObserver(allow_still=allow_still, settings=settings, side=side,
                                 passive=passive)
    outcome = yield from run_challenge(spec, parts=parts, observer=observer, stop=stop)
    if not outcome.passed:
        raise NotRecognisedError(
            f"liveness check failed: {outcome.reason} Nothing was opened.",
            hint="Face the camera alone in good light and follow the instructions: blink "
                 "once, turn your head a little to the side asked, look back.",
        )
    return list(outcome.embeddings)
