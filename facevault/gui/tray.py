"""The tray icon (where the desktop has a system tray): lock now, open a recent vault, show
the window, quit. The menu exists without a tray too (tests drive it), so what it does is
the same everywhere.

May import: PySide6, stdlib, facevault.gui.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

__all__ = ["Tray"]


class Tray(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.menu = QMenu(window)  # owned by the window: deleted with it, never by the GC later
        self.lock_action = QAction("&Lock now", self.menu)
        self.lock_action.triggered.connect(self.lock)
        self.recent_menu = QMenu("Open a &recent vault", self.menu)
        self.show_action = QAction("&Show FaceVault", self.menu)
        self.show_action.triggered.connect(self.show_window)
        self.quit_action = QAction("&Quit", self.menu)
        self.quit_action.triggered.connect(self.quit)
        self.menu.addAction(self.lock_action)
        self.menu.addMenu(self.recent_menu)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu.aboutToShow.connect(self.update)
        self.icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(window.windowIcon(), self)
            self.icon.setToolTip("FaceVault")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()
        self.update()

    def update(self) -> None:
        """Enable what applies now; list the recent vaults."""
        self.lock_action.setEnabled(self.window.vault is not None)
        self.recent_menu.clear()
        for text in self.window.ctx.settings.recent:
            action = self.recent_menu.addAction(Path(text).name)
            action.setToolTip(text)
            action.triggered.connect(lambda _c=False, t=text: self.open_recent(Path(t)))
        self.recent_menu.setEnabled(bool(self.window.ctx.settings.recent))

    def lock(self) -> None:
        if self.window.vault is not None:
            self.window.lock()
        self.update()

    def open_recent(self, path: Path) -> None:
        self.show_window()
        if self.window.vault is not None:
            self.window.lock()
        self.window.open_vault(path)

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        self.window.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.show_window()
