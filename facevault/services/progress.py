"""One progress vocabulary for every long operation, and the one driver.

Long operations are `Generator[Progress, None, Result]`: they yield frozen progress items
and *return* their result (a template, an open vault, a new recovery code), never yield it.
Front ends look at each item with one `match` over this union; `drive` runs a generator to
its end for callers that only want the result.

    FrameProgress       one camera/video frame processed (for a live view and a counter)
    ChallengeProgress   one frame of the liveness challenge (the instruction to show)
    StageProgress       a step that has no count ("Checking your face...", "Adding x.pdf")
    ByteProgress        bytes done out of a total (from facevault.core)
    CloakProgress       one step of cloaking one face of a photo (services.cloak)

May import: stdlib, numpy, facevault.core.progress, facevault.vision (types only).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from facevault.core.progress import ByteProgress

if TYPE_CHECKING:
    from facevault.vision.liveness import ChallengeStatus
    from facevault.vision.pipeline import FaceObservation

__all__ = [
    "Stage",
    "FrameProgress",
    "ChallengeProgress",
    "StageProgress",
    "ByteProgress",
    "CloakProgress",
    "Progress",
    "drive",
]

R = TypeVar("R")


class Stage(enum.Enum):
    """Steps without a count; the value is a plain sentence to show."""

    DECODING = "Checking your face…"
    CREATING = "Creating the vault (this takes a moment on purpose)…"
    SEALING = "Sealing the new face key…"
    REENCRYPTING = "Re-encrypting every file under a new key…"
    ENCRYPTING = "Encrypting…"
    DECRYPTING = "Decrypting…"
    ADDING = "Adding"
    EXTRACTING = "Extracting"
    OPENING = "Opening"
    DELETING = "Deleting"

    @property
    def text(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class FrameProgress:
    """One processed frame. `rgb` (H, W, 3) uint8 is the frame itself, for a live view only
    (never kept). `seconds_left`/`attempts`: set by the live unlock loop; `poses` and
    `instruction`: by the guided enrollment (services.guided)."""

    frames: int
    good: int
    want: int
    observation: FaceObservation | None = field(default=None, repr=False)
    rgb: np.ndarray | None = field(default=None, repr=False)
    seconds_left: float | None = None
    attempts: int = 0
    poses: tuple[tuple[str, int, int], ...] = ()  # guided enrollment: (pose, have, want)
    instruction: str = ""  # guided enrollment: what to do now


@dataclass(frozen=True)
class ChallengeProgress:
    """One frame of the liveness challenge: show `status.instruction`."""

    frames: int
    status: ChallengeStatus
    observation: FaceObservation | None = field(default=None, repr=False)
    rgb: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StageProgress:
    stage: Stage
    detail: str = ""  # e.g. the file name for ADDING

    @property
    def text(self) -> str:
        return f"{self.stage.text} {self.detail}".strip() if self.detail else self.stage.text


@dataclass(frozen=True)
class CloakProgress:
    """Cloaking face `face` (1-based) of `faces` in `name`: `fraction` of its steps done;
    `faces` is 0 while the photo is being read and searched."""

    name: str
    face: int
    faces: int
    fraction: float

    @property
    def text(self) -> str:
        if self.faces == 0:
            return f"Looking for faces in {self.name}"
        return f"Cloaking face {self.face} of {self.faces} in {self.name}"


Progress = FrameProgress | ChallengeProgress | StageProgress | ByteProgress | CloakProgress


def drive(gen: Generator[Progress, None, R],
          on_progress: Callable[[Progress], None] | None = None) -> R:
    """Run a progress generator to its end and return its result."""
    while True:
        try:
            item = next(gen)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(item)
