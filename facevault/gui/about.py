"""About FaceVault: versions of the app and its libraries, the models and their licences.

May import: PySide6, stdlib, facevault.services.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from facevault.services.models import about_info

__all__ = ["AboutDialog", "about_html"]


def about_html() -> str:
    versions, models = about_info()
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in versions)
    mods = "".join(
        f"<li><b>{escape(m.name)}</b> ({escape(m.role)}): {escape(m.licence)}"
        f"<br/><small>from {escape(m.source)}</small></li>" for m in models
    ) or "<li>No model manifest found.</li>"
    return (
        "<h2>FaceVault</h2><p>An encrypted local vault that opens with your face. Your face "
        "is never stored: only IronMask helper data that needs your face to unlock the key.</p>"
        f"<h3>Versions</h3><table cellspacing='4'>{rows}</table>"
        f"<h3>Face models and their licences</h3><ul>{mods}</ul>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About FaceVault")
        self.text = QTextBrowser()
        self.text.setAccessibleName("About FaceVault: versions and licences")
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 520)
