"""Security of an unlocked vault: how it opens (its mode, what an attacker with a copy of
the folder could do, in plain words from services.threat, and changing the mode),
re-enroll the face (revoking the old template), the key slots (new recovery code, this
device on/off), the liveness check and the auto-lock delay.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
    QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.errors import FaceVaultError
from facevault.gui.devices_panel import DevicesPanel
from facevault.gui.context import AppContext
from facevault.gui.dialogs import status_of
from facevault.gui.enroll_page import heading
from facevault.gui.face_panel import FacePanel
from facevault.gui.fit_scroll import FitScroll, explain_text
from facevault.gui.recovery_panel import RecoveryCodePanel
from facevault.services import threat
from facevault.services.devices import disable_device, enable_device
from facevault.services.inspect import SlotInfo, describe_slots, explain
from facevault.services.models import presets
from facevault.services.modes import change_mode, reenroll
from facevault.services.progress import ByteProgress, FrameProgress, Progress, Stage, StageProgress
from facevault.services.recovery import regenerate_recovery
from facevault.services.unlock import LockedVault

__all__ = ["SecurityPage"]

REENROLL_TEXT = (
    "Re-enrolling captures your face again and destroys the old face key slot, so the face "
    "as it was enrolled before no longer opens this vault. Do it when your appearance "
    "changed, when unlocking often fails, or when you think someone copied the vault.\n\n"
    "Re-enrolling starts a new epoch under a new key: a copy of the vault made before still "
    "opens with the old face, but nothing written afterwards. Re-encrypting every file as well "
    "(slower) moves the files already stored to the new key, so that old copy cannot read "
    "them from this folder either.")


class SecurityPage(QWidget):
    back = Signal()
    auto_lock_changed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vault: Any = None
        self.mode: Mode | None = Mode.FACE
        self._busy = False
        self._done_text = ""
        self.title = heading("Security")
        self.stack = QStackedWidget()

        # overview
        overview = QWidget()
        mode_box = QGroupBox("How this vault opens")
        self.mode_title = QLabel()
        font = self.mode_title.font()
        font.setBold(True)
        self.mode_title.setFont(font)
        self.explain = QLabel("Working out what an attacker could do…")
        self.explain.setWordWrap(True)
        self.explain.setTextFormat(Qt.TextFormat.PlainText)
        self.explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explain.setAccessibleName("What an attacker could do")
        self.new_mode = QComboBox()
        for mode in Mode:
            self.new_mode.addItem(mode.title, mode)
            self.new_mode.setItemData(self.new_mode.count() - 1, mode.sentence, Qt.ItemDataRole.ToolTipRole)
        self.new_mode.currentIndexChanged.connect(lambda _i: self._update_mode_button())
        self.mode_sentence = QLabel()
        self.mode_sentence.setWordWrap(True)
        self.mode_button = QPushButton("C&hange…")
        self.mode_button.clicked.connect(self.start_change_mode)
        mode_row = QHBoxLayout()
        mode_label_ = QLabel("Change &to:")
        mode_label_.setBuddy(self.new_mode)
        mode_row.addWidget(mode_label_)
        mode_row.addWidget(self.new_mode, 1)
        mode_row.addWidget(self.mode_button)
        ml = QVBoxLayout(mode_box)
        ml.addWidget(self.mode_title)
        ml.addWidget(self.explain)
        ml.addLayout(mode_row)
        ml.addWidget(self.mode_sentence)

        face_box = QGroupBox("Your face")
        explain = QLabel(REENROLL_TEXT)
        explain.setWordWrap(True)
        self.rotate = QCheckBox("Also re-encrypt every file under a new key")
        self.preset = QComboBox()
        for info in presets():
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
        self.device_note = QLabel("In a two-factor mode no computer opens the vault without your face.")
        self.device_note.setWordWrap(True)
        kl = QVBoxLayout(keys_box)
        kl.addWidget(QLabel("Key slots of this vault:"))
        kl.addWidget(self.slots)
        kl.addWidget(self.recovery_button)
        kl.addWidget(self.device)
        kl.addWidget(self.device_note)

        lock_box = QGroupBox("Unlocking and locking")
        self.liveness = QCheckBox("Ask for a &blink and a head turn before the camera unlocks (recommended)")
        self.liveness.setChecked(ctx.settings.liveness)
        self.liveness.setToolTip("Stops a printed photo or a still picture on a phone from opening "
                                 "the vault. A good video replay can still pass.")
        self.liveness.toggled.connect(self._liveness_changed)
        self.auto_lock = QSpinBox()
        self.auto_lock.setRange(0, 24 * 60)
        self.auto_lock.setSuffix(" min")
        self.auto_lock.setSpecialValueText("never")
        self.auto_lock.setValue(ctx.settings.auto_lock_minutes)
        self.auto_lock.valueChanged.connect(self._auto_lock_changed)
        ll = QFormLayout(lock_box)
        ll.addRow(self.liveness)
        al = QLabel("&Lock after this long without use:")
        al.setBuddy(self.auto_lock)
        ll.addRow(al, self.auto_lock)

        self.back_button = QPushButton("&Back to the files")
        self.back_button.clicked.connect(self.back)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        inner = QWidget()
        ov = QVBoxLayout(inner)
        self.devices = DevicesPanel(ctx, self.status.setText)
        for w in (mode_box, face_box, keys_box, self.devices, lock_box):
            ov.addWidget(w)
        ov.addStretch(1)
        self.scroll_area = FitScroll()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        o = QVBoxLayout(overview)
        o.setContentsMargins(0, 0, 0, 0)
        o.addWidget(self.scroll_area, 1)
        o.addWidget(self.status)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        o.addLayout(row)

        # capture for re-enroll and mode changes
        capture = QWidget()
        self.face = FacePanel(ctx)
        self.face.expect_enrollment()
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self._cancel_capture)
        self.capture_title = QLabel("Look at the camera and turn your head slightly from side to side.")
        self.capture_title.setWordWrap(True)
        c = QVBoxLayout(capture)
        c.addWidget(self.capture_title)
        c.addWidget(self.face, 1)
        c.addWidget(cancel)

        # new recovery code
        self.code = RecoveryCodePanel(ctx)
        self.code.confirmed.connect(self._code_confirmed)

        for page in (overview, capture, self.code):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        order = [self.new_mode, self.mode_button, self.preset, self.rotate, self.reenroll_button,
                 self.slots, self.recovery_button, self.device, self.liveness, self.auto_lock,
                 self.back_button]
        for a, b in zip(order, order[1:]):
            self.setTabOrder(a, b)

    def show_vault(self, vault: Any) -> None:
        self.vault = vault
        self.title.setText(f"Security of {Path(vault.path).name}")
        self.stack.setCurrentIndex(0)
        self.status.setText(" ")
        self.liveness.setChecked(self.ctx.settings.liveness)
        self.refresh()
        self.reenroll_button.setFocus()

    def refresh(self) -> None:
        self.slots.clear()
        if self.vault is None:
            return
        path = self.vault.path
        locked = LockedVault.of_open(self.vault)  # the open vault's own header
        infos = describe_slots(locked)
        self.mode = locked.mode
        for info in infos:
            self.slots.addItem(f"{info.title} — {info.detail}")
        self.device.setChecked(self._this_device_enabled(locked, infos))
        self.device.setVisible(self.mode is Mode.FACE)
        self.device_note.setVisible(self.mode is not Mode.FACE)
        self.devices.show_vault(self.vault, self.mode)
        self.mode_title.setText(f"Mode: {self.mode.title if self.mode is not None else 'none'}")
        self.new_mode.setCurrentIndex(max(0, self.new_mode.findData(self.mode)))
        self._update_mode_button()
        self.explain.setText("Working out what an attacker could do…")
        self.scroll_area.fit()
        self.ctx.tasks.call(lambda: explain_text(threat.describe(explain(locked))),
                            on_done=lambda text: self._explained(path, text),
                            on_error=lambda exc: self._explained(path, status_of(exc)))

    def _explained(self, path: Path, text: str) -> None:
        if self.vault is not None and Path(self.vault.path) == Path(path):
            self.explain.setText(text)
            self.scroll_area.fit()

    def _update_mode_button(self) -> None:
        target = self.new_mode.currentData()
        same = target is self.mode
        self.mode_button.setText("New &passphrase…" if same and target is Mode.FACE_PASSPHRASE
                                 else "C&hange…")
        self.mode_button.setEnabled(not same or target is Mode.FACE_PASSPHRASE)
        self.mode_sentence.setText(target.sentence if isinstance(target, Mode) else "")

    def _this_device_enabled(self, locked: LockedVault, infos: list[SlotInfo]) -> bool:
        if self.vault is None or not any(i.kind is Kind.DEVICE for i in infos):
            return False
        try:
            return locked.device_enabled_here(self.ctx.secret_store())
        except FaceVaultError:
            return False

    def _auto_lock_changed(self, minutes: int) -> None:
        self.ctx.update_settings(auto_lock_minutes=minutes)
        self.auto_lock_changed.emit(minutes)

    def _liveness_changed(self, on: bool) -> None:
        if on != self.ctx.settings.liveness:
            self.ctx.update_settings(liveness=on)
            self.status.setText("The camera asks for a blink and a head turn before unlocking." if on else
                                "The camera unlocks without the blink-and-turn check: a photo of you "
                                "held to the camera may open the vault.")

    # -- capture, then re-enroll or change the mode ---------------------------------------

    def _second_factor(self, mode: Mode | None, *, new: bool) -> tuple[bool, str | None, Any]:
        """(go on, passphrase, keyring store) that sealing in `mode` needs; asks for them."""
        passphrase, store = None, None
        if mode is Mode.FACE_PASSPHRASE:
            passphrase = self.ctx.dialogs.passphrase(
                self, "Passphrase",
                "Type the passphrase or PIN that will open the vault with your face" +
                (" (a new one is fine)." if not new else "."), twice=True)
            if passphrase is None:
                return False, None, None
        if mode is Mode.FACE_DEVICE or self.rotate.isChecked():
            try:
                store = self.ctx.secret_store()
            except FaceVaultError as exc:
                if mode is Mode.FACE_DEVICE:
                    self.ctx.dialogs.error(self, exc)
                    return False, None, None
        return True, passphrase, store

    def start_reenroll(self) -> None:
        if self.vault is None or self._busy:
            return
        vault = self.vault
        rotate = self.rotate.isChecked()
        preset = self.preset.currentData()
        model = self.ctx.parts().model
        go, passphrase, store = self._second_factor(self.mode, new=False)
        if not go:
            return

        def seal(template: Any) -> Generator[ByteProgress, None, str | None]:
            return reenroll(vault, template, rotate_key=rotate, preset=preset, store=store,
                            passphrase=passphrase, model=model)

        self._done_text = "Done: your new face is enrolled and the old face template is destroyed."
        if rotate:
            self._done_text += " Every file was re-encrypted under the new key."
        self._capture_then(seal, "Look at the camera and turn your head slightly from side to side.")

    def start_change_mode(self) -> None:
        if self.vault is None or self._busy:
            return
        target: Mode = self.new_mode.currentData()
        label = target.title
        if target is self.mode:
            text = ("Set a new passphrase? It takes a fresh look at your face; the old passphrase "
                    "stops working.")
        else:
            text = (f"Change this vault to \u201c{label}\u201d? It takes a fresh look at your face "
                    "(the old face template is destroyed).")
            if target is not Mode.FACE:
                text += (" Every file is re-encrypted under a new key, so an old copy of the vault "
                         "opens neither the files added later nor, from this folder, the old ones.")
        if not self.ctx.dialogs.confirm(self, "Change how the vault opens", text):
            return
        go, passphrase, store = self._second_factor(target, new=True)
        if not go:
            return
        vault, preset, model = self.vault, self.preset.currentData(), self.ctx.parts().model

        def seal(template: Any) -> Generator[ByteProgress, None, str | None]:
            return change_mode(vault, target, new_template=template, preset=preset,
                               passphrase=passphrase, store=store, model=model)

        self._done_text = f"Done: the vault now opens with \u201c{label}\u201d."
        if target is not Mode.FACE and target is not self.mode:
            self._done_text += " Every file was re-encrypted under the new key."
        self._capture_then(seal, f"Changing to \u201c{label}\u201d: look at the camera and turn your "
                           "head slightly from side to side.")

    def _capture_then(self, seal: Any, title: str) -> None:
        ctx = self.ctx

        def work(spec: str) -> Generator[Progress, None, str | None]:
            template = yield from ctx.capture_template(spec)
            yield StageProgress(Stage.SEALING)
            code: str | None = yield from seal(template)
            return code

        self._busy = True
        self.capture_title.setText(title)
        self.stack.setCurrentIndex(1)
        self.face.progress.setValue(0)
        self.face.start(work, on_progress=self._progress, on_done=self._sealed,
                        on_error=self._failed)

    def _progress(self, value: Progress) -> None:
        match value:
            case StageProgress():
                self.face.set_status(value.text)
            case ByteProgress(done=done, total=total):
                self.face.set_status(f"Re-encrypting: {done * 100 // max(total, 1)}%")
            case FrameProgress(good=good, want=want):
                self.face.progress.setValue(min(good, want))
                self.face.set_status(f"{good} of {want} good pictures")

    def _sealed(self, code: str | None) -> None:
        self._busy = False
        self.refresh()
        if code:  # an upgraded vault's version-1 recovery slot went with the old slots
            self.stack.setCurrentIndex(2)
            self.code.show_code(code, self._done_text + " The recovery code from before the "
                                "upgrade no longer works; this is the new one:")
            return
        self.stack.setCurrentIndex(0)
        self.status.setText(self._done_text)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.stack.setCurrentIndex(0)
        self.status.setText("That did not finish; the vault still opens as before.")
        self.ctx.dialogs.error(self, exc)

    def _cancel_capture(self) -> None:
        self.face.stop()
        self._busy = False
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

        self.ctx.tasks.call(lambda: regenerate_recovery(vault), on_done=done,
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
            self.ctx.tasks.call(lambda: enable_device(vault, store), on_done=done,
                                on_error=self._slot_failed)
        else:
            self.ctx.tasks.call(lambda: disable_device(vault, store), on_done=done,
                                on_error=self._slot_failed)

    def _slot_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.refresh()
        self.status.setText("Nothing changed.")
        self.ctx.dialogs.error(self, exc)

    def _code_confirmed(self) -> None:
        self.stack.setCurrentIndex(0)
        self.status.setText("The new recovery code is in place.")
        self.recovery_button.setFocus()
