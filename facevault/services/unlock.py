"""Unlocking a vault: read its headers once, say what it needs, open it with what is offered.

`LockedVault.read(path)` reads the headers (the only read of them for this unlock) and this
computer's pin of the vault (services.trust), and tells a front end what to ask for: the
mode, whether a passphrase or this computer's keyring goes with the face, whether "use this
device" can work; the pin decides, not the folder. `LockedVault.open(offer)` opens it from
those same headers (upgrading a version-1 folder), checks it against the pin and keeps the
pin current while it is open. `live_unlock` watches a camera and opens the vault as soon as a batch of
good frames decodes; `challenge_unlock` opens it only after the liveness challenge passed.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.services.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facevault.core.facekey import EnrolledFace
from facevault.core.factors import DeviceFactor, FaceFactor, Factors
from facevault.core.kinds import Kind
from facevault.core.modelref import ModelRef
from facevault.core.modes import Mode, mode_of_kinds
from facevault.core.epochs import HeaderSet
from facevault.core.folder import is_v1, is_v2
from facevault.core.slots import Slot
from facevault.core.v1.header import VaultHeader as V1Header
from facevault.core.v1.slots import Slot as V1Slot
from facevault.core.vault import OpenVault, open_vault, read_headers_at
from facevault.errors import FaceVaultError, Hint, NotRecognisedError, TrustError
from facevault.services.capture import CaptureParts, capture
from facevault.services.keyslots import devices_here
from facevault.services.liveness import ChallengeObserver, PassiveScorer, run_challenge
from facevault.services.policy import UnlockPolicy
from facevault.services.progress import FrameProgress, Progress, Stage, StageProgress
from facevault.services.secretstore import SecretStore
from facevault.services.trust import DeviceRef, Pin, PinStore, Recorder, check_folder, \
    check_keys, check_opened, short_id, this_device

if TYPE_CHECKING:
    from facevault.vision.pipeline import FaceObservation
    from facevault.vision.sources import Frame, FrameSource

__all__ = ["Unlocked", "LockedVault", "is_vault_folder", "watch", "live_unlock", "challenge_unlock", "keyring_offer"]


@dataclass(frozen=True)
class Unlocked:
    """An open vault and, when a face opened it, the enrollment behind that face."""

    vault: OpenVault
    face: EnrolledFace | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LockedVault:
    """A vault folder whose headers were read once, before unlocking, and what this computer
    remembers of it (its pin). A version-1 folder is upgraded when it is opened, unless
    `open(keep_v1=True)`."""

    path: Path
    headers: HeaderSet | None = field(repr=False)  # None: a version-1 folder
    v1: V1Header | None = field(repr=False, default=None)
    pin: Pin | None = field(repr=False, default=None)
    pins: PinStore | None = field(repr=False, default=None)
    trusting: bool = False  # `trust`: the person accepts the folder as it is (see open)

    @classmethod
    def read(cls, path: Path, pins: PinStore | None = None, *, check: bool = True) -> LockedVault:
        """Read the folder's headers; TrustError when it now holds another vault than the
        one this computer opened there (unless `check` is False: `trust`)."""
        path = Path(path)
        pins = pins if pins is not None else PinStore.default()
        v1: V1Header | None = None
        headers: HeaderSet | None = None
        if is_v1(path):
            from facevault.core.v1.header import read_header

            v1 = read_header(path)
        else:
            headers = read_headers_at(path)
        vault_id = headers.vault_id if headers is not None else v1.vault_id  # type: ignore[union-attr]
        pin = check_folder(path, vault_id, pins) if check else pins.get(vault_id)
        if v1 is not None and pin is not None and check:
            raise TrustError(
                f"refused: this computer opened the vault {short_id(vault_id)} in format version "
                "2, and the folder now holds a version-1 copy of it: an older copy was put back. "
                "Nothing was opened.", hint=Hint.TRUST_IF_YOURS)
        return cls(path, headers, v1, pin, pins)

    @classmethod
    def of_open(cls, vault: OpenVault) -> LockedVault:
        """An open vault's own current (authenticated) header, for describing its slots."""
        return cls(vault.path, HeaderSet(vault.path, (vault.header,), {}))

    @property
    def version(self) -> int:
        return 1 if self.headers is None else 2

    @property
    def vault_id(self) -> bytes:
        return self.headers.vault_id if self.headers is not None else self.v1.vault_id  # type: ignore[union-attr]

    @property
    def slots(self) -> tuple[Slot | V1Slot, ...]:
        """The slots of the newest header (unauthenticated), version-1 slots included."""
        if self.headers is None:
            return tuple(self.v1.slots)  # type: ignore[union-attr]
        best = self.headers.best
        return (*best.slots, *best.legacy_slots)

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(s.kind for s in self.slots)

    @property
    def header_mode(self) -> Mode | None:
        """The mode the folder claims (unauthenticated until opened)."""
        if self.headers is not None and self.headers.best.mode is not None:
            return self.headers.best.mode
        return mode_of_kinds(self.kinds)

    @property
    def modes(self) -> frozenset[Mode]:
        """The modes whose factors an unlock gathers: the pinned one (what this computer
        trusts) and what the folder claims."""
        found = {m for m in (self.header_mode, self.pin.mode if self.pin else None) if m}
        return frozenset(found)

    @property
    def mode(self) -> Mode | None:
        """The pinned mode when there is a pin, else the folder's claim."""
        if self.pin is not None and self.pin.mode is not None:
            return self.pin.mode
        return self.header_mode

    @property
    def needs_passphrase(self) -> bool:
        return Mode.FACE_PASSPHRASE in self.modes

    @property
    def face_uses_keyring(self) -> bool:
        """A face unlock of this vault takes this computer's keyring along (face+device)."""
        return Mode.FACE_DEVICE in self.modes

    @property
    def has_device_slot(self) -> bool:
        return Kind.DEVICE in self.kinds

    def device_enabled_here(self, store: SecretStore) -> bool:
        v2 = [s for s in self.slots if isinstance(s, Slot)]
        v1 = [s for s in self.slots if isinstance(s, V1Slot)]
        return bool(devices_here(v2, store, (Kind.DEVICE,)) or devices_here(v1, store, (Kind.DEVICE,)))

    def open(self, offer: Factors, policy: UnlockPolicy = UnlockPolicy(), *,
             device: DeviceRef | None = None, keep_v1: bool = False,
             trust: bool = False) -> Unlocked:
        """Open with `offer`; TrustError (nothing opened) when the folder is not the vault
        this computer pinned, is older than it, or in a weaker mode. `trust`: accept the
        folder as it is and pin it afresh (a deliberate restore from a backup)."""
        trust = trust or self.trusting
        device = device or this_device()
        if self.headers is None and keep_v1:
            from facevault.core.v1.vault import open_vault as open_v1

            old = open_v1(self.path, offer, policy=policy.decode, header=self.v1)
            return Unlocked(old, old.opened.face if old.opened is not None else None)  # type: ignore[arg-type]
        if self.headers is None:
            from facevault.core.upgrade import open_upgraded

            vault = open_upgraded(self.path, offer, device=device, policy=policy.decode)
        else:
            pin = None if trust else self.pin
            vault = open_vault(self.path, offer, device=device, policy=policy.decode,
                               headers=self.headers, check=lambda keys: check_keys(keys, pin))
        if trust and self.pins is not None:
            self.pins.forget(vault.vault_id)
        watched = watch(vault, self.pins, None if trust else self.pin)
        if vault.opened.legacy:  # a version-1 slot this computer holds: make it a version-2 one
            from facevault.core.upgrade import adopt_legacy

            with contextlib.suppress(FaceVaultError):  # busy or read-only: next time
                adopt_legacy(vault, offer, policy.decode)
        return Unlocked(watched, vault.opened.face)


def is_vault_folder(path: Path) -> bool:
    """Whether `path` looks like a FaceVault vault folder (format 1 or 2), without reading it."""
    path = Path(path)
    return is_v1(path) or is_v2(path)


def watch(vault: OpenVault, pins: PinStore | None, pin: Pin | None) -> OpenVault:
    """Check `vault` against this computer's pin and keep the pin current while it is open
    (the vault is closed again when the check refuses it)."""
    try:
        check_opened(vault, pin)
    except BaseException:
        vault.close()
        raise
    if pins is not None:
        recorder = Recorder(pins, pin)
        recorder(vault)
        vault.on_change = recorder
    return vault


class _LiveUnlock:
    """Capture observer: tries to open the vault every `batch` new good faces."""

    def __init__(self, locked: LockedVault, offer: Factors, policy: UnlockPolicy,
                 clock: Callable[[], float], model: ModelRef, device: DeviceRef | None) -> None:
        self.locked, self.offer, self.policy, self.clock = locked, offer, policy, clock
        self.model, self.device = model, device
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
                face = FaceFactor(tuple(self.window), self.model)
                self.result = self.locked.open(self.offer.with_(face), self.policy, device=self.device)
            except NotRecognisedError as exc:
                self.last_error = exc
            finally:
                self.window.clear()
        self.timed_out = left <= 0
        return item


def live_unlock(locked: LockedVault, spec: str, *, parts: CaptureParts, offer: Factors = Factors(),
                policy: UnlockPolicy = UnlockPolicy(), max_frames: int = 100_000,
                clock: Callable[[], float] | None = None,
                device: DeviceRef | None = None) -> Generator[Progress, None, Unlocked]:
    """Watch `spec` and open the vault as soon as `policy.batch` new good faces decode.

    Each attempt offers the last batch of embeddings with the other factors in `offer`
    (passphrase, or this computer's keyring for face+device). Raises NotRecognisedError on
    timeout or when the source ends without a match; closing the generator stops the camera.
    """
    import time

    observer = _LiveUnlock(locked, offer, policy, clock or time.monotonic, parts.model, device)
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
                     passive: PassiveScorer | None = None, device: DeviceRef | None = None,
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
    return locked.open(offer.with_(FaceFactor(outcome.embeddings, parts.model)), policy,
                       device=device)


def keyring_offer(locked: LockedVault, store_factory: Callable[[], SecretStore]) -> Factors:
    """The factors a face unlock takes along without asking: this computer's keyring for a
    face+device vault (KeyringUnavailableError when there is none)."""
    return Factors(DeviceFactor(store_factory())) if locked.face_uses_keyring else Factors()
