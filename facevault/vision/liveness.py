"""Active liveness challenge: blink, then turn the head to a side chosen at random, then
look back at the camera, all on one tracked face within a time limit.

Role: a pure state machine over per-frame observations (FaceObservation or anything with
ok / code / box / landmarks / blendshapes / embedding). `Challenge.update(obs, now_ms)`
advances it and returns a `ChallengeStatus` carrying the instruction to show. Once it has
passed, `Challenge.embeddings()` gives the probe embeddings seen during the challenge on
the tracked face; nothing else may be used to decode a key.

Same-face rule: from the first face seen, every frame with a face must continue the track
(box overlap or a small centre move and size change, no second face of similar size, no
gap without a face longer than `max_gap_ms`), and every embedding must agree with the
first one (cosine >= `min_agreement`). Breaking it fails the challenge: no swapping a live
accomplice for a photo (or the other way round) between the challenge and the match.

Times come from the caller (`now_ms`, from an injected clock), never from time.time here;
the side comes from `secrets`. No Qt, no cv2.

May import: stdlib, numpy, facevault.vision.quality (head_pose, pure numpy),
facevault.vision.landmarks (box_iou; mediapipe is loaded only by its FaceLandmarker).
"""

from __future__ import annotations

import enum
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facevault.vision.landmarks import box_iou
from facevault.vision.quality import head_pose

__all__ = [
    "Phase",
    "ChallengeSettings",
    "ChallengeStatus",
    "ObservationLike",
    "Challenge",
    "INSTRUCTIONS",
    "blink_scores",
    "yaw_of",
]


class Phase(enum.Enum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    FACE_CAMERA = "face_camera"
    PASSED = "passed"
    FAILED = "failed"


INSTRUCTIONS: dict[Phase, str] = {
    Phase.BLINK: "Blink",
    Phase.TURN_LEFT: "Turn your head a little to your left",
    Phase.TURN_RIGHT: "Turn your head a little to your right",
    Phase.FACE_CAMERA: "Now look straight at the camera",
    Phase.PASSED: "Done",
    Phase.FAILED: "Liveness check failed",
}


@dataclass(frozen=True)
class ChallengeSettings:
    """Thresholds. Blendshape scores 0..1, angles in degrees, times in milliseconds.

    Blink: both eyes must first be seen open (max(eyeBlinkL, eyeBlinkR) <= eye_open),
    then closed (min(...) >= eye_closed) for at most max_closed_ms, then open again.
    The gap between the two thresholds is the hysteresis that keeps noise from counting.
    Turn: yaw beyond turn_deg to the requested side; beyond turn_deg to the other side
    fails; during the blink step a turn beyond turn_deg fails (wrong order).
    Face camera: |yaw| <= front_deg with at least min_embeddings agreeing embeddings
    collected since the challenge started, at least one of them after the turn.
    """

    eye_open: float = 0.40
    eye_closed: float = 0.60
    max_closed_ms: int = 1000
    turn_deg: float = 18.0
    front_deg: float = 10.0
    step_timeout_ms: int = 6000
    total_timeout_ms: int = 15000
    max_gap_ms: int = 600
    min_iou: float = 0.25
    max_centre_jump: float = 0.5  # centre move per frame, in face-box widths
    max_size_change: float = 1.5  # box area ratio per frame (either way), as side ratio
    several_faces_ratio: float = 0.5  # a second face this size relative to the tracked one
    min_agreement: float = 0.55  # cosine of every embedding to the first one
    min_embeddings: int = 3
    key_max_yaw_deg: float = 15.0  # frames kept for the key are this close to frontal


class ObservationLike(Protocol):
    """What the challenge reads from a FaceObservation."""

    @property
    def ok(self) -> bool: ...
    @property
    def code(self) -> str | None: ...
    @property
    def box(self) -> tuple[int, int, int, int] | None: ...
    @property
    def landmarks(self) -> np.ndarray | None: ...
    @property
    def blendshapes(self) -> Mapping[str, float] | None: ...
    @property
    def embedding(self) -> np.ndarray | None: ...


@dataclass(frozen=True)
class ChallengeStatus:
    """Where the challenge stands after a frame: show `instruction` to the user.

    step: 1-based index of the current step of `steps` (3: blink, turn, face camera).
    remaining_ms: time left for the whole challenge. reason: a plain sentence on failure.
    """

    phase: Phase
    instruction: str
    step: int
    steps: int
    remaining_ms: int
    reason: str | None = None

    @property
    def done(self) -> bool:
        return self.phase in (Phase.PASSED, Phase.FAILED)

    @property
    def passed(self) -> bool:
        return self.phase is Phase.PASSED


def blink_scores(blendshapes: Mapping[str, float] | None) -> tuple[float, float] | None:
    """(eyeBlinkLeft, eyeBlinkRight) or None when absent."""
    if not blendshapes:
        return None
    try:
        return float(blendshapes["eyeBlinkLeft"]), float(blendshapes["eyeBlinkRight"])
    except KeyError:
        return None


def yaw_of(landmarks: np.ndarray | None) -> float | None:
    """Head yaw in degrees, positive when the person turns to their own left (camera
    image as the camera sees it, not mirrored). None without landmarks."""
    if landmarks is None or np.asarray(landmarks).shape != (478, 3):
        return None
    yaw, _ = head_pose(landmarks)
    return yaw


class Challenge:
    """One liveness challenge. Feed every processed frame to `update` with its time."""

    def __init__(
        self,
        settings: ChallengeSettings = ChallengeSettings(),
        *,
        side: str | None = None,
        start_ms: int,
    ) -> None:
        if side is None:
            side = secrets.choice(("left", "right"))
        if side not in ("left", "right"):
            raise ValueError("side must be 'left' or 'right'")
        self.settings = settings
        self.side = side
        self._turn_phase = Phase.TURN_LEFT if side == "left" else Phase.TURN_RIGHT
        self._phase = Phase.BLINK
        self._start = int(start_ms)
        self._step_start = int(start_ms)
        self._reason: str | None = None
        self._step = 1
        # blink sub-state
        self._seen_open = False
        self._closed_since: int | None = None
        # tracking
        self._box: tuple[int, int, int, int] | None = None
        self._last_face_ms: int | None = None
        self._anchor: np.ndarray | None = None
        self._embeddings: list[np.ndarray] = []
        self._kept_at_turn = 0

    # ------------------------------------------------------------------ public
    @property
    def phase(self) -> Phase:
        return self._phase

    def status(self, now_ms: int) -> ChallengeStatus:
        steps = (Phase.BLINK, self._turn_phase, Phase.FACE_CAMERA)
        if self._phase in steps:
            self._step = steps.index(self._phase) + 1
        elif self._phase is Phase.PASSED:
            self._step = len(steps)
        step = self._step  # a failed challenge keeps the step it failed at
        remaining = max(0, self._start + self.settings.total_timeout_ms - int(now_ms))
        return ChallengeStatus(
            self._phase, INSTRUCTIONS[self._phase], step, len(steps), remaining, self._reason
        )

    @property
    def kept(self) -> int:
        """How many embeddings are kept so far (the service scores those frames too)."""
        return len(self._embeddings)

    def embeddings(self) -> tuple[np.ndarray, ...]:
        """The tracked face's embeddings seen during the challenge; only once it passed."""
        if self._phase is not Phase.PASSED:
            raise RuntimeError("the liveness challenge has not passed")
        return tuple(self._embeddings)

    def fail(self, reason: str) -> None:
        """End the challenge as failed (e.g. the source ended or the user cancelled)."""
        if self._phase not in (Phase.PASSED, Phase.FAILED):
            self.status(0)
            self._phase, self._reason = Phase.FAILED, reason
            self._embeddings.clear()

    def update(self, obs: ObservationLike | None, now_ms: int) -> ChallengeStatus:
        """Advance with one frame's observation (None: a frame with nothing processed)."""
        now = int(now_ms)
        if self._phase in (Phase.PASSED, Phase.FAILED):
            return self.status(now)
        s = self.settings
        if now - self._start > s.total_timeout_ms:
            return self._failed("Too slow: the liveness check timed out.", now)
        if now - self._step_start > s.step_timeout_ms:
            what = INSTRUCTIONS[self._phase].lower()
            return self._failed(f"Too slow: timed out waiting for '{what}'.", now)
        yaw = yaw_of(None if obs is None else obs.landmarks)
        problem = self._track(obs, yaw, now)
        if problem is not None:
            return self._failed(problem, now)
        if obs is None or obs.box is None or obs.landmarks is None:
            return self.status(now)
        if self._phase is Phase.BLINK:
            self._blink_step(obs, yaw, now)
        elif self._phase is self._turn_phase:
            self._turn_step(yaw, now)
        elif self._phase is Phase.FACE_CAMERA:
            self._face_step(obs, yaw, now)
        return self.status(now)

    # ------------------------------------------------------------------ steps
    def _failed(self, reason: str, now: int) -> ChallengeStatus:
        self.status(now)  # record the step it fails at
        self._phase, self._reason = Phase.FAILED, reason
        self._embeddings.clear()
        return self.status(now)

    def _advance(self, phase: Phase, now: int) -> None:
        self._phase, self._step_start = phase, now

    def _blink_step(self, obs: ObservationLike, yaw: float | None, now: int) -> None:
        s = self.settings
        if yaw is not None and abs(yaw) > s.turn_deg:
            self._failed("Turned the head before blinking: follow the steps in order.", now)
            return
        eyes = blink_scores(obs.blendshapes)
        if eyes is None:
            return
        if max(eyes) <= s.eye_open:
            if self._closed_since is not None and self._seen_open:
                self._closed_since = None
                self._advance(self._turn_phase, now)
                return
            self._seen_open = True
            self._closed_since = None
        elif min(eyes) >= s.eye_closed and self._seen_open:
            if self._closed_since is None:
                self._closed_since = now
            elif now - self._closed_since > s.max_closed_ms:
                # eyes kept shut: not a blink; start over (a photo with closed eyes stays here)
                self._seen_open = False
                self._closed_since = None

    def _turn_step(self, yaw: float | None, now: int) -> None:
        if yaw is None:
            return
        want = 1.0 if self.side == "left" else -1.0
        if yaw * want >= self.settings.turn_deg:
            self._kept_at_turn = len(self._embeddings)
            self._advance(Phase.FACE_CAMERA, now)
        elif yaw * want <= -self.settings.turn_deg:
            self._failed("Turned the head the wrong way.", now)

    def _face_step(self, obs: ObservationLike, yaw: float | None, now: int) -> None:
        if yaw is None or abs(yaw) > self.settings.front_deg:
            return
        kept = len(self._embeddings)
        if kept > self._kept_at_turn and kept >= self.settings.min_embeddings:
            self._advance(Phase.PASSED, now)

    # ------------------------------------------------------------------ tracking
    def _track(self, obs: ObservationLike | None, yaw: float | None, now: int) -> str | None:
        """Check the same-face rule for this frame and keep its embedding; a reason if broken.

        Embeddings are compared with the first one only on frames within turn_deg of
        frontal (a turned face embeds less reliably; the box track covers the turn), and
        kept for the key only when also near frontal with the eyes open."""
        s = self.settings
        box = None if obs is None else obs.box
        if obs is not None and obs.code == "several_faces":
            return "Another face came into view: only you should be in front of the camera."
        if box is None:
            if self._last_face_ms is not None and now - self._last_face_ms > s.max_gap_ms:
                return "The face was lost during the liveness check."
            return None
        if self._last_face_ms is not None and now - self._last_face_ms > s.max_gap_ms:
            return "The face was lost during the liveness check."
        if self._box is not None and not self._continues(self._box, box):
            return "The face jumped or changed during the liveness check."
        self._box, self._last_face_ms = box, now
        emb = getattr(obs, "embedding", None)
        if yaw is None or abs(yaw) > s.turn_deg:
            return None
        if obs is not None and obs.ok and emb is not None:
            v = np.asarray(emb, dtype=np.float64).reshape(-1)
            n = float(np.linalg.norm(v))
            if not math.isfinite(n) or n < 1e-6:
                return None
            v = v / n
            if self._anchor is None:
                self._anchor = v
            elif float(v @ self._anchor) < s.min_agreement:
                return "A different face appeared during the liveness check."
            eyes = blink_scores(obs.blendshapes)
            eyes_open = eyes is None or max(eyes) <= s.eye_closed
            if abs(yaw) <= s.key_max_yaw_deg and eyes_open:
                self._embeddings.append(np.asarray(emb, dtype=np.float32))
        return None

    def _continues(self, prev: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
        s = self.settings
        if prev[2] <= 0 or prev[3] <= 0 or box[2] <= 0 or box[3] <= 0:
            return False
        side_ratio = math.sqrt((box[2] * box[3]) / (prev[2] * prev[3]))
        if not (1 / s.max_size_change <= side_ratio <= s.max_size_change):
            return False
        if box_iou(prev, box) >= s.min_iou:
            return True
        pc = (prev[0] + prev[2] / 2, prev[1] + prev[3] / 2)
        bc = (box[0] + box[2] / 2, box[1] + box[3] / 2)
        return math.hypot(bc[0] - pc[0], bc[1] - pc[1]) <= s.max_centre_jump * prev[2]

