"""Follow the system's light or dark colour scheme (Qt >= 6.5 reports it via style hints).

Fusion is used everywhere so the palette is honoured on every platform; widgets take their
colours from the palette, never hard-coded (except the overlay on the camera view).

May import: PySide6, stdlib.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["apply", "dark_palette"]


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 32), QColor(45, 45, 48), QColor(230, 230, 230)
    role = QPalette.ColorRole
    for r, c in ((role.Window, window), (role.WindowText, text), (role.Base, base),
                 (role.AlternateBase, window), (role.ToolTipBase, window), (role.ToolTipText, text),
                 (role.Text, text), (role.Button, window), (role.ButtonText, text),
                 (role.BrightText, QColor("red")), (role.Highlight, QColor(42, 130, 218)),
                 (role.HighlightedText, QColor("white")), (role.Link, QColor(100, 170, 255)),
                 (role.PlaceholderText, QColor(150, 150, 150)), (role.Shadow, QColor(10, 10, 10))):
        p.setColor(r, c)
    for r in (role.Text, role.ButtonText, role.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(120, 120, 120))
    return p


def apply(app: QApplication, scheme: str | None = None) -> None:
    """Use Fusion with the system's scheme (or `scheme` = "light"/"dark"), and keep
    following the system when it changes."""
    app.setStyle("Fusion")

    def update(_s: object = None) -> None:
        wanted = scheme or ("dark" if QGuiApplication.styleHints().colorScheme()
                            == Qt.ColorScheme.Dark else "light")
        app.setPalette(dark_palette() if wanted == "dark" else app.style().standardPalette())

    update()
    if scheme is None:
        QGuiApplication.styleHints().colorSchemeChanged.connect(update)
