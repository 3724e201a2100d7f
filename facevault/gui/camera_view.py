"""The live camera view: the newest frame, the face box and landmarks, and a guidance line.

`CameraView.show_frame(rgb, observation)` takes a (H, W, 3) uint8 RGB array and a
FaceObservation (or None) straight from services; it only draws. `CameraChooser` is a combo
box of camera specs from services.desktop.list_cameras().

May import: PySide6, numpy, stdlib.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

__all__ = ["CameraView", "CameraChooser", "guidance_for", "to_qimage"]

GOOD = QColor(46, 160, 67)
BAD = QColor(230, 140, 20)

# Short, friendly versions of the pipeline's reason codes (the pipeline's own sentence is
# used when a code is not listed here).
_GUIDANCE = {
    "no_face": "Look at the camera",
    "several_faces": "Only one face, please",
    "too_small": "Move closer",
    "too_dark": "More light, please",
    "overexposed": "Too bright: turn away from the light",
    "blurred": "Hold still",
    "pose": "Face the camera straight on",
    "decode_error": "The camera picture could not be read",
}


def guidance_for(observation: Any) -> str:
    if observation is None:
        return "Starting the camera…"
    if observation.ok:
        return "Good — hold still"
    code = getattr(observation, "code", None) or ""
    return _GUIDANCE.get(code) or getattr(observation, "reason", None) or "Look at the camera"


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class CameraView(QWidget):
    """Paints the newest frame scaled to fit, the face box, landmarks and a guidance banner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._obs: Any = None
        self._message = "The camera is off"
        self._face_guidance = self._message
        self._badge = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAccessibleName("Camera view")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(640, 480)

    @property
    def guidance(self) -> str:
        """The banner text now shown."""
        return self._message

    @property
    def face_guidance(self) -> str:
        """The quality guidance for the last frame ("Move closer"), even under an overlay."""
        return self._face_guidance

    @property
    def badge(self) -> str:
        return self._badge

    def show_frame(self, rgb: np.ndarray | None, observation: Any) -> None:
        if rgb is not None:
            self._image = to_qimage(rgb)
        self._obs = observation
        self._message = self._face_guidance = guidance_for(observation)
        self.setAccessibleDescription(self._message)
        self.update()

    def set_overlay(self, banner: str, badge: str = "") -> None:
        """Show `banner` instead of the guidance (a liveness instruction) and a small
        `badge` in the top corner (the step and time left)."""
        self._message, self._badge = banner, badge
        self.setAccessibleDescription(f"{banner}. {badge}" if badge else banner)
        self.update()

    def clear(self, message: str = "The camera is off") -> None:
        self._image, self._obs, self._message, self._badge = None, None, message, ""
        self._face_guidance = message
        self.setAccessibleDescription(message)
        self.update()

    def _target(self) -> QRectF:
        assert self._image is not None
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(20, 20, 22))  # a video area stays dark in both themes
        if self._image is not None:
            target = self._target()
            p.drawImage(target, self._image)
            self._draw_face(p, target)
        self._draw_banner(p)
        self._draw_badge(p)
        p.end()

    def _draw_face(self, p: QPainter, target: QRectF) -> None:
        obs = self._obs
        if obs is None or getattr(obs, "box", None) is None or self._image is None:
            return
        sx = target.width() / self._image.width()
        colour = GOOD if obs.ok else BAD
        marks = getattr(obs, "landmarks", None)
        if marks is not None:
            p.setPen(QPen(QColor(colour.red(), colour.green(), colour.blue(), 150), 1.5))
            for x, y in np.asarray(marks)[::3, :2]:
                p.drawPoint(QPointF(target.x() + x * sx, target.y() + y * sx))
        x, y, w, h = obs.box
        p.setPen(QPen(colour, 3))
        p.drawRoundedRect(QRectF(target.x() + x * sx, target.y() + y * sx, w * sx, h * sx), 8, 8)

    def _draw_banner(self, p: QPainter) -> None:
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        p.setFont(font)
        metrics = p.fontMetrics()
        height = metrics.height() * 2
        band = QRectF(0, self.height() - height, self.width(), height)
        p.fillRect(band, QColor(0, 0, 0, 150))
        p.setPen(QColor("white"))
        p.drawText(band, int(Qt.AlignmentFlag.AlignCenter), self._message)

    def _draw_badge(self, p: QPainter) -> None:
        if not self._badge:
            return
        font = p.font()
        font.setPointSizeF(font.pointSizeF() / 1.3)
        p.setFont(font)
        metrics = p.fontMetrics()
        pad = metrics.height() / 2
        w = metrics.horizontalAdvance(self._badge) + 2 * pad
        h = metrics.height() + pad
        box = QRectF(self.width() - w - pad, pad, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(box, h / 2, h / 2)
        p.setPen(QColor("white"))
        p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), self._badge)


class CameraChooser(QComboBox):
    """Camera specs; emits `chosen(spec)` when the user picks another one."""

    chosen = Signal(str)

    def __init__(self, cameras: list[str], current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Camera")
        self.set_cameras(cameras, current)
        self.activated.connect(lambda _i: self.chosen.emit(self.currentData()))

    def set_cameras(self, cameras: list[str], current: str) -> None:
        self.blockSignals(True)
        self.clear()
        specs = list(dict.fromkeys([*cameras, current]))
        for spec in specs:
            label = f"Camera {spec.split(':', 1)[1]}" if spec.startswith("camera:") else spec
            self.addItem(label, spec)
        self.setCurrentIndex(specs.index(current))
        self.blockSignals(False)
