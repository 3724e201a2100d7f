"""Unlocking a vault: read its header once, say what it needs, open it with what is offered.

`LockedVault.read(path)` reads the header (the only read of it for this unlock) and tells a
front end what to ask for: the mode, whether a passphrase or this computer's keyring goes
with the face, whether "use this device" can work. `LockedVault.open(offer)` opens it from
that same header. `live_unlock` watches a camera and opens the vault as soon as a batch of
good frames decodes; `challenge_unlock` opens it only after the liveness challenge passed.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facevault.core.facekey import EnrolledFace
from facevault.core.factors import DeviceFactor, FaceFactor, Factors
from facevault.core.kinds import Kind
from facevault.core.modes import Mode, mode_of_kinds
from facevault.core.vault import OpenVault, VaultHeader, open_vault, read_header
from facevault.errors import FaceVaultError, Hint, NotRecognisedError
from facevault.services.capture import CaptureParts, capture
from facevault.services.keyslots import devices_here
from facevault.services.liveness import ChallengeObserver, PassiveScorer, run_challenge
from facevault.services.policy import UnlockPolicy
from facevault.services.progress import FrameProgress, Progress, Stage, StageProgress
from facevault.services.secretstore import SecretStore

if TYPE_CHECKING:
    from facevault.vision.pipeline import FaceObservation
    from facevault.vision.sources import Frame, FrameSource

__all__ = ["Unlocked", "LockedVault", "live_unlock", "challenge_unlock", "keyring_offer"]


@dataclass(frozen=True)
class Unlocked:
    """An open vault and, when a face opened it, the enrollment behind that face."""

    vault: OpenVault
    face: EnrolledFace | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LockedVault:
    """A vault folder whose header was read once, before unlocking."""

    path: Path
    header: VaultHeader = field(repr=False)

    @classmethod
    def read(cls, path: Path) -> LockedVault:
        return cls(Path(path), read_header(Path(path)))

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(s.kind for s in self.header.slots)

    @property
    def mode(self) -> Mode | None:
        """From the header's slot kinds (unauthenticated until opened)."""
        return mode_of_kinds(self.kinds)

    @property
    def needs_passphrase(self) -> bool:
        return self.mode is Mode.FACE_PASSPHRASE

    @property
    def face_uses_keyring(self) -> bool:
        """A face unlock of this vault takes this computer's keyring along (face+device)."""
        return self.mode is Mode.FACE_DEVICE

    @property
    def has_device_slot(self) -> bool:
        return Kind.DEVICE in self.kinds

    def device_enabled_here(self, store: SecretStore) -> bool:
        return bool(devices_here(self.header.slots, store, (Kind.DEVICE,)))

    def open(self, offer: Factors, policy: UnlockPolicy = UnlockPolicy()) -> Unlocked:
        vault = open_vault(self.path, offer, policy=policy.decode, header=self.header)
        return Unlocked(vault, vault.opened.face if vault.opened is not None else None)


class _LiveUnlock:
    """Capture observer: tries to open the vault every `batch` new good faces."""

    def __init__(self, locked: LockedVault, offer: Factors, policy: UnlockPolicy,
                 clock: Callable[[], float]) -> None:
        self.locked, self.offer, self.policy, self.clock = locked, offer, policy, clock
        self.start = clock()
        self.window: list[np.ndarray] = []
        self.attempts = 0
        self.result: Unlocked | None = None
        self.last_error: FaceVaultError | None = None
        self.timed_out = False

    def begin(self, source: FrameSource, now_ms: int) -> None:
        self.start = self.clock()

    @property
    def done(self) -> bool:
        return self.result is not None or self.timed_out

    def see(self, frame: Frame, obs: FaceObservation, frames: int, good: int,
            now_ms: int) -> Progress | None:
        if obs.ok and obs.embedding is not None:
            self.window.append(obs.embedding)
        left = max(0.0, self.policy.timeout_s - (self.clock() - self.start))
        item = FrameProgress(frames, good, self.policy.batch, obs, frame.rgb,
                             seconds_left=left, attempts=self.attempts)
        if len(self.window) >= self.policy.batch:
            self.attempts += 1
            try:
                self.result = self.locked.open(self.offer.with_(FaceFactor(tuple(self.window))),
                                               self.policy)
            except NotRecognisedError as exc:
                self.last_error = exc
            finally:
                self.window.clear()
        self.timed_out = left <= 0
        return item


def live_unlock(locked: LockedVault, spec: str, *, parts: CaptureParts, offer: Factors = Factors(),
                policy: UnlockPolicy = UnlockPolicy(), max_frames: int = 100_000,
                clock: Callable[[], float] | None = None) -> Generator[Progress, None, Unlocked]:
    """Watch `spec` and open the vault as soon as `policy.batch` new good faces decode.

    Each attempt offers the last batch of embeddings with the other factors in `offer`
    (passphrase, or this computer's keyring for face+device). Raises NotRecognisedError on
    timeout or when the source ends without a match; closing the generator stops the camera.
    """
    import time

    observer = _LiveUnlock(locked, offer, policy, clock or time.monotonic)
    yield from capture(spec, want=max_frames, max_frames=max_frames, parts=parts, observer=observer)
    if observer.result is not None:
        return observer.result
    if observer.attempts == 0:
        raise NotRecognisedError("no usable face was seen in time", hint=Hint.RETRY_FACE)
    last = observer.last_error
    raise NotRecognisedError(
        f"face not recognised ({observer.attempts} attempt{'s' if observer.attempts != 1 else ''})",
        hint=(last.hint if last is not None and last.hint else Hint.RETRY_FACE),
    )


def challenge_unlock(locked: LockedVault, spec: str, *, parts: CaptureParts,
                     offer: Factors = Factors(), policy: UnlockPolicy = UnlockPolicy(),
                     observer: ChallengeObserver | None = None,
                     passive: PassiveScorer | None = None,
                     ) -> Generator[Progress, None, Unlocked]:
    """Open the vault only after the liveness challenge passed on `spec`: yields the
    challenge's progress per frame, then Stage.DECODING, then tries the challenged face."""
    observer = observer or ChallengeObserver(passive=passive)
    outcome = yield from run_challenge(spec, parts=parts, observer=observer)
    if not outcome.passed:
        raise NotRecognisedError(
            f"liveness check failed: {outcome.reason} Nothing was opened.",
            hint="Face the camera alone in good light and follow the instructions: blink "
                 "once, turn your head a little to the side asked, look back.",
        )
    yield StageProgress(Stage.DECODING)
    return locked.open(offer.with_(FaceFactor(outcome.embeddings)), policy)


def keyring_offer(locked: LockedVault, store_factory: Callable[[], SecretStore]) -> Factors:
    """The factors a face unlock takes along without asking: this computer's keyring for a
    face+device vault (KeyringUnavailableError when there is none)."""
    return Factors(DeviceFactor(store_factory())) if locked.face_uses_keyring else Factors()
