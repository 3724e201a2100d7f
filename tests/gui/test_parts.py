"""Small parts without the models: the generator worker (stop flag, sync pool), the
entries table model and its filter, the settings store, the recovery-code confirm step,
and the live unlock loop with a fake pipeline."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt, QThreadPool

from facevault.errors import NotRecognisedError
from facevault.gui.entries_model import EntriesModel, human_size
from facevault.gui.recovery_panel import RecoveryCodePanel
from facevault.gui.workers import SyncPool, Tasks
from facevault.services.settings import Settings, SettingsStore


def test_sync_pool_runs_generators_in_order() -> None:
    got, done = [], []

    def gen():
        yield 1
        yield 2
        return "end"

    Tasks(SyncPool()).run(gen, on_yield=got.append, on_done=done.append)
    assert got == [1, 2] and done == ["end"]


def test_errors_reach_the_error_callback() -> None:
    errors = []

    def gen():
        yield 1
        raise NotRecognisedError("no", hint="h")

    Tasks(SyncPool()).run(gen, on_error=errors.append)
    assert isinstance(errors[0], NotRecognisedError)


def test_stop_closes_the_generator_between_yields(qtbot) -> None:
    closed = threading.Event()
    started = threading.Event()
    seen, done = [], []

    def gen():
        try:
            while True:
                started.set()
                yield len(seen)
                threading.Event().wait(0.005)
        finally:
            closed.set()

    pool = QThreadPool()
    tasks = Tasks(pool)
    task = tasks.run(gen, on_yield=seen.append, on_done=done.append, latest_only=True)
    assert started.wait(5)
    task.stop()
    assert closed.wait(5) and task.wait(5)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert done == []  # nothing is reported after stop


def test_latest_only_never_queues_more_than_one_value(qtbot) -> None:
    seen: list[int] = []
    finished = []

    def gen():
        for i in range(2000):
            yield i
        return "ok"

    tasks = Tasks(QThreadPool())
    tasks.run(gen, on_yield=seen.append, on_done=finished.append, latest_only=True)
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert seen == sorted(seen) and len(seen) < 2000


@dataclass
class _E:
    name: str
    size: int
    mtime: float


def test_entries_model_and_filter(qtmodeltester) -> None:
    model = EntriesModel()
    model.set_entries([_E("b.txt", 2048, 0.0), _E("A.pdf", 10, 1e9), _E("notes.md", 5 << 20, 2e9)])
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.columnCount() == 3
    assert model.index(0, 1).data() == "2.0 KB"
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(Qt.ItemDataRole.UserRole)
    proxy.sort(0)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["A.pdf", "b.txt", "notes.md"]
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterFixedString("TXT")
    assert proxy.rowCount() == 1
    assert human_size(5) == "5 bytes" and human_size(3 << 30) == "3.0 GB"


def test_settings_store_round_trip_and_garbage(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "c" / "gui.json")
    assert store.load() == Settings()
    s = Settings(camera="camera:2", auto_lock_minutes=9).with_recent("/a").with_recent("/b")
    s = s.with_recent("/a")
    store.save(s)
    loaded = store.load()
    assert loaded.recent == ("/a", "/b") and loaded.camera == "camera:2" and loaded.auto_lock_minutes == 9
    store.path.write_text("{not json")
    assert store.load() == Settings()
    store.path.write_text('{"auto_lock_minutes": -3, "recent": "x"}')
    assert store.load() == Settings()


def test_recovery_confirm_needs_the_right_groups(qtbot, ctx) -> None:
    panel = RecoveryCodePanel(ctx)
    qtbot.addWidget(panel)
    panel.show_code("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF", "code:")
    panel.next_button.click()
    a, b = panel.asked
    panel.first.setText(panel.groups[a].lower())
    panel.second.setText(panel.groups[(b + 1) % 6] if (b + 1) % 6 != a else "ZZZZZ")
    assert not panel.done_button.isEnabled()
    panel.second.setText(panel.groups[b])
    with qtbot.waitSignal(panel.confirmed, timeout=1000):
        panel.done_button.click()
    assert panel._code == ""  # forgotten after confirming


class _Obs:
    def __init__(self, emb: np.ndarray | None) -> None:
        self.ok = emb is not None
        self.embedding = emb
        self.code = None if self.ok else "no_face"
        self.reason = None if self.ok else "No face found."
        self.origin = "x"
        self.box = None
        self.landmarks = None


class _Pipeline:
    """Returns the same embedding for every frame (a 'person' with a fixed face)."""

    def __init__(self, emb: np.ndarray) -> None:
        self.emb = emb

    def process(self, frame) -> _Obs:
        return _Obs(self.emb)

    def close(self) -> None:
        pass


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(512).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def photo_dir(tmp_path: Path) -> str:
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((64, 64, 3), 100, np.uint8))
    return str(folder)


def test_unlock_live_opens_for_the_enrolled_face_and_refuses_another(tmp_path, photo_dir) -> None:
    from facevault.core import kdf
    from facevault.services.capture import CaptureParts
    from facevault.services.enroll import create_vault
    from facevault.services.progress import drive
    from facevault.services.unlock import LockedVault, live_unlock

    me = _unit(1)
    create_vault(tmp_path / "v", me, kdf=kdf.TEST_PARAMS).vault.close()
    seen: list = []
    locked = LockedVault.read(tmp_path / "v")
    opened = drive(live_unlock(locked, photo_dir, parts=CaptureParts(pipelines=lambda v: _Pipeline(me))),
                   seen.append)
    assert opened.vault.entries() == [] and len(seen) == 3 and seen[-1].rgb is not None
    with pytest.raises(NotRecognisedError):
        drive(live_unlock(locked, photo_dir, parts=CaptureParts(pipelines=lambda v: _Pipeline(_unit(2)))))
