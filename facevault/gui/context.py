"""The parts every screen needs, built once in gui/app.py (or a test) and passed down.

No globals: a test builds an AppContext with a MemoryStore, a synchronous or real thread
pool, scripted dialogs, fast KDF parameters and a video file as the camera.

`allow_still_liveness` lets the liveness challenge accept a video file instead of a camera.
Only tests set it; the app never does, and no setting shows it.

May import: stdlib, PySide6 (through gui modules), facevault.services, facevault.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from facevault.gui.dialogs import Dialogs
from facevault.gui.workers import Tasks
from facevault.services.secretstore import SecretStore
from facevault.services.session import Models, Settings, SettingsStore, list_cameras

__all__ = ["AppContext", "open_with_desktop"]


def open_with_desktop(path: Path) -> bool:
    """Open `path` in the user's default application for its type."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


@dataclass
class AppContext:
    settings_store: SettingsStore
    models: Models
    tasks: Tasks
    dialogs: Dialogs
    secret_store: Callable[[], SecretStore]  # the OS keyring; may raise KeyringUnavailableError
    kdf: Any = None  # KDF parameters for new slots; None = the services' default
    cameras: Callable[[], list[str]] = list_cameras
    unlock_timeout_s: float = 15.0
    enroll_want: int = 5
    allow_still_liveness: bool = False  # tests only: a video file may take the challenge
    open_externally: Callable[[Path], bool] = open_with_desktop
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        self.settings = self.settings_store.load()

    def update_settings(self, **changes: Any) -> Settings:
        self.settings = replace(self.settings, **changes)
        self.settings_store.save(self.settings)
        return self.settings

    def remember_vault(self, path: Any) -> None:
        self.settings = self.settings.with_recent(path)
        self.settings_store.save(self.settings)

    def kdf_kwargs(self) -> dict[str, Any]:
        return {} if self.kdf is None else {"kdf": self.kdf}

    def capture_template(self, spec: str) -> Any:
        """Generator: capture `enroll_want` good frames from `spec` with the app's models and
        return the fused template (used by create, re-enroll/mode change and encrypt)."""
        from facevault.services import session

        return session.capture_template(spec, pipeline_factory=self.models, want=self.enroll_want)
