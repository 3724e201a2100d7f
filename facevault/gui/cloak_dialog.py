""""Cloak photos…": pick photos, choose a strength, cloak every face, and look at the result
(before/after, a flicker toggle, zoom) before sharing. The cloaked copies are saved beside
the originals as NAME-cloaked.EXT (services.cloak.cloak_beside); originals are never changed.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from facevault.gui.dialogs import message_of
from facevault.services.cloak import STRENGTH_NAMES, PhotoDone, PhotoReport, cloak_beside
from facevault.services.progress import CloakProgress

__all__ = ["CloakDialog", "STRENGTH_TEXT"]

STRENGTH_TEXT = {
    "low": "Low: the faintest change; an independent face model still matched 21 of 100 cloaked faces, "
           "FaceVault's own 2 (20 after JPEG compression).",
    "default": "Default: faint darker lines and shading on the face, visible when you flip to the "
               "original; an independent face model still matched 1 of 100.",
    "high": "High: the change is plain to see; an independent face model matched none of 100.",
}
LIMITS = ("Measured, not promised (docs/CLOAK.md, 100 test photos): FaceVault's own face model matched "
          "none of the cloaked faces, an independent one (not used to make the cloak) 1 at the default "
          "strength, 2-3 after JPEG compression or halving the size. It cannot help with photos already "
          "shared, and newer or hardened systems may see through it.")
ZOOMS = (("Fit", 0.0), ("100%", 1.0), ("200%", 2.0))


def _pixmap(path: Path) -> QPixmap:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # EXIF orientation, as the cloak reads it
    return QPixmap.fromImage(reader.read())


def _summary(report: PhotoReport) -> str:
    n = len(report.faces)
    faces = "1 face" if n == 1 else f"{n} faces"
    state = "all protected against FaceVault's own model" if report.all_protected else \
        "NOT all protected: try High"
    more = "; there may be more faces than were found: crop the photo and cloak the parts" \
        if report.maybe_more else ""
    return f"{faces}, {state}; saved as {report.output.name if report.output else '?'}{more}"


class CloakDialog(QDialog):
    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Cloak photos")
        self.photos: list[Path] = []
        self.results: dict[int, PhotoReport] = {}
        self.failures: dict[int, str] = {}
        self.task: Any = None
        self.rows: list[int] = []  # the list rows of the running task's photos, in its order

        intro = QLabel("Cloak the faces in photos before you share them, so face recognition does "
                       "not match them. Copies are saved beside the originals with “-cloaked” "
                       "added to the name, without location or camera data.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setMinimumWidth(200)
        self.list.setMaximumWidth(260)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAccessibleName("Photos to cloak")
        self.list.currentRowChanged.connect(lambda _row: self.show_current())
        self.add_button = QPushButton("&Add photos…")
        self.add_button.clicked.connect(self.pick)
        self.strength = QComboBox()
        self.strength.setAccessibleName("Strength")
        for name in STRENGTH_NAMES:
            self.strength.addItem(name.capitalize(), name)
        self.strength.setCurrentIndex(1)
        self.strength_text = QLabel(STRENGTH_TEXT["default"])
        self.strength_text.setWordWrap(True)
        self.strength.currentIndexChanged.connect(
            lambda _i: self.strength_text.setText(STRENGTH_TEXT[self.strength.currentData()]))

        self.view = QLabel("Add photos, or drop them on this window, to see them here.")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setAccessibleName("Preview")
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.view)
        self.scroller.setWidgetResizable(True)
        self.scroller.setMinimumSize(420, 320)
        # the zoomed picture scrolls; it never pushes the rest of the dialog around
        self.scroller.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.original = QCheckBox("Show &original")
        self.original.toggled.connect(lambda _on: self.show_current())
        self.flicker = QCheckBox("&Flicker")
        self.flicker.setToolTip("Switch between the original and the cloaked photo twice a second")
        self.flicker.toggled.connect(self._flicker)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(lambda: self.original.setChecked(not self.original.isChecked()))
        self.zoom = QComboBox()
        self.zoom.setAccessibleName("Zoom")
        for text, factor in ZOOMS:
            self.zoom.addItem(text, factor)
        self.zoom.currentIndexChanged.connect(lambda _i: self._zoomed())
        self.which = QLabel("")
        self.which.setMinimumWidth(self.which.fontMetrics().horizontalAdvance("Original") + 12)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setAccessibleName("About this photo")

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel(LIMITS)
        self.status.setWordWrap(True)
        self.go = QPushButton("&Cloak and save")
        self.go.setDefault(True)
        self.go.clicked.connect(self.start)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addWidget(self.add_button)
        left.addWidget(QLabel("Strength"))
        left.addWidget(self.strength)
        left.addWidget(self.strength_text)
        controls = QHBoxLayout()
        for w in (self.original, self.flicker, QLabel("Zoom"), self.zoom):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.which)
        right = QVBoxLayout()
        right.addWidget(self.scroller, 1)
        right.addLayout(controls)
        right.addWidget(self.details)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.go)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(900, 620)
        self.setAcceptDrops(True)  # photos dropped on the dialog join the list
        self._update_buttons()

    # -- photos -------------------------------------------------------------------------

    def pick(self) -> None:
        self.add_photos(self.ctx.dialogs.open_files(self, "Photos to cloak"))

    def add_photos(self, paths: list[Path]) -> None:
        for p in paths:
            if p in self.photos:
                continue
            self.photos.append(p)
            self.list.addItem(QListWidgetItem(p.name))
        if self.list.currentRow() < 0 and self.photos:
            self.list.setCurrentRow(0)
        self._update_buttons()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and self.task is None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        files = [p for p in paths if p.is_file()]
        if files and self.task is None:
            event.acceptProposedAction()
            self.add_photos(files)

    def _update_buttons(self) -> None:
        busy = self.task is not None
        self.go.setEnabled(bool(self.photos) and not busy)
        self.add_button.setEnabled(not busy)
        self.strength.setEnabled(not busy)

    # -- preview ------------------------------------------------------------------------

    def _flicker(self, on: bool) -> None:
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def show_current(self) -> None:
        row = self.list.currentRow()
        if row < 0 or row >= len(self.photos):
            return
        report = self.results.get(row)
        after = report.output if report is not None else None
        show_after = after is not None and not self.original.isChecked()
        path = after if show_after and after is not None else self.photos[row]
        pixmap = _pixmap(path)
        if pixmap.isNull():
            self.view.setText(f"{path.name} cannot be shown.")
            return
        factor = float(self.zoom.currentData() or 0.0)
        bars = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if factor == 0.0 else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        self.scroller.setHorizontalScrollBarPolicy(bars)
        self.scroller.setVerticalScrollBarPolicy(bars)
        if factor == 0.0:  # no scroll bars when fitted, so the fitted size does not depend on them
            size = self.scroller.viewport().size()
            pixmap = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        elif factor != 1.0:
            pixmap = pixmap.scaled(pixmap.size() * factor, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.FastTransformation)
        self.view.setPixmap(pixmap)
        if report is None:
            self.which.setText("Original")
            self.details.setText(self.failures.get(row, "Not cloaked yet."))
        else:
            self.which.setText("Cloaked" if show_after else "Original")
            self.details.setText(_summary(report) + ".")

    def _zoomed(self) -> None:
        """A new zoom shows the middle of the photo (where the face usually is)."""
        self.show_current()
        self.view.adjustSize()
        for bar in (self.scroller.horizontalScrollBar(), self.scroller.verticalScrollBar()):
            bar.setValue((bar.minimum() + bar.maximum()) // 2)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if float(self.zoom.currentData() or 0.0) == 0.0:
            self.show_current()

    # -- work ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.task is not None or not self.photos:
            return
        self.rows = [i for i in range(len(self.photos)) if i not in self.results]  # failed ones try again
        todo = [self.photos[i] for i in self.rows]
        if not todo:
            self.status.setText("Every photo in the list is cloaked. Add more photos to go on.")
            return
        strength = str(self.strength.currentData())
        self.status.setText("Loading the face models…")
        self.progress.setValue(0)
        self.task = self.ctx.tasks.run(lambda: cloak_beside(todo, strength=strength),
                                       on_yield=self._progress, on_done=self._done, on_error=self._failed)
        self._update_buttons()

    def _progress(self, value: Any) -> None:
        if isinstance(value, CloakProgress):
            self.status.setText(value.text + "…")
            self.progress.setValue(int(1000 * value.fraction))
        elif isinstance(value, PhotoDone):
            row = self.rows[value.index]
            item = self.list.item(row)
            if value.report is not None:
                self.results[row] = value.report
                self.failures.pop(row, None)
                ok = "cloaked" if value.report.all_protected else "cloaked, NOT all protected"
                item.setText(f"{value.source.name} — {ok}")
                item.setToolTip(_summary(value.report))
                if row == self.list.currentRow():
                    self.show_current()
            else:
                title, detail = message_of(value.error) if value.error else ("Failed", "")
                item.setText(f"{value.source.name} — not cloaked")
                item.setToolTip(f"{title} {detail}".strip())
                self.failures[row] = f"{title} {detail}".strip()

    def _done(self, written: int) -> None:
        self.task = None
        self.progress.setValue(1000)
        self.status.setText(f"{written} cloaked photo(s) saved beside the originals. {LIMITS}")
        self._update_buttons()
        self.show_current()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._update_buttons()
        title, detail = message_of(exc)
        self.status.setText(f"{title} {detail}".strip())

    def reject(self) -> None:
        if self.task is not None:
            self.task.stop()
            self.task = None
        self.timer.stop()
        super().reject()
