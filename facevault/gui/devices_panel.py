"""The computers that open a vault: a list (this computer first, with the date each was
added and which computer paired it), "Pair another computer…" (face+device vaults: shows a
one-time code and its QR image on screen, written to disk only if asked) and "Remove…"
(a new epoch the removed computer cannot open). The other computer pairs itself from its
unlock page ("Pair this computer…", unlock_page.py).

May import: PySide6, stdlib, qrcode, numpy, facevault.services, facevault.core (kinds,
modes), facevault.errors, facevault.gui.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
    QWidget,
)

from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.errors import FaceVaultError, UsageError
from facevault.gui.context import AppContext
from facevault.gui.dialogs import save_secret
from facevault.services import devices

__all__ = ["DevicesPanel", "PairingDialog", "qr_image"]


def qr_image(text: str, scale: int = 6) -> QImage:
    """The QR code of `text` as an image (drawn here from the code's modules: no file)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    import numpy as np

    # one byte per pixel from the code's modules (QImage.setPixel in a loop trips a
    # reference-count bug of PySide6 6.12; a buffer copy does not)
    modules = np.asarray(qr.get_matrix(), dtype=bool)
    pixels = np.where(np.kron(modules, np.ones((scale, scale), dtype=bool)), 0, 255).astype(np.uint8)
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape
    return QImage(pixels.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).copy()


class PairingDialog(QDialog):
    """The one-time pairing code, as text and as a QR image; saved only if asked."""

    def __init__(self, dialogs: Any, code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dialogs = dialogs  # gui.dialogs.Dialogs: the save-file and error dialogs
        self.code = code
        self.setWindowTitle("Pair another computer")
        intro = QLabel(
            "On the other computer, open this vault folder in FaceVault (synced or copied "
            "there), choose \u201cPair this computer…\u201d, type or paste this code and look at "
            "the camera. The code works once. Together with your face it opens the vault, so "
            "keep it private; it is not saved anywhere unless you save it.")
        intro.setWordWrap(True)
        self.code_label = QLabel(code)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        mono.setBold(True)
        self.code_label.setFont(mono)
        self.code_label.setWordWrap(True)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAccessibleName("Pairing code")
        self.qr = QLabel()
        self.qr.setPixmap(QPixmap.fromImage(qr_image(code)))
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setAccessibleName("Pairing code as a QR image")
        self.feedback = QLabel(" ")
        self.feedback.setWordWrap(True)
        copy = QPushButton("&Copy")
        copy.clicked.connect(self.copy)
        save = QPushButton("&Save to a file…")
        save.clicked.connect(self.save)
        done = QPushButton("&Done")
        done.setDefault(True)
        done.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(copy)
        buttons.addWidget(save)
        buttons.addStretch(1)
        buttons.addWidget(done)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.code_label)
        layout.addWidget(self.qr)
        layout.addWidget(self.feedback)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)
        self.feedback.setText("Copied. Clear your clipboard once the other computer has it.")

    def save(self) -> None:
        target = save_secret(self.dialogs, self, "Save the pairing code", "facevault-pairing-code.txt",
                             self.code)
        if target is None:
            return
        self.feedback.setText(f"Saved to {target} (only you can read it). Delete it once used.")


def _when(seconds: float | None) -> str:
    return time.strftime("%d %b %Y", time.localtime(seconds)) if seconds else "an unknown date"


class DevicesPanel(QGroupBox):
    """The list of computers of the open vault and what can be done with them."""

    def __init__(self, ctx: AppContext, on_changed: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("Computers", parent)
        self.ctx = ctx
        self.vault: Any = None
        self.mode: Mode | None = None
        self._on_changed = on_changed
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Computers that open this vault")
        self.list.setMaximumHeight(100)
        self.list.currentRowChanged.connect(lambda _r: self._update_buttons())
        self.pair_button = QPushButton("&Pair another computer…")
        self.pair_button.setAccessibleName("Pair another computer")
        self.pair_button.clicked.connect(self.pair)
        self.remove_button = QPushButton("Re&move the selected computer…")
        self.remove_button.setAccessibleName("Remove the selected computer")
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(self.pair_button)
        row.addStretch(1)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.infos: list[devices.DeviceInfo] = []

    def show_vault(self, vault: Any, mode: Mode | None) -> None:
        self.vault, self.mode = vault, mode
        self.refresh()

    def _store(self) -> Any:
        try:
            return self.ctx.secret_store()
        except FaceVaultError:
            return None

    def refresh(self) -> None:
        self.list.clear()
        self.infos = devices.list_devices(self.vault, self._store()) if self.vault is not None else []
        for info in self.infos:
            who = "This computer" if info.here else f"Another computer (slot {info.slot_id[:8]})"
            how = "with your face" if info.kind is Kind.FACE_DEVICE else "by itself, without a face"
            by = f" by {info.added_by}" if info.added_by and not info.here else ""
            item = QListWidgetItem(f"{who}: opens it {how}; added {_when(info.added)}{by}")
            item.setData(Qt.ItemDataRole.UserRole, info.slot_id)
            self.list.addItem(item)
        pairs = self.mode is Mode.FACE_DEVICE
        self.note.setText(
            "These computers can open the vault with your face; no other can, even with a copy "
            "of the folder." if pairs else
            "Computers that open this vault without a face (see the option above)." if self.infos
            else "No computer opens this vault by itself; your face or the recovery code does.")
        self.pair_button.setVisible(pairs)
        self.list.setVisible(bool(self.infos))
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setVisible(bool(self.infos))
        self.remove_button.setEnabled(self.list.currentRow() >= 0)

    def pair(self) -> None:
        face = self.ctx.session_face
        if self.vault is None:
            return
        if face is None:
            self.ctx.dialogs.error(self, UsageError(
                "pairing needs the face that opened the vault",
                hint="Lock the vault and open it again with your face, then pair."))
            return
        vault = self.vault

        def done(code: str) -> None:
            self._on_changed("Paired: the code works once, on the other computer.")
            self.refresh()
            self.ctx.dialogs.show_pairing(self, code)

        self.ctx.tasks.call(lambda: devices.pair_device(vault, face), on_done=done,
                            on_error=lambda exc: self.ctx.dialogs.error(self, exc))

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if self.vault is None or not 0 <= row < len(self.infos):
            return
        info = self.infos[row]
        what = "this computer" if info.here else f"the computer of slot {info.slot_id[:8]}"
        if not self.ctx.dialogs.confirm(
                self, "Remove a computer?",
                f"Remove {what}? It will not open anything written from now on (a new epoch "
                "under a new key); what it already copied stays readable to it."):
            return
        vault, store = self.vault, self._store()

        def work() -> int:
            return devices.remove_device(vault, slot_id=info.slot_id, store=store if info.here else None)

        def done(_n: int) -> None:
            self._on_changed(f"Removed {what}: it opens nothing written from now on.")
            self.refresh()

        self.ctx.tasks.call(work, on_done=done, on_error=lambda exc: self.ctx.dialogs.error(self, exc))
