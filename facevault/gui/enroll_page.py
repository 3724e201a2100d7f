"""The new-vault wizard: where, how it opens (face only / face + this computer / face +
passphrase, one plain sentence each) and how strong, capture the face, show and confirm the
recovery code. Nothing is written until the code was typed back: the capture gives a
PendingVault (the template in memory and the code to show); Finish writes the vault (in a
worker: the key derivation is slow on purpose) and opens the browser. Cancelling or
quitting at any step leaves nothing on disk.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QRadioButton, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.core.kinds.face_passphrase import normalise_passphrase
from facevault.core.modes import Mode
from facevault.errors import FaceVaultError, KeyringUnavailableError, StorageError, UsageError
from facevault.gui.context import AppContext
from facevault.gui.face_panel import FacePanel
from facevault.gui.recovery_panel import RecoveryCodePanel
from facevault.services.enroll import Created, PendingVault, pending_vault
from facevault.services.models import presets
from facevault.services.progress import FrameProgress, Progress, StageProgress
from facevault.services.secretstore import SecretStore

__all__ = ["EnrollPage", "heading"]

_POSE_NAMES = {"front": "straight", "left": "left", "right": "right"}


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    label.setFont(font)
    return label


class EnrollPage(QWidget):
    created = Signal(object)  # the OpenVault, after the recovery code was confirmed
    cancelled = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._pending: PendingVault | None = None
        self.title = heading("Create a new vault")
        self.steps = QStackedWidget()

        # step 0: where and how
        where = QWidget()
        self.folder = QLineEdit(str(Path.home() / "FaceVault"))
        self.folder.setAccessibleName("Vault folder")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.preset = QComboBox()
        for info in presets():
            self.preset.addItem(f"{info.name} ({info.bits:.0f}-bit face key)", info.name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(ctx.settings.preset)))
        self.device = QCheckBox("Also let this computer open the vault without a face (OS keyring)")

        self.mode_box = QGroupBox("How should it open?")
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[Mode, QRadioButton] = {}
        ml = QVBoxLayout(self.mode_box)
        for i, mode in enumerate(Mode):
            button = QRadioButton(mode.title)
            button.setAccessibleDescription(mode.sentence)
            self.mode_group.addButton(button, i)
            self.mode_buttons[mode] = button
            note = QLabel(mode.sentence)
            note.setWordWrap(True)
            note.setIndent(24)
            ml.addWidget(button)
            ml.addWidget(note)
        self.mode_buttons[Mode.FACE].setChecked(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase2 = QLineEdit()
        self.passphrase2.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase2.setAccessibleName("Passphrase again")
        self.pass_form = QWidget()
        pf = QFormLayout(self.pass_form)
        pf.setContentsMargins(24, 0, 0, 0)
        p1 = QLabel("&Passphrase or PIN:")
        p1.setBuddy(self.passphrase)
        p2 = QLabel("&Again:")
        p2.setBuddy(self.passphrase2)
        pf.addRow(p1, self.passphrase)
        pf.addRow(p2, self.passphrase2)
        ml.addWidget(self.pass_form)
        self.mode_group.idToggled.connect(lambda _i, _on: self._mode_changed())
        self.start_button = QPushButton("&Next: look at the camera")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_capture)
        cancel = self.cancel_button = QPushButton("Cancel")
        cancel.clicked.connect(self.cancel)
        form = QFormLayout()
        folder_label = QLabel("&Folder:")
        folder_label.setBuddy(self.folder)
        form.addRow(folder_label, folder_row)
        preset_label = QLabel("&Security:")
        preset_label.setBuddy(self.preset)
        form.addRow(preset_label, self.preset)
        explain = QLabel(
            "FaceVault keeps your files encrypted in this folder. Your face opens it; a recovery "
            "code (shown after the capture) opens it when the camera cannot. The vault is made "
            "once you have typed part of the code back. The face itself is never stored, only a "
            "scrambled helper that needs your face to unscramble.")
        explain.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        w0 = QVBoxLayout(where)
        w0.addWidget(explain)
        w0.addLayout(form)
        w0.addWidget(self.mode_box)
        w0.addWidget(self.device)
        w0.addStretch(1)
        w0.addLayout(buttons)

        # step 1: capture
        cap = QWidget()
        self.face = FacePanel(ctx)
        self.face.expect_enrollment()
        back = QPushButton("&Back")
        back.clicked.connect(self._back)
        c1 = QVBoxLayout(cap)
        c1.addWidget(QLabel("Look at the camera, then turn your head a little to your left and to "
                            "your right when asked."))
        c1.addWidget(self.face, 1)
        row = QHBoxLayout()
        row.addWidget(back)
        row.addStretch(1)
        c1.addLayout(row)

        # step 2: recovery code
        self.code = RecoveryCodePanel(ctx)
        self.code.forget_on_confirm = False  # kept until the vault is written (a retry needs it)
        self.code.confirmed.connect(self._confirmed)

        for w in (where, cap, self.code):
            self.steps.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.steps, 1)

        order = [self.folder, browse, self.preset, *self.mode_buttons.values(), self.passphrase,
                 self.passphrase2, self.device, cancel, self.start_button]
        for a, b in zip(order, order[1:]):
            self.setTabOrder(a, b)
        self._mode_changed()

    @property
    def mode(self) -> Mode:
        return next(m for m, b in self.mode_buttons.items() if b.isChecked())

    def _mode_changed(self) -> None:
        mode = self.mode
        self.pass_form.setVisible(mode is Mode.FACE_PASSPHRASE)
        # a device-only slot would skip the face: only offered for face-only vaults
        self.device.setVisible(mode.allows_device_only_slot)

    def begin(self) -> None:
        self._pending = None
        self.passphrase.clear()
        self.passphrase2.clear()
        self.steps.setCurrentIndex(0)
        self.folder.setFocus()

    def _checked_passphrase(self) -> str | None:
        """The passphrase typed twice, or raise UsageError saying what is wrong."""
        if self.mode is not Mode.FACE_PASSPHRASE:
            return None
        text = self.passphrase.text()
        if text != self.passphrase2.text():
            raise UsageError("the two passphrases differ", hint="Type the same passphrase twice.")
        normalise_passphrase(text)  # too short: says how long it must be
        return text

    @property
    def target(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def _browse(self) -> None:
        parent = self.ctx.dialogs.folder(self, "Where should the new vault folder go?")
        if parent is not None:
            self.folder.setText(str(parent / "FaceVault"))

    def _back(self) -> None:
        self.face.stop()
        self.steps.setCurrentIndex(0)

    def cancel(self) -> None:
        self.discard()
        self.cancelled.emit()

    def discard(self) -> None:
        """Drop what the wizard holds (nothing was written: the template and the code go)."""
        self.face.stop()
        self._pending = None
        self.code.forget()

    def start_capture(self) -> None:
        path = self.target
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            self.ctx.dialogs.error(self, StorageError(
                f"{path} already exists and is not an empty folder",
                hint="Choose a new folder name for the vault."))
            return
        mode = self.mode
        try:
            passphrase = self._checked_passphrase()
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            self.passphrase.setFocus()
            return
        store: SecretStore | None = None
        device_slot = mode is Mode.FACE and self.device.isChecked()
        if mode is Mode.FACE_DEVICE or device_slot:
            try:
                store = self.ctx.secret_store()
            except KeyringUnavailableError as exc:
                self.ctx.dialogs.error(self, exc)
                return
        preset = self.preset.currentData()
        self.ctx.update_settings(preset=preset)
        ctx = self.ctx

        def work(spec: str) -> Generator[Progress, None, PendingVault]:
            template = yield from ctx.capture_template(spec)
            return pending_vault(path, template, mode=mode, preset=preset, kdf=ctx.kdf(), store=store,
                                 passphrase=passphrase, device_slot=device_slot,
                                 model=ctx.parts().model)

        self.steps.setCurrentIndex(1)
        self.face.progress.setValue(0)
        self.face.start(work, on_progress=self._progress, on_done=self._created, on_error=self._failed)

    def _progress(self, value: Progress) -> None:
        match value:
            case StageProgress():
                self.face.set_status(value.text)
            case FrameProgress(good=good, want=want, poses=poses, instruction=what) if poses:
                self.face.progress.setValue(min(good, want))
                done = " · ".join(f"{_POSE_NAMES[p]} {have}/{need}" + (" \u2713" if have >= need else "")
                                  for p, have, need in poses)
                self.face.set_status(f"{what}. {done}")
                self.face.view.set_overlay(what, done)
            case FrameProgress(good=good, want=want, frames=frames):
                self.face.progress.setValue(min(good, want))
                self.face.set_status(f"{good} of {want} good pictures ({frames} frames looked at)")

    def _created(self, pending: PendingVault) -> None:
        """The capture worked: show the code; the vault is written once it is confirmed."""
        self.passphrase.clear()
        self.passphrase2.clear()
        self._pending = pending
        self.steps.setCurrentIndex(2)
        self.code.show_code(pending.recovery_code, f"Your face was captured. This is the recovery "
                            f"code of the new vault at {pending.path}; the vault is made once you "
                            "have typed part of it back:")

    def _failed(self, exc: BaseException) -> None:
        self.face.set_status("The capture did not work. Press Back to try again.")
        self.ctx.dialogs.error(self, exc)

    def _confirmed(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self.code.set_busy("Creating the vault…")

        def done(created: Created) -> None:
            self.code.set_busy(None)
            self.code.forget()
            self.ctx.remember_vault(pending.path)
            self.ctx.session_face = created.face
            self.created.emit(created.vault)

        def failed(exc: BaseException) -> None:
            self.code.set_busy(None)
            self._pending = pending  # the same code: Finish again after fixing the folder
            self.ctx.dialogs.error(self, exc)

        self.ctx.tasks.call(pending.create, on_done=done, on_error=failed)
