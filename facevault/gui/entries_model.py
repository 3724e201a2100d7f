"""The table model of the browser: a plain list of vault entries (anything with name, size
and mtime; conflict copies marked with an icon and a tooltip that says what they are).

May import: PySide6, stdlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QStyle

__all__ = ["EntriesModel", "human_size"]

AnyIndex = QModelIndex | QPersistentModelIndex


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


class EntriesModel(QAbstractTableModel):
    HEADERS = ("Name", "Size", "Modified")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_entries(self, entries: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return e.name
            if col == 1:
                return human_size(e.size)
            return datetime.fromtimestamp(e.mtime).strftime("%Y-%m-%d %H:%M")
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return (e.name.lower(), e.size, e.mtime)[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        conflict = bool(getattr(e, "conflict", False))
        if role == Qt.ItemDataRole.ToolTipRole:
            if conflict:
                return (f"{e.name}\nA conflict copy of \u201c{e.original}\u201d: it was changed on "
                        f"{e.device_name or 'another computer'} while another computer changed it "
                        "too, and both versions were kept. Keep the one you want and delete the other.")
            return f"{e.name}\n{e.size} bytes"
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and conflict:
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return None
