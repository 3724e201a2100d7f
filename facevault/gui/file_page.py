"""Single files: encrypt one file for your face (showing its recovery code), or decrypt one
with your face or its recovery code. Started from the menu or by dropping a file.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.errors import NotRecognisedError
from facevault.gui.context import AppContext
from facevault.gui.dialogs import status_of
from facevault.gui.enroll_page import heading
from facevault.gui.face_panel import FacePanel
from facevault.gui.recovery_panel import RecoveryCodePanel
from facevault.core.factors import FaceFactor, Factors, RecoveryFactor
from facevault.services import files
from facevault.services.capture import capture
from facevault.services.progress import ByteProgress, FrameProgress, Progress, Stage, StageProgress

__all__ = ["FilePage", "SUFFIX"]

SUFFIX = ".fvf"


class FilePage(QWidget):
    finished = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.src: Path | None = None
        self.dest: Path | None = None
        self.mode = "encrypt"
        self.title = heading("Encrypt a file")
        self.stack = QStackedWidget()

        work = QWidget()
        self.face = FacePanel(ctx)
        self.what = QLabel()
        self.what.setWordWrap(True)
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("or type the file's recovery code")
        self.code_edit.setAccessibleName("Recovery code")
        self.code_edit.returnPressed.connect(self.use_code)
        self.code_go = QPushButton("&Decrypt with the code")
        self.code_go.clicked.connect(self.use_code)
        self.code_row = QWidget()
        cr = QHBoxLayout(self.code_row)
        cr.setContentsMargins(0, 0, 0, 0)
        cr.addWidget(self.code_edit, 1)
        cr.addWidget(self.code_go)
        self.retry_button = QPushButton("&Try again")
        self.retry_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.retry_button)
        w = QVBoxLayout(work)
        w.addWidget(self.what)
        w.addWidget(self.face, 1)
        w.addWidget(self.code_row)
        w.addLayout(row)

        self.code = RecoveryCodePanel(ctx)
        self.code.confirmed.connect(self._confirmed)
        self.stack.addWidget(work)
        self.stack.addWidget(self.code)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

    def encrypt(self, src: Path, dest: Path) -> None:
        self.mode, self.src, self.dest = "encrypt", Path(src), Path(dest)
        self.title.setText(f"Encrypt {self.src.name}")
        self.what.setText(f"Look at the camera: {self.src.name} will be sealed for your face as "
                          f"{self.dest}. You also get a recovery code for it.")
        self.code_row.hide()
        self.start()

    def decrypt(self, src: Path, dest: Path) -> None:
        self.mode, self.src, self.dest = "decrypt", Path(src), Path(dest)
        self.title.setText(f"Decrypt {self.src.name}")
        self.what.setText(f"Look at the camera to decrypt {self.src.name} into {self.dest}.")
        self.code_row.show()
        self.code_edit.clear()
        self.start()

    def start(self) -> None:
        assert self.src is not None and self.dest is not None
        src, dest, ctx = self.src, self.dest, self.ctx
        self.stack.setCurrentIndex(0)
        self.retry_button.hide()
        if self.mode == "encrypt":
            preset = ctx.settings.preset
            self.face.expect_enrollment()

            def work(spec: str) -> Generator[Progress, None, str | None]:
                template = yield from ctx.capture_template(spec)
                yield StageProgress(Stage.ENCRYPTING)
                return (yield from files.encrypt_file(src, dest, template, preset=preset, kdf=ctx.kdf()))
        else:
            policy = ctx.policy.unlock
            self.face.progress.setRange(0, policy.want)
            self.face.progress.setFormat("%v of %m good pictures")

            def work(spec: str) -> Generator[Progress, None, str | None]:
                seen = yield from capture(spec, want=policy.want, max_frames=policy.max_frames,
                                          parts=ctx.parts())
                yield StageProgress(Stage.DECRYPTING)
                offer = Factors(FaceFactor(tuple(seen.probes())))
                yield from files.decrypt_file(src, dest, offer, policy=policy.decode)
                return None

        self.face.start(work, on_progress=self._progress, on_done=self._done, on_error=self._failed)

    def use_code(self) -> None:
        code = self.code_edit.text().strip()
        if not code or self.src is None or self.dest is None:
            return
        self.face.stop()
        src, dest = self.src, self.dest
        self.face.set_status("Checking the recovery code…")
        self.ctx.tasks.run(lambda: files.decrypt_file(src, dest, Factors(RecoveryFactor(code))),
                           on_done=self._done, on_error=self._failed, latest_only=True)

    def _progress(self, value: Progress) -> None:
        match value:
            case StageProgress():
                self.face.set_status(value.text)
            case ByteProgress(done=done):
                self.face.set_status(f"Working… {done // (1024 * 1024)} MB done")
            case FrameProgress(good=good, want=want):
                self.face.progress.setValue(min(good, want))
                self.face.set_status(self.face.view.guidance)

    def _done(self, code: str | None) -> None:
        if self.mode == "encrypt" and code:
            self.stack.setCurrentIndex(1)
            self.code.show_code(code, f"{self.dest} is encrypted. Its recovery code:")
            return
        self.ctx.dialogs.info(self, f"Decrypted to {self.dest}.")
        self.finished.emit()

    def _failed(self, exc: BaseException) -> None:
        self.face.set_status(status_of(exc))
        self.retry_button.show()
        if not isinstance(exc, NotRecognisedError):
            self.ctx.dialogs.error(self, exc)

    def _confirmed(self) -> None:
        self.finished.emit()

    def cancel(self) -> None:
        self.face.stop()
        self.finished.emit()
