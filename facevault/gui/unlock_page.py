"""Unlock a vault: the camera runs and the vault opens by itself as soon as a face decodes.

With liveness on (the default) the camera first runs the blink-and-turn challenge
(services.liveness): the live view shows the instruction ("Blink", "Turn your head a
little to your left", "Now look straight at the camera") and the time left, and nothing is
decoded before it passed. A failed challenge says why and offers "Try again".

A folder this computer refuses (swapped, rolled back, downgraded: services.trust) gets a
banner saying what changed, and "Trust this folder…" for a deliberate restore.

A face + passphrase vault asks for the passphrase first; a face + device vault takes this
computer's keyring secret along with the face. "Use recovery code" is always there, "Use
this device" only when the vault has a device slot.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from facevault.core.factors import DeviceFactor, Factors, PassphraseFactor, RecoveryFactor
from facevault.core.modes import Mode
from facevault.errors import FaceVaultError, NotRecognisedError, TrustError
from facevault.gui.context import AppContext
from facevault.gui.dialogs import status_of
from facevault.gui.enroll_page import heading
from facevault.gui.face_panel import FacePanel
from facevault.gui.sync_view import Banner
from facevault.services.progress import ChallengeProgress, FrameProgress, Progress, StageProgress
from facevault.services.devices import pair_here
from facevault.services.secretstore import SecretStore
from facevault.services.unlock import LockedVault, Unlocked, challenge_unlock, live_unlock

__all__ = ["UnlockPage"]



def _entry_row(label: str, edit: QLineEdit, button: QPushButton) -> QWidget:
    """A hidden row: label (buddy of `edit`), the line edit, its button."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    text = QLabel(label)
    text.setBuddy(edit)
    layout.addWidget(text)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    row.hide()
    return row

class UnlockPage(QWidget):
    unlocked = Signal(object)  # OpenVault
    cancelled = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.locked: LockedVault | None = None
        self.mode: Mode | None = Mode.FACE
        self._challenge = False  # the running attempt uses the liveness challenge
        self._decoding = False  # the challenge passed; the face is being decoded
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
        self.pair_button = QPushButton("&Pair this computer…")
        self.pair_button.setToolTip("Use a pairing code from a computer that opens this vault")
        self.pair_button.clicked.connect(self.pair_here)
        self.back_button = QPushButton("&Back")
        self.back_button.clicked.connect(self.cancel)

        # face + passphrase: asked before the camera starts
        self.pass_edit = QLineEdit()
        self.pass_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass_edit.setAccessibleName("Passphrase")
        self.pass_edit.returnPressed.connect(self.start)
        self.pass_go = QPushButton("&Continue")
        self.pass_go.clicked.connect(self.start)
        self.pass_row = _entry_row("&Passphrase or PIN:", self.pass_edit, self.pass_go)
        self.mode_note = QLabel()
        self.mode_note.setWordWrap(True)
        self.mode_note.hide()
        self.refused = Banner()  # a folder this computer does not trust (swapped, rolled back)

        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.code_edit.setAccessibleName("Recovery code")
        self.code_edit.returnPressed.connect(self.use_code)
        self.code_go = QPushButton("&Unlock")
        self.code_go.clicked.connect(self.use_code)
        self.code_row = _entry_row("Recovery code:", self.code_edit, self.code_go)

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        for b in (self.retry_button, self.pair_button, self.code_button, self.device_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.refused)
        layout.addWidget(self.mode_note)
        layout.addWidget(self.pass_row)
        layout.addWidget(self.face, 1)
        layout.addWidget(self.code_row)
        layout.addLayout(buttons)
        order: list[QWidget] = [self.pass_edit, self.pass_go, self.face.chooser, self.face.retry_button,
                 self.code_edit, self.code_go, self.back_button, self.retry_button,
                 self.pair_button, self.code_button, self.device_button]
        for first, second in zip(order, order[1:]):
            self.setTabOrder(first, second)
        self._busy = False

    @property
    def liveness(self) -> bool:
        return bool(self.ctx.settings.liveness)

    def open_for(self, path: Path) -> None:
        self.path = Path(path)
        self.title.setText(f"Unlock {self.path.name}")
        self.code_row.hide()
        self.code_edit.clear()
        self.pass_edit.clear()
        self.locked = None
        self.refused.clear()
        try:
            locked = LockedVault.read(self.path)  # the one read of the headers (and the pin)
        except TrustError as exc:
            self._refuse(exc)
            return
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            self.cancelled.emit()
            return
        self._prepare(locked)

    def _prepare(self, locked: LockedVault) -> None:
        self.locked = locked
        self.mode = self.locked.mode
        self.device_button.setVisible(self.locked.has_device_slot)
        self.pair_button.setVisible(self.mode is Mode.FACE_DEVICE)
        notes = {
            Mode.FACE_PASSPHRASE: "This vault needs your face and its passphrase. Type the "
                                  "passphrase, then look at the camera.",
            Mode.FACE_DEVICE: "This vault opens with your face on a computer paired with it. On a "
                              "new computer choose \u201cPair this computer…\u201d and type the code "
                              "a paired one shows (Security \u2192 Computers).",
        }
        note = notes.get(self.mode) if self.mode is not None else None
        self.mode_note.setText(note or "")
        self.mode_note.setVisible(note is not None)
        self.pass_row.setVisible(self.locked.needs_passphrase)
        if self.locked.needs_passphrase:
            self.face.stop()
            self.retry_button.hide()
            self.face.view.clear("Type the passphrase first")
            self.face.set_status("The camera starts once you typed the passphrase.")
            self.face.progress.hide()
            self.pass_edit.setFocus()
            return
        self.start()

    def _refuse(self, exc: TrustError) -> None:
        """This computer refuses the folder: say what changed and offer to trust it."""
        self.face.stop()
        self._busy = False
        self.face.view.clear("Refused")
        self.face.set_status("Nothing was opened.")
        self.retry_button.hide()
        self.refused.show_message(status_of(exc), "&Trust this folder…", self.trust_folder)

    def trust_folder(self) -> None:
        """Accept the folder as it is now (after a restore from a backup, or a change made
        on another computer), then unlock it as usual."""
        if self.path is None or not self.ctx.dialogs.confirm(
                self, "Trust this folder?",
                "Trust this vault folder as it is now? Do this only if you restored it from a "
                "backup yourself, put another vault here on purpose, or changed how it opens on "
                "another computer. FaceVault then refuses older copies of it from here on."):
            return
        try:
            locked = LockedVault.read(self.path, check=False)
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            return
        self.refused.clear()
        self._prepare(replace(locked, trusting=True))

    def _face_offer(self) -> Factors | None:
        """The second factor to go with the face, or None when it cannot be had."""
        assert self.locked is not None
        if self.locked.needs_passphrase:
            return Factors(PassphraseFactor(self.pass_edit.text()))
        if self.locked.face_uses_keyring:
            try:
                return Factors(DeviceFactor(self.ctx.secret_store()))
            except FaceVaultError as exc:
                self.ctx.dialogs.error(self, exc)
                return None
        return Factors()

    def start(self) -> None:
        if self.locked is None or self._busy:
            return
        if self.locked.needs_passphrase and not self.pass_edit.text():
            self.pass_edit.setFocus()
            self.face.set_status("Type the passphrase first.")
            return
        offer = self._face_offer()
        if offer is None:
            return
        locked, ctx = self.locked, self.ctx
        policy = ctx.policy.unlock
        self.retry_button.hide()
        self._challenge = self.liveness
        self._decoding = False
        if self._challenge:
            self.face.progress.setRange(0, 15)
            self.face.progress.setValue(15)

            def make(spec: str) -> Generator[Progress, None, Unlocked]:
                return challenge_unlock(locked, spec, parts=ctx.parts(), offer=offer, policy=policy,
                                        observer=ctx.challenge())
        else:
            self.face.progress.setRange(0, int(policy.timeout_s))
            self.face.progress.setValue(int(policy.timeout_s))

            def make(spec: str) -> Generator[Progress, None, Unlocked]:
                return live_unlock(locked, spec, parts=ctx.parts(), offer=offer, policy=policy)

        self.face.start(make, on_progress=self._progress, on_done=self._done, on_error=self._face_failed)
        self.face.setFocus()

    def _progress(self, p: Progress) -> None:
        match p:
            case StageProgress():  # Stage.DECODING: the challenge passed
                self._decoding = True
                self.face.view.set_overlay(p.text, "")
                self.face.set_status(p.text)
            case ChallengeProgress(status=status, observation=obs):
                seconds = math.ceil(status.remaining_ms / 1000)
                if seconds > self.face.progress.maximum():
                    self.face.progress.setRange(0, seconds)
                self.face.progress.setValue(seconds)
                self.face.view.set_overlay(status.instruction,
                                           f"Step {status.step} of {status.steps} · {seconds} s left")
                self.face.set_status(
                    f"Liveness check: {status.instruction.lower()}." if obs is not None and obs.ok
                    else f"Liveness check: {self.face.view.face_guidance}.")
            case FrameProgress(observation=obs):
                self.face.progress.setValue(int(round(p.seconds_left or 0)))
                if obs is not None and obs.ok:
                    self.face.set_status("Checking your face…" if p.attempts == 0 else
                                         "Still checking — hold still")
                else:
                    self.face.set_status(self.face.view.guidance)

    def _done(self, unlocked: Unlocked) -> None:
        self._busy = False
        self.face.stop()
        assert self.path is not None
        self.ctx.remember_vault(self.path)
        self.code_edit.clear()
        self.pass_edit.clear()
        self.ctx.session_face = unlocked.face
        self.unlocked.emit(unlocked.vault)

    def _face_failed(self, exc: BaseException) -> None:
        challenge_failed = self._challenge and not self._decoding
        self.face.set_status(status_of(exc))
        if challenge_failed and isinstance(exc, NotRecognisedError):
            banner = "Liveness check failed"
        elif isinstance(exc, NotRecognisedError):
            banner = "Not recognised"
        else:
            banner = "Stopped"
        self.face.view.clear(banner)
        self.face.progress.setValue(0)
        self.retry_button.show()
        self.retry_button.setFocus()
        if isinstance(exc, TrustError):
            self._refuse(exc)
        elif not isinstance(exc, NotRecognisedError):
            self.ctx.dialogs.error(self, exc)

    def pair_here(self) -> None:
        """Pair this computer with a code from one that opens the vault, and a look at the
        camera; the vault opens when it worked."""
        if self.locked is None or self._busy:
            return
        code = self.ctx.dialogs.pairing_code(self)
        store = self._keyring() if code is not None else None
        if code is None or store is None:
            return
        locked, ctx = self.locked, self.ctx
        self.face.stop()
        self.retry_button.hide()
        self._challenge = self._decoding = False
        policy = ctx.policy.unlock
        self.face.progress.setRange(0, int(policy.timeout_s))

        def make(spec: str) -> Generator[Progress, None, Unlocked]:
            return pair_here(locked, code, spec, parts=ctx.parts(), store=store, policy=policy)

        self.face.set_status("Pairing: look at the camera.")
        self.face.start(make, on_progress=self._progress, on_done=self._done, on_error=self._face_failed)

    def _show_code_entry(self) -> None:
        self.code_row.show()
        self.code_edit.setFocus()

    def use_code(self) -> None:
        code = self.code_edit.text().strip()
        if not code or self.locked is None or self._busy:
            return
        self._run_offer(Factors(RecoveryFactor(code)), "Checking the recovery code…")

    def use_device(self) -> None:
        if self.locked is None or self._busy:
            return
        store = self._keyring()
        if store is not None:
            self._run_offer(Factors(DeviceFactor(store)), "Asking this computer's keyring…")

    def _keyring(self) -> SecretStore | None:
        """This computer's keyring, or None after saying why it is not there."""
        try:
            return self.ctx.secret_store()
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            return None

    def _run_offer(self, offer: Factors, status: str) -> None:
        assert self.locked is not None
        locked, policy = self.locked, self.ctx.policy.unlock
        self.face.stop()
        self._busy = True
        self.face.set_status(status)
        self.ctx.tasks.call(lambda: locked.open(offer, policy), on_done=self._done,
                            on_error=self._offer_failed)

    def _offer_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.face.set_status(status_of(exc))
        self.retry_button.show()
        if isinstance(exc, TrustError):
            self._refuse(exc)
        elif not isinstance(exc, NotRecognisedError):
            self.ctx.dialogs.error(self, exc)

    def cancel(self) -> None:
        self.face.stop()
        self._busy = False
        self.cancelled.emit()
