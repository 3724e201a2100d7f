"""services.guided: the pose guide fills one bin per pose with the best frames, moves on
when a pose does not come, and falls back to plain good frames for photos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from facevault.services import guided
from facevault.services.guided import PoseGuide


@dataclass
class Obs:
    yaw: float | None
    quality: float = 1.0
    ok: bool = True
    embedding: Any = None

    @property
    def landmarks(self) -> Any:
        return self.yaw


@dataclass
class Source:
    is_stream: bool


@pytest.fixture(autouse=True)
def _yaw_from_the_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guided, "yaw_of", lambda landmarks: landmarks)


def _feed(guide: PoseGuide, items: list[Obs]) -> list[Any]:
    out = []
    for i, o in enumerate(items):
        out.append(guide.see(type("F", (), {"rgb": None})(), o, i + 1, i + 1, 0))  # type: ignore[arg-type]
        if guide.done:
            break
    return out


def test_each_pose_keeps_its_best_frames_in_order() -> None:
    guide = PoseGuide(front=2, side=1)
    guide.begin(Source(True), 0)  # type: ignore[arg-type]
    assert guide.instruction.startswith("Look straight")
    progress = _feed(guide, [Obs(0, 0.5), Obs(3, 0.9), Obs(-2, 0.7), Obs(20, 0.8), Obs(5, 0.95),
                             Obs(-25, 0.6)])
    assert guide.done and guide.instruction == "Done"
    assert [o.quality for o in guide.bins["front"]] == [0.95, 0.9]
    assert guide.bins["left"][0].yaw == 20 and guide.bins["right"][0].yaw == -25
    assert progress[-1].poses == (("front", 2, 2), ("left", 1, 1), ("right", 1, 1))
    assert len(guide.chosen()) == 4


def test_a_pose_that_never_comes_is_given_up_after_patience() -> None:
    guide = PoseGuide(front=1, side=1, patience=5)
    guide.begin(Source(True), 0)  # type: ignore[arg-type]
    _feed(guide, [Obs(0)] + [Obs(20)] + [Obs(0)] * 20)  # never turns right
    assert guide.done and "right" in guide.skipped
    assert len(guide.chosen()) == guide.want  # topped up with the best other frames


def test_photos_take_the_first_good_frames() -> None:
    guide = PoseGuide(front=3, side=1)
    guide.begin(Source(False), 0)  # type: ignore[arg-type]
    _feed(guide, [Obs(None, q) for q in np.linspace(0.1, 0.9, 9)])
    assert guide.done and len(guide.seen) == guide.want == 5
