"""Fixtures for the GUI tests: scripted dialogs, a context with fast KDF parameters and an
in-memory keyring, videos made from the shared photos standing in for a webcam, and a
helper that saves screenshots to test-artifacts/gui/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.media import REPO_ROOT, make_video, shared_data_dir

PHOTOS = shared_data_dir() / "photos"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "gui"


class FakeDialogs:
    """Answers every modal question from queues the test fills; records errors."""

    def __init__(self) -> None:
        self.folders: list[Path | None] = []
        self.files: list[list[Path]] = []
        self.file: list[Path | None] = []
        self.saves: list[Path | None] = []
        self.confirm_answer = True
        self.errors: list[BaseException] = []
        self.infos: list[str] = []
        self.printed: list[str] = []
        self.confirmed: list[str] = []
        self.passphrases: list[str | None] = []
        self.asked_passphrase: list[str] = []
        self.pairing_codes: list[str] = []
        self.pairings: list[str] = []

    def open_files(self, parent: Any, title: str) -> list[Path]:
        return self.files.pop(0) if self.files else []

    def open_file(self, parent: Any, title: str, filter: str = "") -> Path | None:  # noqa: A002
        return self.file.pop(0) if self.file else None

    def save_file(self, parent: Any, title: str, suggested: str) -> Path | None:
        return self.saves.pop(0) if self.saves else Path(suggested)

    def folder(self, parent: Any, title: str) -> Path | None:
        return self.folders.pop(0) if self.folders else None

    def confirm(self, parent: Any, title: str, text: str) -> bool:
        self.confirmed.append(text)
        return self.confirm_answer

    def error(self, parent: Any, exc: BaseException) -> None:
        self.errors.append(exc)

    def passphrase(self, parent: Any, title: str, text: str, *, twice: bool = False) -> str | None:
        self.asked_passphrase.append(title)
        return self.passphrases.pop(0) if self.passphrases else None

    def info(self, parent: Any, text: str) -> None:
        self.infos.append(text)

    def print_text(self, parent: Any, title: str, text: str) -> bool:
        self.printed.append(text)
        return True

    def pairing_code(self, parent: Any) -> str | None:
        return self.pairing_codes.pop(0) if self.pairing_codes else None

    def show_pairing(self, parent: Any, code: str) -> None:
        self.pairings.append(code)


def _photos(ident: str) -> list[Path]:
    return sorted((PHOTOS / ident).glob("*.jpg"), key=lambda p: p.name)


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fake webcams: MJPG videos of the shared photos (never copied into the repo)."""
    if not PHOTOS.is_dir():
        pytest.skip(f"shared photos not found at {PHOTOS}")
    import numpy as np

    tmp = tmp_path_factory.mktemp("videos")
    a, b = _photos("id01"), _photos("id02")
    dark = np.full((480, 640, 3), 12, np.uint8)
    out = {}
    for name, items, per in (
        ("enroll_a", [dark, dark, *a[:5]], 1),
        ("probe_a", [dark, *a[5:]], 2),
        ("enroll_b", b[:5], 1),
        ("probe_b", [dark, *b[5:]], 2),
        ("long_a", [dark, *a, dark, *a], 4),  # about 80 frames for the responsiveness test
    ):
        out[name] = tmp / f"{name}.avi"
        make_video(items, out[name], frames_per_image=per)
    return out


@pytest.fixture(scope="session")
def models() -> Any:
    from facevault.services.models import Models

    m = Models()
    m.warm()
    return m


def cheap_policy(*, enroll_want: int = 5, timeout_s: float = 30.0) -> Any:
    """The app's Policy with the test KDF (TEST_PARAMS) and a longer unlock timeout."""
    from facevault.core import kdf
    from facevault.services.policy import EnrollPolicy, KdfPolicy, Policy, UnlockPolicy

    return Policy(enroll=EnrollPolicy(want=enroll_want), unlock=UnlockPolicy(timeout_s=timeout_s),
                  kdf=KdfPolicy(fixed=kdf.TEST_PARAMS))


@pytest.fixture
def ctx(tmp_path: Path, models: Any) -> Any:
    from PySide6.QtCore import QThreadPool

    from facevault.gui.context import AppContext
    from facevault.gui.workers import Tasks
    from facevault.services.secretstore import MemoryStore
    from facevault.services.settings import SettingsStore

    store = MemoryStore()
    pool = QThreadPool()
    pool.setMaxThreadCount(2)
    context = AppContext(
        settings_store=SettingsStore(tmp_path / "config" / "gui.json"),
        models=models,
        tasks=Tasks(pool),
        dialogs=FakeDialogs(),  # type: ignore[arg-type]
        secret_store=lambda: store,
        policy=cheap_policy(),
        cameras=lambda: ["camera:0"],
    )
    yield context
    context.tasks.stop_all(10_000)


@pytest.fixture
def shot():
    """shot(widget, name): save a PNG of the widget to test-artifacts/gui/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(widget: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        assert widget.grab().save(str(path)), path
        return path

    return save


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

