"""Unlock a vault: the camera runs and the vault opens by itself as soon as a face decodes.

After the timeout the page says so and offers "Try again"; "Use recovery code" and "Use
this device" are always there (the latter only when the vault has a device slot).

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from facevault.errors import FaceVaultError, NotRecognisedError
from facevault.gui.context import AppContext
from facevault.gui.enroll_page import heading
from facevault.gui.face_panel import FacePanel
from facevault.gui.dialogs import status_of
from facevault.services import keys, session, vaults

__all__ = ["UnlockPage"]


class UnlockPage(QWidget):
    unlocked = Signal(object)  # OpenVault
    cancelled = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.title = heading("Unlock")
        self.face = FacePanel(ctx)
        self.face.progress.setFormat("%v s left")
        self.retry_button = QPushButton("&Try again")
        self.retry_button.clicked.connect(self.start)
        self.retry_button.hide()
        self.code_button = QPushButton("Use &recovery code")
        self.code_button.clicked.connect(self._show_code_entry)
        self.device_button = QPushButton("Use this &device")
        self.device_button.clicked.connect(self.use_device)
        self.back_button = QPushButton("&Back")
        self.back_button.clicked.connect(self.cancel)

        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.code_edit.setAccessibleName("Recovery code")
        self.code_edit.returnPressed.connect(self.use_code)
        self.code_go = QPushButton("&Unlock")
        self.code_go.clicked.connect(self.use_code)
        self.code_row = QWidget()
        cr = QHBoxLayout(self.code_row)
        cr.setContentsMargins(0, 0, 0, 0)
        code_label = QLabel("Recovery code:")
        code_label.setBuddy(self.code_edit)
        cr.addWidget(code_label)
        cr.addWidget(self.code_edit, 1)
        cr.addWidget(self.code_go)
        self.code_row.hide()

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        for b in (self.retry_button, self.code_button, self.device_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.face, 1)
        layout.addWidget(self.code_row)
        layout.addLayout(buttons)
        self._busy = False

    def open_for(self, path: Path) -> None:
        self.path = Path(path)
        self.title.setText(f"Unlock {self.path.name}")
        self.code_row.hide()
        self.code_edit.clear()
        try:
            kinds = {s.kind for s in vaults.describe_slots(self.path)}
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            self.cancelled.emit()
            return
        self.device_button.setVisible("device" in kinds)
        self.start()

    def start(self) -> None:
        if self.path is None:
            return
        path, ctx = self.path, self.ctx
        self.retry_button.hide()
        self.face.progress.setRange(0, int(ctx.unlock_timeout_s))
        self.face.progress.setValue(int(ctx.unlock_timeout_s))
        self.face.start(
            lambda spec: session.unlock_live(path, spec, pipeline_factory=ctx.models,
                                             timeout_s=ctx.unlock_timeout_s),
            on_progress=self._progress, on_done=self._done, on_error=self._face_failed)
        self.face.setFocus()

    def _progress(self, p: Any) -> None:
        self.face.progress.setValue(int(round(p.seconds_left)))
        if p.observation is not None and p.observation.ok:
            self.face.set_status("Checking your face…" if p.attempts == 0 else
                                 "Still checking — hold still")
        else:
            self.face.set_status(self.face.view.guidance)

    def _done(self, vault: Any) -> None:
        self._busy = False
        self.face.stop()
        assert self.path is not None
        self.ctx.remember_vault(self.path)
        self.code_edit.clear()
        self.unlocked.emit(vault)

    def _face_failed(self, exc: BaseException) -> None:
        self.face.set_status(status_of(exc))
        self.face.view.clear("Not recognised" if isinstance(exc, NotRecognisedError) else "Stopped")
        self.face.progress.setValue(0)
        self.retry_button.show()
        self.retry_button.setFocus()
        if not isinstance(exc, NotRecognisedError):
            self.ctx.dialogs.error(self, exc)

    def _show_code_entry(self) -> None:
        self.code_row.show()
        self.code_edit.setFocus()

    def use_code(self) -> None:
        code = self.code_edit.text().strip()
        if not code or self.path is None or self._busy:
            return
        self._run_offer(keys.Offer(recovery_code=code), "Checking the recovery code…")

    def use_device(self) -> None:
        if self.path is None or self._busy:
            return
        try:
            store = self.ctx.secret_store()
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            return
        self._run_offer(keys.Offer(use_device=True, store=store), "Asking this computer's keyring…")

    def _run_offer(self, offer: keys.Offer, status: str) -> None:
        assert self.path is not None
        path = self.path
        self.face.stop()
        self._busy = True
        self.face.set_status(status)
        self.ctx.tasks.call(lambda: vaults.unlock(path, offer), on_done=self._done,
                            on_error=self._offer_failed)

    def _offer_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.face.set_status(status_of(exc))
        self.retry_button.show()
        if not isinstance(exc, NotRecognisedError):
            self.ctx.dialogs.error(self, exc)

    def cancel(self) -> None:
        self.face.stop()
        self.cancelled.emit()
