"""A camera chooser, the live view, a progress bar and a status line, driving one face
generator at a time (capture for enrollment, the live unlock loop, probes for a file).

`FacePanel.start(make_gen, ...)` runs `make_gen(camera_spec)` in a worker. Every yielded
value that carries `rgb` and `observation` is drawn; the page's `on_progress` gets it too.
A missing or lost camera (CameraError/SourceError) switches to a clear "no camera" screen
with a retry button; other errors go to the page's `on_error`.

May import: PySide6, stdlib, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.errors import NotRecognisedError, SourceError
from facevault.gui.camera_view import CameraChooser, CameraView
from facevault.gui.context import AppContext
from facevault.gui.dialogs import message_of
from facevault.gui.workers import Task
from facevault.services.progress import ChallengeProgress, FrameProgress, Progress

__all__ = ["FacePanel"]

Callback = Callable[[Any], None]


class FacePanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._task: Task | None = None
        self._last: tuple[Callable[[str], Generator[Any, None, Any]], Callback, Callback, Callback] | None = None

        self.chooser = CameraChooser(ctx.cameras(), ctx.settings.camera)
        self.chooser.chosen.connect(self._camera_chosen)
        camera_label = QLabel("&Camera:")
        camera_label.setBuddy(self.chooser)
        top = QHBoxLayout()
        top.addWidget(camera_label)
        top.addWidget(self.chooser, 1)

        self.view = CameraView()
        self.no_camera = QWidget()
        self.no_camera_title = QLabel("No camera")
        font = self.no_camera_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.no_camera_title.setFont(font)
        self.no_camera_text = QLabel()
        self.no_camera_text.setWordWrap(True)
        self.retry_button = QPushButton("&Try again")
        self.retry_button.clicked.connect(self.retry)
        nc = QVBoxLayout(self.no_camera)
        nc.addStretch(1)
        for w in (self.no_camera_title, self.no_camera_text):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            nc.addWidget(w)
        nc.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignCenter)
        nc.addStretch(1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.no_camera)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    # -- running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done

    @property
    def camera_missing(self) -> bool:
        return self.stack.currentWidget() is self.no_camera

    def start(self, make_gen: Callable[[str], Generator[Any, None, Any]], *,
              on_progress: Callback, on_done: Callback, on_error: Callback) -> None:
        self.stop()
        self._last = (make_gen, on_progress, on_done, on_error)
        spec = self.ctx.settings.camera
        self.chooser.set_cameras(self.ctx.cameras(), spec)
        self.stack.setCurrentWidget(self.view)
        self.progress.show()
        self.view.clear("Starting the camera…" if self.ctx.models.ready else "Loading the face models…")
        self.set_status("Starting the camera…")
        self._task = self.ctx.tasks.run(
            lambda: make_gen(spec),
            on_yield=lambda v: self._progress(v, on_progress),
            on_done=lambda v: self._finished(v, on_done),
            on_error=lambda e: self._failed(e, on_error),
            latest_only=True,
        )

    def expect_enrollment(self) -> None:
        """Count good pictures towards an enrollment on the progress bar."""
        self.progress.setRange(0, self.ctx.policy.enroll.want)
        self.progress.setFormat("%v of %m good pictures")

    def retry(self) -> None:
        if self._last is not None:
            make_gen, on_progress, on_done, on_error = self._last
            self.start(make_gen, on_progress=on_progress, on_done=on_done, on_error=on_error)

    def stop(self) -> None:
        if self._task is not None:
            self._task.stop()
            self._task = None

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _progress(self, value: Progress, on_progress: Callback) -> None:
        match value:
            case FrameProgress(rgb=rgb, observation=obs) | ChallengeProgress(rgb=rgb, observation=obs):
                self.view.show_frame(rgb, obs)
        on_progress(value)

    def _finished(self, value: Any, on_done: Callback) -> None:
        self._task = None
        self.view.clear("Done")
        on_done(value)

    def _failed(self, exc: BaseException, on_error: Callback) -> None:
        self._task = None
        if isinstance(exc, SourceError):
            message, hint = message_of(exc)
            self.no_camera_title.setText("No camera" if "camera" in message.lower() else "No picture")
            self.no_camera_text.setText(f"{message}\n\n{hint}" if hint else message)
            self.stack.setCurrentWidget(self.no_camera)
            self.progress.hide()
            self.set_status("Choose another camera above, connect one, or use the other options.")
            self.retry_button.setFocus()
            return
        self.view.clear("Not recognised" if isinstance(exc, NotRecognisedError) else "Stopped")
        on_error(exc)

    def _camera_chosen(self, spec: str) -> None:
        self.ctx.update_settings(camera=spec)
        if self.running or self.camera_missing:
            self.retry()
