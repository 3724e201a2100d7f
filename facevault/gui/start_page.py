"""The first screen: recent vaults (open one, or remove it from the list: the folder stays),
open another, create a new one, single-file actions.

May import: PySide6, stdlib, facevault.gui.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from facevault.gui.context import AppContext
from facevault.services.unlock import is_vault_folder

__all__ = ["StartPage"]


class StartPage(QWidget):
    open_vault = Signal(Path)
    browse_vault = Signal()
    create_vault = Signal()
    encrypt_file = Signal()
    decrypt_file = Signal()
    cloak_photos = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        title = QLabel("FaceVault")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("An encrypted folder that opens when it sees your face.")
        self.recent = QListWidget()
        self.recent.setAccessibleName("Recent vaults")
        self.recent.itemActivated.connect(self._activated)
        recent_label = QLabel("&Recent vaults")
        recent_label.setBuddy(self.recent)
        self.empty_hint = QLabel("No recent vaults yet. Create one, or open a vault folder.")
        self.open_button = QPushButton("&Open")
        self.open_button.clicked.connect(self._open_selected)
        self.remove_button = QPushButton("Re&move from the list")
        self.remove_button.setToolTip("Forget this vault here; its folder and files are not touched")
        self.remove_button.clicked.connect(self.remove_selected)
        self.recent.installEventFilter(self)  # Delete on the list removes the selected one
        self.browse_button = QPushButton("Open a vault &folder…")
        self.browse_button.clicked.connect(self.browse_vault)
        self.create_button = QPushButton("Create a &new vault…")
        self.create_button.clicked.connect(self.create_vault)
        self.encrypt_button = QPushButton("&Encrypt a single file…")
        self.encrypt_button.clicked.connect(self.encrypt_file)
        self.decrypt_button = QPushButton("&Decrypt a single file…")
        self.decrypt_button.clicked.connect(self.decrypt_file)
        self.cloak_button = QPushButton("Cloak &photos before sharing…")
        self.cloak_button.setToolTip("Hide the faces in photos from face recognition; copies are saved beside them")
        self.cloak_button.clicked.connect(self.cloak_photos)
        self.models_status = QLabel("Loading the face models in the background…")
        self.models_status.setAccessibleName("Face models status")
        drop_hint = QLabel("Tip: drop a file on this window to encrypt it, or drop a .fvf file to decrypt it.")
        drop_hint.setWordWrap(True)

        side = QVBoxLayout()
        for b in (self.create_button, self.browse_button, self.encrypt_button, self.decrypt_button,
                  self.cloak_button):
            side.addWidget(b)
        side.addStretch(1)
        lists = QVBoxLayout()
        lists.addWidget(recent_label)
        lists.addWidget(self.recent, 1)
        lists.addWidget(self.empty_hint)
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        lists.addLayout(row)
        body = QHBoxLayout()
        body.addLayout(lists, 2)
        body.addSpacing(16)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(12)
        layout.addLayout(body, 1)
        layout.addWidget(drop_hint)
        layout.addWidget(self.models_status)
        self.setTabOrder(self.recent, self.remove_button)
        self.setTabOrder(self.remove_button, self.open_button)
        self.setTabOrder(self.open_button, self.create_button)
        self.setTabOrder(self.create_button, self.browse_button)
        self.setTabOrder(self.browse_button, self.encrypt_button)
        self.setTabOrder(self.encrypt_button, self.decrypt_button)
        self.setTabOrder(self.decrypt_button, self.cloak_button)
        self.refresh()

    def refresh(self) -> None:
        self.recent.clear()
        for text in self.ctx.settings.recent:
            path = Path(text)
            present = is_vault_folder(path)
            item = QListWidgetItem(f"{path.name}\n{path.parent}" + ("" if present else "  (not found)"))
            item.setData(Qt.ItemDataRole.UserRole, text)
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole + 1, present)
            if not present:  # still selectable, so it can be removed from the list
                item.setForeground(self.palette().color(self.palette().ColorGroup.Disabled,
                                                        self.palette().ColorRole.Text))
            self.recent.addItem(item)
        has = self.recent.count() > 0
        self.empty_hint.setVisible(not has)
        self.open_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        if has:
            self.recent.setCurrentRow(0)

    def set_models_status(self, text: str) -> None:
        self.models_status.setText(text)

    def _activated(self, item: QListWidgetItem) -> None:
        if item.data(Qt.ItemDataRole.UserRole + 1):
            self.open_vault.emit(Path(item.data(Qt.ItemDataRole.UserRole)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (watched is self.recent and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)):
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    def remove_selected(self) -> None:
        """Forget the selected vault here (the folder and its files are not touched)."""
        item = self.recent.currentItem()
        if item is None:
            return
        row = self.recent.currentRow()
        self.ctx.forget_vault(Path(item.data(Qt.ItemDataRole.UserRole)))
        self.refresh()
        if self.recent.count():
            self.recent.setCurrentRow(min(row, self.recent.count() - 1))

    def _open_selected(self) -> None:
        item = self.recent.currentItem()
        if item is not None:
            self._activated(item)

    def focus_first(self) -> None:
        (self.recent if self.recent.count() else self.create_button).setFocus()
