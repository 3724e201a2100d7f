"""The desktop app's settings: recent vaults, the chosen camera, auto-lock minutes, the
security preset and the liveness check, kept as JSON in paths.config_dir() (written
atomically). Unreadable or odd content falls back to the defaults.

May import: stdlib, facevault.core.fsutil, facevault.paths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from facevault.core import fsutil
from facevault.errors import FaceVaultError

__all__ = ["Settings", "SettingsStore", "MAX_RECENT"]

MAX_RECENT = 8


@dataclass(frozen=True)
class Settings:
    recent: tuple[str, ...] = ()
    camera: str = "camera:0"
    auto_lock_minutes: int = 5  # 0 = never
    preset: str = "default"
    liveness: bool = True  # blink-and-turn challenge before a camera unlock

    def with_recent(self, path: str | Path) -> Settings:
        text = str(Path(path))
        items = [text, *(r for r in self.recent if r != text)]
        return replace(self, recent=tuple(items[:MAX_RECENT]))

    def without_recent(self, path: str | Path) -> Settings:
        text = str(Path(path))
        return replace(self, recent=tuple(r for r in self.recent if r != text))


class SettingsStore:
    """Settings in a JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from facevault import paths

            path = paths.config_dir() / "gui.json"
        self.path = Path(path)

    def load(self) -> Settings:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Settings()
        if not isinstance(data, dict):
            return Settings()
        base = Settings()
        recent = data.get("recent", [])
        minutes = data.get("auto_lock_minutes", base.auto_lock_minutes)
        return Settings(
            recent=tuple(str(r) for r in recent if isinstance(r, str))[:MAX_RECENT]
            if isinstance(recent, list) else (),
            camera=str(data.get("camera", base.camera)),
            auto_lock_minutes=int(minutes) if isinstance(minutes, int) and 0 <= minutes <= 24 * 60
            else base.auto_lock_minutes,
            preset=str(data.get("preset", base.preset)),
            liveness=data.get("liveness") is not False,  # only an explicit false turns it off
        )

    def save(self, settings: Settings) -> None:
        """Write atomically; a failure to save settings is not worth an error dialog."""
        data = json.dumps({**asdict(settings), "recent": list(settings.recent)}, indent=1)
        try:
            fsutil.private_folder(self.path.parent)
            fsutil.write_private(self.path, data.encode("utf-8"), what="saving the settings",
                                 replace=True)
        except FaceVaultError:
            pass
