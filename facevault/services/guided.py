"""Guided enrollment: a template fused from a few poses, not from the first good frames.

Today's capture fuses the first `want` good frames; from a camera those are a fraction of a
second of one pose. The guide asks the person to look straight ahead, then turn a little to
their left, then to their right (the landmarks give the yaw), keeps the best frames (by
quality) of each pose and fuses those. A source that is not a stream (photos) or that never
shows a pose (the person did not turn) falls back to the best good frames seen, so nothing
that enrolled before is refused now. Measured in `facevault bench guided`.

May import: stdlib, numpy, facevault.vision, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np

from facevault.errors import NoUsableFaceError
from facevault.services.capture import CaptureParts, capture
from facevault.services.policy import EnrollPolicy
from facevault.services.progress import FrameProgress, Progress
from facevault.vision.liveness import yaw_of
from facevault.vision.pipeline import FaceObservation, fuse
from facevault.vision.sources import Frame, FrameSource

__all__ = ["POSES", "PoseGuide", "guided_template", "pose_of"]

POSES = ("front", "left", "right")
INSTRUCTIONS = {"front": "Look straight at the camera",
                "left": "Now turn your head a little to your left",
                "right": "Now turn your head a little to your right"}


def pose_of(obs: FaceObservation, *, front_deg: float = 8.0, turn_deg: float = 12.0) -> str | None:
    """front, left (the person's own left), right, or None (in between, or no landmarks)."""
    yaw = yaw_of(obs.landmarks)
    if yaw is None:
        return None
    if abs(yaw) <= front_deg:
        return "front"
    if yaw >= turn_deg:
        return "left"
    if yaw <= -turn_deg:
        return "right"
    return None


@dataclass
class PoseGuide:
    """A capture observer: keeps the `front` best frontal frames and the `side` best frames
    of each turn; done when every pose has its frames or was waited for `patience` good
    frames in vain (a stream), or after `want` good frames (photos: poses are whatever the
    photos show)."""

    front: int = 3
    side: int = 1
    front_deg: float = 8.0
    turn_deg: float = 12.0
    patience: int = 30  # good frames to wait for the asked pose before moving on without it
    bins: dict[str, list[FaceObservation]] = field(default_factory=lambda: {p: [] for p in POSES})
    seen: list[FaceObservation] = field(default_factory=list, repr=False)
    stream: bool = True
    skipped: set[str] = field(default_factory=set)
    _waited: int = 0

    @property
    def want(self) -> int:
        return self.front + 2 * self.side

    def wanted(self, pose: str) -> int:
        return self.front if pose == "front" else self.side

    def begin(self, source: FrameSource, now_ms: int) -> None:
        self.stream = bool(source.is_stream)

    def _asked(self) -> str | None:
        """The pose asked for now: the first that is neither full nor given up on."""
        for pose in POSES:
            if len(self.bins[pose]) < self.wanted(pose) and pose not in self.skipped:
                return pose
        return None

    @property
    def instruction(self) -> str:
        pose = self._asked()
        return INSTRUCTIONS[pose] if pose is not None else "Done"

    @property
    def poses(self) -> tuple[tuple[str, int, int], ...]:
        return tuple((p, len(self.bins[p]), self.wanted(p)) for p in POSES)

    def see(self, frame: Frame, obs: FaceObservation, frames: int, good: int,
            now_ms: int) -> Progress | None:
        if obs.ok:
            self.seen.append(obs)
            asked = self._asked()
            pose = pose_of(obs, front_deg=self.front_deg, turn_deg=self.turn_deg)
            if pose is not None:
                kept = sorted(self.bins[pose] + [obs], key=lambda o: o.quality, reverse=True)
                self.bins[pose] = kept[: self.wanted(pose)]
            if asked is not None and pose != asked:
                self._waited += 1
                if self._waited >= self.patience:  # not coming: go on without it
                    self.skipped.add(asked)
                    self._waited = 0
            else:
                self._waited = 0
        have = sum(min(len(self.bins[p]), self.wanted(p)) for p in POSES) if self.stream else len(self.seen)
        return FrameProgress(frames, have, self.want, obs, frame.rgb, poses=self.poses,
                             instruction=self.instruction if self.stream else "")

    @property
    def done(self) -> bool:
        if not self.stream:
            return len(self.seen) >= self.want
        return self._asked() is None

    def chosen(self) -> list[FaceObservation]:
        """The frames to fuse: the pose bins, topped up with the best other good frames when
        a pose never showed (up to `want`)."""
        picked = [o for p in POSES for o in self.bins[p]] if self.stream else list(self.seen[: self.want])
        if len(picked) < self.want:
            rest = sorted((o for o in self.seen if all(o is not q for q in picked)),
                          key=lambda o: o.quality, reverse=True)
            picked += rest[: self.want - len(picked)]
        return picked


def guided_template(spec: str, *, parts: CaptureParts, policy: EnrollPolicy = EnrollPolicy(),
                    stop: Callable[[], bool] | None = None) -> Generator[Progress, None, np.ndarray]:
    """A template from the guided capture of `spec` (see the module docstring)."""
    guide = PoseGuide(front=max(1, policy.want - 2), side=1)
    result = yield from capture(spec, want=guide.want, max_frames=policy.max_frames, parts=parts,
                                observer=guide, stop=stop)
    chosen = guide.chosen()
    minimum = min(policy.minimum, guide.want)
    if len(chosen) < minimum:
        raise NoUsableFaceError(
            f"no usable face: {result.why_none()}" if not chosen
            else f"only {len(chosen)} usable face image(s); {minimum} needed",
            hint="Face the camera in good light, alone, at arm's length; or give clearer photos.")
    return np.asarray(fuse(chosen).embedding, dtype=np.float32)
