"""Security of an unlocked vault: re-enroll the face (revoking the old template), the key
slots (new recovery code, this device on/off), the preset for the next enrollment and the
auto-lock delay.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
    QScrollArea, QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.errors import FaceVaultError
from facevault.gui.context import AppContext
from facevault.gui.enroll_page import heading
from facevault.gui.face_panel import FacePanel
from facevault.gui.recovery_panel import RecoveryCodePanel
from facevault.services import session, vaults

__all__ = ["SecurityPage"]

REENROLL_TEXT = (
    "Re-enrolling captures your face again and destroys the old face key slot, so the face "
    "as it was enrolled before no longer opens this vault. Do it when your appearance "
    "changed, when unlocking often fails, or when you think someone copied the vault.\n\n"
    "A copy of the vault made before re-enrolling still opens with the old face, unless you "
    "also re-encrypt every file under a new key (slower; you get a new recovery code).")


class SecurityPage(QWidget):
    back = Signal()
    auto_lock_changed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vault: Any = None
        self._busy = False
        self.title = heading("Security")
        self.stack = QStackedWidget()

        # overview
        overview = QWidget()
        face_box = QGroupBox("Your face")
        explain = QLabel(REENROLL_TEXT)
        explain.setWordWrap(True)
        self.rotate = QCheckBox("Also re-encrypt every file under a new key")
        self.preset = QComboBox()
        for info in session.presets():
            self.preset.addItem(f"{info.name} ({info.bits:.0f}-bit face key)", info.name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(ctx.settings.preset)))
        self.preset.activated.connect(lambda _i: ctx.update_settings(preset=self.preset.currentData()))
        self.reenroll_button = QPushButton("&Re-enroll my face…")
        self.reenroll_button.clicked.connect(self.start_reenroll)
        fl = QFormLayout(face_box)
        fl.addRow(explain)
        preset_label = QLabel("Security &preset:")
        preset_label.setBuddy(self.preset)
        fl.addRow(preset_label, self.preset)
        fl.addRow(self.rotate)
        fl.addRow(self.reenroll_button)

        keys_box = QGroupBox("Other ways in")
        self.slots = QListWidget()
        self.slots.setAccessibleName("Key slots")
        self.slots.setMaximumHeight(110)
        self.recovery_button = QPushButton("Make a new re&covery code…")
        self.recovery_button.clicked.connect(self.regenerate_recovery)
        self.device = QCheckBox("Let this &computer open the vault without a face (OS keyring)")
        self.device.clicked.connect(self.toggle_device)
        kl = QVBoxLayout(keys_box)
        kl.addWidget(QLabel("Key slots of this vault:"))
        kl.addWidget(self.slots)
        kl.addWidget(self.recovery_button)
        kl.addWidget(self.device)

        lock_box = QGroupBox("Locking")
        self.auto_lock = QSpinBox()
        self.auto_lock.setRange(0, 24 * 60)
        self.auto_lock.setSuffix(" min")
        self.auto_lock.setSpecialValueText("never")
        self.auto_lock.setValue(ctx.settings.auto_lock_minutes)
        self.auto_lock.valueChanged.connect(self._auto_lock_changed)
        ll = QFormLayout(lock_box)
        al = QLabel("&Lock after this long without use:")
        al.setBuddy(self.auto_lock)
        ll.addRow(al, self.auto_lock)

        self.back_button = QPushButton("&Back to the files")
        self.back_button.clicked.connect(self.back)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        inner = QWidget()
        ov = QVBoxLayout(inner)
        for w in (face_box, keys_box, lock_box):
            ov.addWidget(w)
        ov.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        o = QVBoxLayout(overview)
        o.setContentsMargins(0, 0, 0, 0)
        o.addWidget(scroll, 1)
        o.addWidget(self.status)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        o.addLayout(row)

        # re-enroll capture
        capture = QWidget()
        self.face = FacePanel(ctx)
        self.face.progress.setRange(0, ctx.enroll_want)
        self.face.progress.setFormat("%v of %m good pictures")
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self._cancel_capture)
        c = QVBoxLayout(capture)
        c.addWidget(QLabel("Look at the camera and turn your head slightly from side to side."))
        c.addWidget(self.face, 1)
        c.addWidget(cancel)

        # new recovery code
        self.code = RecoveryCodePanel(ctx)
        self.code.confirmed.connect(self._code_confirmed)

        for w in (overview, capture, self.code):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

    def show_vault(self, vault: Any) -> None:
        self.vault = vault
        self.title.setText(f"Security of {Path(vault.path).name}")
        self.stack.setCurrentIndex(0)
        self.status.setText(" ")
        self.refresh()
        self.reenroll_button.setFocus()

    def refresh(self) -> None:
        self.slots.clear()
        if self.vault is None:
            return
        infos = vaults.describe_slots(self.vault.path)
        names = {"face": "Face", "recovery": "Recovery code", "device": "A computer's keyring"}
        for info in infos:
            self.slots.addItem(f"{names.get(info.kind, info.kind)} — {info.detail}")
        self.device.setChecked(self._this_device_enabled(infos))

    def _this_device_enabled(self, infos: list[Any]) -> bool:
        if self.vault is None or not any(i.kind == "device" for i in infos):
            return False
        try:
            return session.device_enabled_here(self.vault.path, self.ctx.secret_store())
        except FaceVaultError:
            return False

    def _auto_lock_changed(self, minutes: int) -> None:
        self.ctx.update_settings(auto_lock_minutes=minutes)
        self.auto_lock_changed.emit(minutes)

    # -- re-enroll -----------------------------------------------------------------------

    def start_reenroll(self) -> None:
        if self.vault is None or self._busy:
            return
        vault, ctx = self.vault, self.ctx
        rotate = self.rotate.isChecked()
        preset = self.preset.currentData()
        store = None
        if rotate:
            try:
                store = ctx.secret_store()
            except FaceVaultError:
                store = None

        def work(spec: str) -> Generator[Any, None, Any]:
            template = yield from session.capture_template(
                spec, pipeline_factory=ctx.models, want=ctx.enroll_want)
            yield "Sealing the new face key…"
            code = None
            for item in vaults.reenroll(vault, template, rotate_key=rotate, preset=preset,
                                        device_store=store):
                if isinstance(item, str):
                    code = item
                else:
                    yield f"Re-encrypting: {item.done * 100 // max(item.total, 1)}%"
            return code

        self.stack.setCurrentIndex(1)
        self.face.progress.setValue(0)
        self.face.start(work, on_progress=self._progress, on_done=self._reenrolled,
                        on_error=self._failed)

    def _progress(self, value: Any) -> None:
        if isinstance(value, str):
            self.face.set_status(value)
            return
        self.face.progress.setValue(min(value.good, value.want))
        self.face.set_status(f"{value.good} of {value.want} good pictures")

    def _reenrolled(self, code: str | None) -> None:
        self.refresh()
        if code:
            self.stack.setCurrentIndex(2)
            self.code.show_code(code, "Your face is enrolled again and every file was re-encrypted. "
                                "The old recovery code no longer works; this is the new one:")
            return
        self.stack.setCurrentIndex(0)
        self.status.setText("Done: your new face is enrolled and the old face template is destroyed.")

    def _failed(self, exc: BaseException) -> None:
        self.stack.setCurrentIndex(0)
        self.status.setText("Re-enrolling did not finish; the vault still opens as before.")
        self.ctx.dialogs.error(self, exc)

    def _cancel_capture(self) -> None:
        self.face.stop()
        self.stack.setCurrentIndex(0)
        self.status.setText("Cancelled; nothing changed.")

    # -- slots ---------------------------------------------------------------------------

    def regenerate_recovery(self) -> None:
        if self.vault is None or self._busy:
            return
        if not self.ctx.dialogs.confirm(self, "New recovery code",
                                        "Make a new recovery code? The old one stops working."):
            return
        vault = self.vault
        self._busy = True
        self.status.setText("Making a new recovery code…")

        def done(code: str) -> None:
            self._busy = False
            self.refresh()
            self.stack.setCurrentIndex(2)
            self.code.show_code(code, "The old recovery code no longer works. This is the new one:")

        self.ctx.tasks.call(lambda: vaults.regenerate_recovery(vault), on_done=done,
                            on_error=self._slot_failed)

    def toggle_device(self, on: bool) -> None:
        if self.vault is None or self._busy:
            return
        try:
            store = self.ctx.secret_store()
        except FaceVaultError as exc:
            self.device.setChecked(not on)
            self.ctx.dialogs.error(self, exc)
            return
        vault = self.vault
        self._busy = True
        self.status.setText("Updating this computer's key…")

        def done(_r: Any) -> None:
            self._busy = False
            self.refresh()
            self.status.setText("This computer can now open the vault without a face." if on else
                                "This computer can no longer open the vault without a face.")

        if on:
            self.ctx.tasks.call(lambda: vaults.enable_device(vault, store), on_done=done,
                                on_error=self._slot_failed)
        else:
            self.ctx.tasks.call(lambda: vaults.disable_device(vault, store), on_done=done,
                                on_error=self._slot_failed)

    def _slot_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.refresh()
        self.status.setText("Nothing changed.")
        self.ctx.dialogs.error(self, exc)

    def _code_confirmed(self) -> None:
        self.stack.setCurrentIndex(0)
        self.status.setText("The new recovery code is in place.")
