"""Controls a screen reader cannot name: every visible button, field, list, table, box and
slider under a window needs a name, from its own text (buttons, check boxes), its accessible
name, or a label that is its buddy."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox, QLabel, QLineEdit,
    QTextEdit, QWidget,
)

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QAbstractSlider, QTextEdit)


def unnamed(window: QWidget) -> list[str]:
    buddies = {id(label.buddy()) for label in window.findChildren(QLabel) if label.buddy() is not None}
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisible():
            continue
        if type(widget).__name__ in ("QScrollBar", "QHeaderView") or widget.objectName().startswith("qt_"):
            continue  # Qt's own parts of a scroll area, a table or a spin box
        if widget.parentWidget() is not None and isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue
        text = widget.text() if isinstance(widget, QAbstractButton) else ""
        if text.replace("&", "").strip() or widget.accessibleName().strip() or id(widget) in buddies:
            continue
        missing.append(f"{type(widget).__name__} {widget.objectName() or ''} at "
                       f"{widget.mapTo(window, widget.rect().topLeft()).toTuple()}".replace("  ", " "))
    return missing
