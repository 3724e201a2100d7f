"""Liveness challenge state machine on synthetic observations (no models, no cv2).

Landmarks are synthesised so that quality.head_pose reads a chosen yaw; blendshapes carry
chosen eyeBlinkLeft/Right scores; embeddings are fixed unit vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
from hypothesis import given, settings

from tests.strategies import challenge_frames, frame_orders

from facevault.vision import liveness as lv
from facevault.vision.liveness import Challenge, ChallengeSettings, Phase, yaw_of
from facevault.vision.quality import head_pose

DT = 100  # ms between frames (10 fps)


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=512)
    return (v / np.linalg.norm(v)).astype(np.float32)


ME = _unit(1)
OTHER = _unit(2)


def landmarks_with_yaw(yaw_deg: float, cx: float = 200.0, cy: float = 200.0) -> np.ndarray:
    """(478, 3) points whose cheek line 234 -> 454 is turned by yaw_deg out of the image."""
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0], lm[:, 1] = cx, cy
    half = 80.0
    a = math.radians(yaw_deg)
    lm[234] = (cx - half * math.cos(a), cy, -half * math.sin(a))
    lm[454] = (cx + half * math.cos(a), cy, half * math.sin(a))
    lm[10] = (cx, cy - 100, 0)
    lm[152] = (cx, cy + 100, 0)
    return lm


@dataclass(frozen=True)
class Obs:
    ok: bool = True
    code: str | None = None
    box: tuple[int, int, int, int] | None = (100, 100, 200, 200)
    landmarks: np.ndarray | None = field(default=None, repr=False)
    blendshapes: dict[str, float] | None = None
    embedding: np.ndarray | None = field(default=None, repr=False)


def obs(eyes: float = 0.1, yaw: float = 0.0, emb: np.ndarray | None = ME, dx: int = 0) -> Obs:
    ok = abs(yaw) <= 35
    return Obs(
        ok=ok,
        code=None if ok else "pose",
        box=(100 + dx, 100, 200, 200),
        landmarks=landmarks_with_yaw(yaw, 200 + dx),
        blendshapes={"eyeBlinkLeft": eyes, "eyeBlinkRight": eyes},
        embedding=emb if ok else None,
    )


def run(challenge: Challenge, frames: list[Obs | None], t0: int = 0, dt: int = DT) -> lv.ChallengeStatus:
    status = challenge.status(t0)
    for i, o in enumerate(frames):
        status = challenge.update(o, t0 + (i + 1) * dt)
        if status.done:
            break
    return status


def good_sequence(side: str) -> list[Obs | None]:
    turn = 25.0 if side == "left" else -25.0
    return (
        [obs(0.05)] * 3  # eyes open, facing the camera
        + [obs(0.85)]  # closed
        + [obs(0.1)]  # open again: a blink
        + [obs(0.1, turn / 2), obs(0.1, turn)]  # turn
        + [obs(0.1, turn / 2), obs(0.05, 0.0), obs(0.05, 2.0)]  # back to the camera
    )


def test_synthetic_yaw_matches_head_pose() -> None:
    for y in (-30.0, -10.0, 0.0, 20.0):
        assert head_pose(landmarks_with_yaw(y))[0] == pytest.approx(y, abs=1e-3)
        assert yaw_of(landmarks_with_yaw(y)) == pytest.approx(y, abs=1e-3)
    assert yaw_of(None) is None


@pytest.mark.parametrize("side", ["left", "right"])
def test_blink_then_turn_then_face_passes(side: str) -> None:
    c = Challenge(side=side, start_ms=0)
    assert c.status(0).instruction == "Blink"
    seen = []
    for i, o in enumerate(good_sequence(side)):
        s = c.update(o, (i + 1) * DT)
        seen.append(s.phase)
        if s.done:
            break
    assert s.passed, s.reason
    turn_phase = Phase.TURN_LEFT if side == "left" else Phase.TURN_RIGHT
    assert seen.index(turn_phase) < seen.index(Phase.FACE_CAMERA) < seen.index(Phase.PASSED)
    embs = c.embeddings()
    assert len(embs) >= 3 and all(float(e @ ME) > 0.99 for e in embs)


def test_instructions_name_the_side() -> None:
    c = Challenge(side="right", start_ms=0)
    run(c, good_sequence("right")[:5])
    assert c.status(600).instruction == "Turn your head a little to your right"
    assert c.status(600).step == 2 and c.status(600).steps == 3


def test_side_is_drawn_with_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def choice(seq: tuple[str, ...]) -> str:
        calls.append(seq)
        return seq[1]

    monkeypatch.setattr(lv.secrets, "choice", choice)
    assert Challenge(start_ms=0).side == "right"
    assert calls == [("left", "right")]


def test_turn_before_blink_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    frames = [obs(0.05)] * 2 + [obs(0.05, 25.0), obs(0.05, 0.0), obs(0.85), obs(0.05)]
    s = run(c, frames + good_sequence("left"))
    assert s.phase is Phase.FAILED and "order" in (s.reason or "")
    with pytest.raises(RuntimeError):
        c.embeddings()


def test_wrong_side_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    s = run(c, good_sequence("right"))
    assert s.phase is Phase.FAILED and "wrong way" in (s.reason or "")


def test_no_blink_times_out() -> None:
    c = Challenge(side="left", start_ms=0)
    s = run(c, [obs(0.05, dx=i % 3) for i in range(200)])
    assert s.phase is Phase.FAILED and "timed out" in (s.reason or "")


def test_step_timeout_after_blink() -> None:
    cfg = ChallengeSettings(step_timeout_ms=2000, total_timeout_ms=60000)
    c = Challenge(cfg, side="left", start_ms=0)
    frames = [obs(0.05)] * 3 + [obs(0.85), obs(0.05)] + [obs(0.05)] * 100
    s = run(c, frames)
    assert s.phase is Phase.FAILED and "turn your head" in (s.reason or "")


def test_total_timeout_even_with_each_step_in_time() -> None:
    cfg = ChallengeSettings(step_timeout_ms=5000, total_timeout_ms=6000)
    c = Challenge(cfg, side="left", start_ms=0)
    slow = [obs(0.05)] * 40 + [obs(0.85), obs(0.05)] + [obs(0.05)] * 40 + good_sequence("left")[5:]
    s = run(c, slow)
    assert s.phase is Phase.FAILED and "timed out" in (s.reason or "")


def test_the_same_sequence_passes_at_a_normal_pace() -> None:
    assert run(Challenge(side="left", start_ms=0), good_sequence("left")).passed


def test_eyes_always_closed_never_blink() -> None:
    c = Challenge(side="left", start_ms=0)
    s = run(c, [obs(0.9)] * 40)
    assert c.phase is Phase.BLINK and not s.done


def test_eyes_shut_too_long_is_not_a_blink() -> None:
    c = Challenge(side="left", start_ms=0)
    run(c, [obs(0.05)] * 2 + [obs(0.9)] * 15 + [obs(0.05)])
    assert c.phase is Phase.BLINK


def test_scores_between_the_thresholds_do_not_count() -> None:
    """Hysteresis: hovering between open and closed is no blink."""
    c = Challenge(side="left", start_ms=0)
    mid = (ChallengeSettings().eye_open + ChallengeSettings().eye_closed) / 2
    run(c, [obs(0.05)] + [obs(mid + 0.04 * ((-1) ** i)) for i in range(30)])
    assert c.phase is Phase.BLINK


def test_a_wink_is_not_a_blink() -> None:
    c = Challenge(side="left", start_ms=0)
    wink = replace(obs(0.05), blendshapes={"eyeBlinkLeft": 0.9, "eyeBlinkRight": 0.05})
    run(c, [obs(0.05)] * 2 + [wink, obs(0.05)])
    assert c.phase is Phase.BLINK


def test_face_swapped_mid_challenge_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    swapped = seq[:5] + [replace(o, embedding=OTHER) if o.embedding is not None else o for o in seq[5:]]
    s = run(c, swapped)
    assert s.phase is Phase.FAILED and "different face" in (s.reason or "")


def test_swap_with_a_gap_fails() -> None:
    """Taking the face out of view to swap it: a gap longer than max_gap_ms fails."""
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    s = run(c, seq[:5] + [Obs(ok=False, code="no_face", box=None)] * 8 + seq[5:])
    assert s.phase is Phase.FAILED and "lost" in (s.reason or "")


def test_short_detection_dropout_is_tolerated() -> None:
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    s = run(c, seq[:5] + [Obs(ok=False, code="no_face", box=None)] * 3 + seq[5:])
    assert s.passed, s.reason


def test_box_jump_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    s = run(c, seq[:5] + [replace(seq[5], box=(400, 100, 200, 200))] + seq[6:])
    assert s.phase is Phase.FAILED and "jumped" in (s.reason or "")


def test_box_size_jump_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    s = run(c, seq[:3] + [replace(seq[3], box=(50, 50, 350, 350))] + seq[4:])
    assert s.phase is Phase.FAILED


def test_second_face_fails() -> None:
    c = Challenge(side="left", start_ms=0)
    seq = good_sequence("left")
    s = run(c, seq[:4] + [Obs(ok=False, code="several_faces", box=None)] + seq[4:])
    assert s.phase is Phase.FAILED and "Another face" in (s.reason or "")


def test_only_challenge_frames_of_the_tracked_face_are_kept() -> None:
    c = Challenge(side="left", start_ms=0)
    run(c, good_sequence("left"))
    kept = c.embeddings()
    # kept: 3 open + 1 open after the blink + 12.5 deg on the way out and back + the first
    # frontal frame (which ends it); not kept: the closed-eye frame and the 25 deg frame
    assert len(kept) == 3 + 1 + 2 + 1


def test_failed_challenge_cannot_be_revived() -> None:
    c = Challenge(side="left", start_ms=0)
    run(c, good_sequence("right"))
    s = run(c, good_sequence("left"), t0=2000)
    assert s.phase is Phase.FAILED


@settings(max_examples=60, deadline=None)
@given(challenge_frames)
def test_never_passes_without_eyes_closing(frames: list[tuple[float, float, int]]) -> None:
    c = Challenge(side="left", start_ms=0)
    s = run(c, [obs(e, y, dx=d) for e, y, d in frames])
    assert not s.passed


@settings(max_examples=60, deadline=None)
@given(frame_orders)
def test_shuffled_good_frames_pass_only_in_a_valid_order(order: list[int]) -> None:
    seq = good_sequence("left")
    shuffled = [seq[i] for i in order]
    s = run(Challenge(side="left", start_ms=0), shuffled)
    if s.passed:
        # a pass needs open -> closed -> open before any frame turned to the left
        # and a frontal frame after the turn
        first_turn = next(i for i, o in enumerate(shuffled) if (yaw_of(o.landmarks) or 0) >= 18)
        closed = next(i for i, o in enumerate(shuffled) if o.blendshapes["eyeBlinkLeft"] > 0.6)
        assert 0 < closed < first_turn - 1
