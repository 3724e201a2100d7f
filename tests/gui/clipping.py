"""Finding text that does not fit on screen: for every visible label and button under a
window, whether its text needs more room than its geometry gives it.

- a word-wrapped label is clipped when heightForWidth(its width) is taller than it is;
- a single-line label or a button when its text's advance is wider than its contents;
- any of them when its rectangle runs past the right or bottom edge of the window, unless
  it sits inside a scroll area (which can be scrolled to it).

Returns plain descriptions, so a failing test says which text on which page is cut off.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QWidget

SLACK = 1  # pixels of rounding


def _in_scroll_area(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _label_text_width(label: QLabel) -> int:
    text = label.text()
    if GuiQt.mightBeRichText(text) or label.textFormat() == Qt.TextFormat.RichText:
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setHtml(text)
        doc.setDocumentMargin(0)
        return int(doc.idealWidth() + 0.999)
    metrics = label.fontMetrics()
    if label.buddy() is not None:  # "&Folder:": the & underlines the F, it takes no room
        text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _describe(widget: QWidget, text: str) -> str:
    name = widget.accessibleName() or widget.objectName() or type(widget).__name__
    short = " ".join(text.split())[:60]
    return f"{name}: \u201c{short}\u201d"


def clipped(window: QWidget) -> list[str]:
    found: list[str] = []
    frame = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.width() <= 0:
            continue
        if isinstance(widget, QLabel):
            text = widget.text()
            if not text.strip() or widget.pixmap() is not None and not widget.pixmap().isNull():
                continue
            inner = widget.contentsRect()
            margin = widget.margin() * 2 + widget.indent() if widget.indent() > 0 else widget.margin() * 2
            if widget.wordWrap():
                need = widget.heightForWidth(widget.width())
                if need > widget.height() + SLACK:
                    found.append(f"{_describe(widget, text)} needs {need} px of height, has {widget.height()}")
            else:
                need = _label_text_width(widget) + margin
                if need > inner.width() + SLACK:
                    found.append(f"{_describe(widget, text)} needs {need} px of width, has {inner.width()}")
        elif isinstance(widget, QAbstractButton):
            text = widget.text()
            if not text.strip():
                continue
            hint = widget.sizeHint()
            if hint.width() > widget.width() + SLACK:
                found.append(f"{_describe(widget, text)} button needs {hint.width()} px, has {widget.width()}")
        else:
            continue
        if _in_scroll_area(widget):
            continue
        top_left = widget.mapTo(window, QPoint(0, 0))
        rect = QRect(top_left, widget.size())
        if rect.right() > frame.right() + SLACK or rect.bottom() > frame.bottom() + SLACK:
            found.append(f"{_describe(widget, widget.text())} runs past the window's edge "
                         f"({rect.right()}x{rect.bottom()} in {frame.width()}x{frame.height()})")
    return found
