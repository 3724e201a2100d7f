"""What the desktop app shows of a vault that a sync tool keeps changing: a debounced watcher
of the vault folder (the browser refreshes by itself when files arrive from another
computer), and a banner for what the person must know (conflict copies, a folder this
computer refuses, keys that changed elsewhere) with the one action that helps.

May import: PySide6, stdlib, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

__all__ = ["FolderWatcher", "Banner", "WATCHED_DIRS"]

WATCHED_DIRS = ("headers", "journal", "snapshots")
"""Where another computer's changes arrive (objects/ only matters with its journal)."""


class FolderWatcher(QObject):
    """Emits `changed` once things settle (`delay_ms` after the last change seen) when the
    vault's headers, journals or snapshots change on disk."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None, delay_ms: int = 600) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._settled)
        self._watcher.directoryChanged.connect(self._poke)
        self._watcher.fileChanged.connect(self._poke)
        self.root: Path | None = None

    def watch(self, root: Path) -> None:
        self.stop()
        self.root = Path(root)
        self._rewatch()

    def stop(self) -> None:
        self._timer.stop()
        for paths in (self._watcher.files(), self._watcher.directories()):
            if paths:
                self._watcher.removePaths(paths)
        self.root = None

    def _rewatch(self) -> None:
        """Directories for files that come and go (a sync tool renames files into place),
        and the journals themselves (another FaceVault process here appends in place)."""
        if self.root is None:
            return
        wanted = [self.root] + [self.root / d for d in WATCHED_DIRS if (self.root / d).is_dir()]
        journal = self.root / "journal"
        if journal.is_dir():
            wanted += sorted(journal.glob("*.fvj"))
        have = set(self._watcher.files()) | set(self._watcher.directories())
        new = [str(p) for p in wanted if str(p) not in have]
        if new:
            self._watcher.addPaths(new)

    def _poke(self, _path: str) -> None:
        self._timer.start()  # restarts: many files of one sync make one refresh

    def _settled(self) -> None:
        self._rewatch()
        self.changed.emit()


class Banner(QFrame):
    """A strip above the content: a message and, when there is one, the action for it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#banner { background: palette(alternate-base); border: 1px solid palette(mid); "
                           "border-radius: 4px; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.hide()
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._action: Callable[[], None] | None = None
        self.button.clicked.connect(self._clicked)
        self.hide()

    def show_message(self, text: str, action: str | None = None,
                     on_action: Callable[[], None] | None = None) -> None:
        self.label.setText(text)
        self._action = on_action
        self.button.setVisible(action is not None)
        if action is not None:
            self.button.setText(action)
        self.show()

    def clear(self) -> None:
        self._action = None
        self.hide()

    def _clicked(self) -> None:
        if self._action is not None:
            self._action()
