"""Stand-ins for the face models and the camera in GUI tests that must not depend on what
the real models make of a photo: scripted pipelines (the observations of
tests/vision/test_liveness.py, with the fields a live view and a capture read) and a frame
source that stops with CameraError, as a webcam unplugged mid-stream does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facevault.errors import CameraError
from tests.vision.test_liveness import ME, good_sequence, obs  # noqa: F401 - re-exported


@dataclass(frozen=True)
class GuiObs:
    """A FaceObservation look-alike: what the challenge, the capture and the view read."""

    ok: bool = True
    code: str | None = None
    reason: str | None = None
    box: tuple[int, int, int, int] | None = (100, 100, 200, 200)
    landmarks: np.ndarray | None = field(default=None, repr=False)
    blendshapes: dict[str, float] | None = None
    embedding: np.ndarray | None = field(default=None, repr=False)
    quality: float = 1.0
    origin: str = "fake"


def gui_obs(o: Any) -> GuiObs:
    if o is None:
        return GuiObs(ok=False, code="no_face", reason="No face found.", box=None)
    return GuiObs(ok=o.ok, code=o.code, reason=None if o.ok else "Face the camera straight on.",
                  box=o.box, landmarks=o.landmarks, blendshapes=o.blendshapes, embedding=o.embedding)


class ScriptedPipeline:
    """The next scripted observation for every frame; the last one repeats. `delay` seconds
    per frame, like a real pipeline, so a latest-only live view sees every step."""

    def __init__(self, script: list[Any], delay: float = 0.04) -> None:
        self.delay = delay
        self._it: Iterator[GuiObs] = itertools.chain(
            (gui_obs(o) for o in script), itertools.repeat(gui_obs(script[-1])))

    def process(self, frame: Any) -> GuiObs:
        time.sleep(self.delay)
        return next(self._it)

    def close(self) -> None:
        pass


class FakeModels:
    """An AppContext.models that hands out scripted pipelines (and, when given, a fake
    camera source instead of the spec's real one)."""

    ready = True

    def __init__(self, script: list[Any], source: Any = None) -> None:
        self.script = script
        self.source = source

    def warm(self) -> None:
        pass

    def pipeline(self, video: bool) -> ScriptedPipeline:
        return ScriptedPipeline(self.script)

    def parts(self) -> Any:
        from facevault.services.capture import CaptureParts

        if self.source is None:
            return CaptureParts(pipelines=self.pipeline)
        return CaptureParts(pipelines=self.pipeline, sources=self.source)


def steady_face(emb: np.ndarray = ME) -> list[Any]:
    """One frontal face with open eyes, for captures (enroll, re-enroll)."""
    return [obs(0.05, emb=emb)]


@dataclass
class _Frame:
    rgb: np.ndarray
    index: int
    timestamp_ms: int
    origin: str


class LostCamera:
    """A live camera source that delivers `frames` grey frames, then fails as if unplugged."""

    is_stream = True
    is_live = True
    skipped: list[tuple[str, str]] = []

    def __init__(self, spec: str, frames: int = 4) -> None:
        self.spec = spec
        self.frames = frames

    def describe(self) -> str:
        return "camera 0"

    def __enter__(self) -> "LostCamera":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        pass

    def __iter__(self) -> Iterator[_Frame]:
        for i in range(self.frames):
            yield _Frame(np.full((240, 320, 3), 90, np.uint8), i, i * 100, f"{self.spec}#{i}")
        raise CameraError("Camera 0 stopped delivering frames",
                          hint="Check that it is still connected and not used by another program.")


def show_window(qtbot: Any, ctx: Any, *, models_ready: bool = True) -> Any:
    """A shown 900x640 MainWindow on `ctx`, registered with qtbot (which closes it)."""
    from facevault.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(900, 640)
    window.show()
    qtbot.waitExposed(window)
    if models_ready:
        window.models_ready()
    return window
