"""A scroll area whose page grows to what its word-wrapped labels need, and the paragraphs
the Security page shows the attack figures in.

May import: PySide6, stdlib.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QScrollArea

__all__ = ["FitScroll", "explain_text"]


class FitScroll(QScrollArea):
    """A scroll area whose page is as tall as its wrapped labels need at the current width
    (QScrollArea alone squeezes word-wrapped labels in group boxes until they clip)."""

    def fit(self) -> None:
        inner = self.widget()
        layout = inner.layout() if inner is not None else None
        if inner is None or layout is None:
            return
        width = self.viewport().width()
        need = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalMinimumSize().height()
        inner.setMinimumHeight(need)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()


def explain_text(lines: list[str]) -> str:
    """threat.describe() lines as paragraphs: the summary and cost, the attacks, the notes."""
    attacks = [i for i, line in enumerate(lines) if line.startswith("  - ")]
    if not attacks:
        return "\n".join(lines)
    first, last = attacks[0], attacks[-1] + 1
    return "\n\n".join(["\n".join(lines[:first]), "\n".join(l.strip() for l in lines[first:last]),
                        "\n".join(lines[last:])]).strip()
