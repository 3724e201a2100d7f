"""The liveness service: input rules, wiring of capture + challenge, and real-photo videos
that must fail (one still photo moved, zoomed, brightened; a printed photo tilted to fake
a head turn).

Scripted pipelines (observations from tests/vision/test_liveness.py) drive the wiring
without models; the real-photo cases run the real pipeline and skip without the data.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facevault.errors import NotRecognisedError, UsageError
from facevault.services import liveness as svc
from facevault.services.capture import CaptureParts, default_parts, monotonic_ms
from facevault.services.progress import drive as run
from tests.helpers.media import make_video, read_bgr, shared_photos
from tests.vision.test_liveness import ME, OTHER, Obs, good_sequence, obs


class ScriptedPipeline:
    """Returns the next scripted observation for every frame; repeats the last one."""

    def __init__(self, script: list[Obs | None]) -> None:
        self._it: Iterator[Obs | None] = itertools.chain(script, itertools.repeat(script[-1]))
        self.closed = False

    def process(self, frame: Any) -> Obs:
        o = next(self._it)
        return o if o is not None else Obs(ok=False, code="no_face", box=None)

    def close(self) -> None:
        self.closed = True


def factory(script: list[Obs | None]) -> tuple[Any, list[ScriptedPipeline]]:
    made: list[ScriptedPipeline] = []

    def make(video: bool) -> ScriptedPipeline:
        p = ScriptedPipeline(script)
        made.append(p)
        return p

    return make, made


def challenge(spec: str, make: Any = None, *, allow_still: bool = False, side: str | None = None,
              settings: svc.ChallengeSettings = svc.ChallengeSettings(), passive: Any = None,
              clock: Any = None, stop: Any = None) -> Any:
    """services.liveness.run_challenge with injected parts (a clock means: not frame time)."""
    parts = default_parts() if make is None else CaptureParts(pipelines=make, clock=clock or monotonic_ms)
    observer = svc.ChallengeObserver(allow_still=allow_still, side=side, settings=settings,
                                     passive=passive, use_frame_time=False if clock else None)
    return svc.run_challenge(spec, parts=parts, observer=observer, stop=stop)


def probes(spec: str, make: Any, **kw: Any) -> Any:
    return svc.live_probes(spec, parts=CaptureParts(pipelines=make), **kw)


@pytest.fixture(scope="module")
def blank_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 grey frames at 10 fps: the content does not matter to a scripted pipeline."""
    out = tmp_path_factory.mktemp("lv") / "blank.avi"
    make_video([np.full((120, 160, 3), 128, np.uint8)], out, fps=10, size=(160, 120), frames_per_image=40)
    return out


@pytest.fixture(scope="module")
def still_jpg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    out = tmp_path_factory.mktemp("lv") / "still.jpg"
    cv2.imwrite(str(out), np.full((120, 160, 3), 128, np.uint8))
    return out


# ------------------------------------------------------------------ input rules


def test_video_needs_allow_still(blank_video: Path) -> None:
    make, _ = factory(good_sequence("left"))
    with pytest.raises(UsageError):
        run(probes(str(blank_video), make, require=True))


def test_still_image_never_passes_even_when_allowed(still_jpg: Path, tmp_path: Path) -> None:
    make, made = factory(good_sequence("left"))
    with pytest.raises(UsageError):
        run(probes(str(still_jpg), make, require=True))
    res = run(challenge(str(still_jpg), make, allow_still=True))
    assert not res.passed and res.reason == svc.STILL_REASON and res.embeddings == ()
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(12):
        (folder / f"{i:02d}.jpg").write_bytes(still_jpg.read_bytes())
    with pytest.raises(NotRecognisedError, match="still image"):
        run(probes(str(folder), make, require=True, allow_still=True))
    assert made == []  # no frame was even processed


# ------------------------------------------------------------------ wiring


def test_passing_challenge_returns_only_the_challenged_embeddings(blank_video: Path) -> None:
    make, made = factory(good_sequence("left"))
    items: list[Any] = []
    res = run(challenge(str(blank_video), make, allow_still=True, side="left"),
              items.append)
    assert res.passed and res.side == "left" and not res.live
    assert len(res.embeddings) >= 3 and all(float(e @ ME) > 0.99 for e in res.embeddings)
    assert [i.status.instruction for i in items][:1] == ["Blink"]
    assert any("left" in i.status.instruction for i in items)
    assert items[-1].status.passed and items[-1].rgb is not None
    assert made and all(p.closed for p in made)


def test_live_probes_returns_the_embeddings(blank_video: Path) -> None:
    make, _ = factory(good_sequence("left"))
    embs = run(probes(str(blank_video), make, require=True, allow_still=True, side="left"))
    assert len(embs) >= 3 and all(float(e @ ME) > 0.99 for e in embs)


def test_live_probes_raises_on_a_swap(blank_video: Path) -> None:
    seq = good_sequence("left")
    swapped = seq[:5] + [o if o is None or o.embedding is None else Obs(**{**o.__dict__, "embedding": OTHER})
                         for o in seq[5:]]
    make, _ = factory(swapped)
    with pytest.raises(NotRecognisedError, match="different face"):
        run(probes(str(blank_video), make, require=True, allow_still=True))


def test_wrong_side_fails_through_the_service(blank_video: Path) -> None:
    make, _ = factory(good_sequence("right"))
    res = run(challenge(str(blank_video), make, allow_still=True, side="left"))
    assert not res.passed and "wrong way" in (res.reason or "")


def test_injected_clock_drives_the_deadline(blank_video: Path) -> None:
    lenient = svc.ChallengeSettings(max_gap_ms=10_000)  # isolate the deadline from tracking
    for step_ms, passes in ((100, True), (2000, False)):  # 2 s per frame: far too slow
        ticks = itertools.count(0, step_ms)
        make, _ = factory(good_sequence("left"))
        res = run(challenge(str(blank_video), make, allow_still=True, side="left", settings=lenient,
                            clock=lambda: next(ticks)))
        assert res.passed is passes
        assert passes or "timed out" in (res.reason or "")


def test_slow_frames_lose_the_track(blank_video: Path) -> None:
    ticks = itertools.count(0, 2000)
    make, _ = factory(good_sequence("left"))
    res = run(challenge(str(blank_video), make, allow_still=True, side="left",
                        clock=lambda: next(ticks)))
    assert not res.passed and "lost" in (res.reason or "")


def test_video_ending_early_fails(blank_video: Path) -> None:
    make, _ = factory([obs(0.05)])
    res = run(challenge(str(blank_video), make, allow_still=True))
    assert not res.passed and "ended" in (res.reason or "")


def test_stop_flag_fails(blank_video: Path) -> None:
    make, _ = factory([obs(0.05)])
    res = run(challenge(str(blank_video), make, allow_still=True, stop=lambda: True))
    assert not res.passed and "stopped" in (res.reason or "")


def test_not_required_is_the_plain_capture(blank_video: Path) -> None:
    make, _ = factory([obs(0.05)])
    embs = run(probes(str(blank_video), make, require=False, want=3))
    assert len(embs) == 3 and all(float(e @ ME) > 0.99 for e in embs)


class FixedScorer:
    def __init__(self, value: float) -> None:
        self.value, self.calls = value, 0

    def score(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
        assert rgb.ndim == 3 and len(box) == 4
        self.calls += 1
        return self.value


@pytest.mark.parametrize("value, passes", [(0.9, True), (0.02, False)])
def test_passive_model_can_veto_a_passed_challenge(blank_video: Path, value: float, passes: bool) -> None:
    make, _ = factory(good_sequence("left"))
    scorer = FixedScorer(value)
    res = run(challenge(str(blank_video), make, allow_still=True, side="left", passive=scorer))
    assert res.passed is passes and res.passive_score == pytest.approx(value)
    assert scorer.calls == 7  # the frames whose embeddings were kept
    if not passes:
        assert res.reason == svc.PASSIVE_REASON and res.embeddings == ()
        with pytest.raises(NotRecognisedError, match="photo or a screen"):
            run(probes(str(blank_video), factory(good_sequence("left"))[0], require=True,
                       allow_still=True, side="left", passive=FixedScorer(value)))


# ------------------------------------------------------------------ real photos

PHOTOS = shared_photos()
needs_photos = pytest.mark.skipif(not PHOTOS, reason="shared photos not found (FACEVAULT_TEST_DATA)")


def _moved_still(bgr: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """One photo with small shifts, zoom and brightness changes, like a hand-held print."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = bgr.shape[:2]
    frames = []
    for i in range(n):
        zoom = 1.0 + 0.08 * np.sin(i / 5)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-3, 3)), zoom)
        m[:, 2] += rng.uniform(-0.03, 0.03, 2) * (w, h)
        f = cv2.warpAffine(bgr, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        f = np.clip(f.astype(np.float32) * (1.0 + 0.25 * np.sin(i / 3)), 0, 255).astype(np.uint8)
        frames.append(f)
    return frames


def _tilted_print(bgr: np.ndarray, n: int) -> list[np.ndarray]:
    """A print turned about its vertical axis, to and fro (faking a head turn)."""
    import cv2

    h, w = bgr.shape[:2]
    frames = []
    for i in range(n):
        a = np.radians(45 * np.sin(i / 6))
        k = 0.5 * w * (1 - np.cos(a))  # foreshortening
        d = 0.25 * h * np.sin(a)  # the near edge looks taller
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[k, -d], [w - k, d], [w - k, h - d], [k, h + d]])
        m = cv2.getPerspectiveTransform(src, dst)
        frames.append(cv2.warpPerspective(bgr, m, (w, h), borderValue=(90, 90, 90)))
    return frames


@needs_photos
@pytest.mark.parametrize("kind", ["moved_still", "tilted_print"])
def test_video_of_one_photo_fails(kind: str, tmp_path: Path) -> None:
    bgr = read_bgr(PHOTOS[0])
    frames = _moved_still(bgr, 70, 0) if kind == "moved_still" else _tilted_print(bgr, 70)
    video = tmp_path / f"{kind}.avi"
    make_video(frames, video, fps=10)
    items: list[Any] = []
    res = run(challenge(str(video), allow_still=True), items.append)
    assert not res.passed and res.embeddings == ()
    faces = sum(1 for i in items if i.observation.box is not None)
    assert faces > len(items) // 2, "the photo's face should be seen in most frames"
    # the photo never blinks: the challenge is stuck at the first step
    assert all(i.status.step == 1 for i in items), [i.status.instruction for i in items][-3:]
    assert "timed out" in (res.reason or "") or "ended" in (res.reason or ""), res.reason
