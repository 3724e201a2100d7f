"""The parts every screen needs, built once in gui/app.py (or a test) and passed down.

No globals: a test builds an AppContext with a MemoryStore, a synchronous or real thread
pool, scripted dialogs, a cheap Policy and fake models or a video file as the camera.
The Policy is the one the CLI uses (services.policy), so both enroll and tune the KDF alike.

`allow_still_liveness` lets the liveness challenge accept a video file instead of a camera
and `liveness_side` fixes the side it asks for. Only tests set them; no setting shows them.

May import: stdlib, PySide6 (through gui modules), facevault.services, facevault.errors.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from facevault.core.kdf import KdfParams
from facevault.gui.dialogs import Dialogs
from facevault.gui.workers import Tasks
from facevault.services.capture import CaptureParts
from facevault.services.desktop import list_cameras
from facevault.services.guided import guided_template
from facevault.services.liveness import ChallengeObserver
from facevault.services.policy import Policy
from facevault.services.progress import Progress
from facevault.services.secretstore import SecretStore
from facevault.services.settings import Settings, SettingsStore

__all__ = ["AppContext", "ModelsLike", "open_with_desktop"]


class ModelsLike(Protocol):
    """services.models.Models, or a test's fake."""

    @property
    def ready(self) -> bool: ...
    def warm(self) -> None: ...
    def parts(self) -> CaptureParts: ...


def open_with_desktop(path: Path) -> bool:
    """Open `path` in the user's default application for its type."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


@dataclass
class AppContext:
    settings_store: SettingsStore
    models: ModelsLike
    tasks: Tasks
    dialogs: Dialogs
    secret_store: Callable[[], SecretStore]  # the OS keyring; may raise KeyringUnavailableError
    policy: Policy = field(default_factory=Policy)
    cameras: Callable[[], list[str]] = list_cameras
    allow_still_liveness: bool = False  # tests only: a video file may take the challenge
    liveness_side: str | None = None  # tests only: the side the challenge asks for
    open_externally: Callable[[Path], bool] = open_with_desktop
    settings: Settings = field(default_factory=Settings)
    # the enrollment that opened the current vault (its codeword: memory only, until it
    # locks); pairing another computer needs it
    session_face: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.settings = self.settings_store.load()

    def update_settings(self, **changes: Any) -> Settings:
        self.settings = replace(self.settings, **changes)
        self.settings_store.save(self.settings)
        return self.settings

    def remember_vault(self, path: Path) -> None:
        self.settings = self.settings.with_recent(path)
        self.settings_store.save(self.settings)

    def forget_vault(self, path: Path) -> None:
        """Remove `path` from the recent vaults (the folder itself is not touched)."""
        self.settings = self.settings.without_recent(path)
        self.settings_store.save(self.settings)

    def parts(self) -> CaptureParts:
        return self.models.parts()

    def kdf(self) -> KdfParams:
        """The KDF cost of new slots, by the shared policy (tuned here; run it in a worker)."""
        return self.policy.kdf.params()

    def challenge(self) -> ChallengeObserver:
        return ChallengeObserver(allow_still=self.allow_still_liveness, side=self.liveness_side)

    def capture_template(self, spec: str) -> Generator[Progress, None, np.ndarray]:
        """Generator: capture a template from `spec` with the app's models, by the policy,
        guided through a few poses (services.guided; photos are taken as they are)."""
        return guided_template(spec, parts=self.parts(), policy=self.policy.enroll)
