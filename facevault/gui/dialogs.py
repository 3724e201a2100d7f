"""Every modal question the app asks, behind one small object so tests can answer them.

`Dialogs` uses the real Qt dialogs; tests pass an object with the same methods that
returns scripted answers and records errors. Errors from facevault.errors are shown as a
plain message with their hint (`message_of`).

May import: PySide6, stdlib, facevault.errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QMessageBox, QWidget,
)

from facevault.errors import FaceVaultError
from facevault.gui.hints import hint_text

__all__ = ["Dialogs", "message_of", "status_of", "save_secret"]


def message_of(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for a user: FaceVaultError text and hint, anything else plainly."""
    if isinstance(exc, FaceVaultError):
        text = str(exc)
        return text[:1].upper() + text[1:], hint_text(exc) or ""
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}", "Check the file or folder and try again."
    return f"Something went wrong: {type(exc).__name__}: {exc}", "Please report this as a bug."


def status_of(exc: BaseException) -> str:
    """One or two sentences for a status line: the message, then the hint."""
    message, hint = message_of(exc)
    message = message if message.endswith((".", "!", "?")) else message + "."
    return f"{message} {hint[:1].upper()}{hint[1:]}" if hint else message


class Dialogs:
    def open_files(self, parent: QWidget, title: str) -> list[Path]:
        names, _ = QFileDialog.getOpenFileNames(parent, title)
        return [Path(n) for n in names]

    def open_file(self, parent: QWidget, title: str, filter: str = "") -> Path | None:  # noqa: A002
        name, _ = QFileDialog.getOpenFileName(parent, title, "", filter)
        return Path(name) if name else None

    def save_file(self, parent: QWidget, title: str, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(parent, title, suggested)
        return Path(name) if name else None

    def folder(self, parent: QWidget, title: str) -> Path | None:
        name = QFileDialog.getExistingDirectory(parent, title)
        return Path(name) if name else None

    def confirm(self, parent: QWidget, title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def error(self, parent: QWidget, exc: BaseException) -> None:
        message, hint = message_of(exc)
        box = QMessageBox(QMessageBox.Icon.Warning, "FaceVault", message, parent=parent)
        if hint:
            box.setInformativeText(hint)
        box.exec()

    def passphrase(self, parent: QWidget, title: str, text: str, *, twice: bool = False) -> str | None:
        """A passphrase typed (twice, when `twice`, and only accepted when both match);
        None when cancelled. Never logged or kept."""
        dialog = QDialog(parent)
        dialog.setWindowTitle(title)
        first, second = QLineEdit(), QLineEdit()
        for edit, name in ((first, "Passphrase"), (second, "Passphrase again")):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
        note = QLabel(text)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form = QFormLayout(dialog)
        form.addRow(note)
        form.addRow("&Passphrase or PIN:", first)
        if twice:
            form.addRow("&Again:", second)
        form.addRow(buttons)

        def check() -> None:
            ok.setEnabled(bool(first.text()) and (not twice or first.text() == second.text()))

        first.textChanged.connect(check)
        second.textChanged.connect(check)
        check()
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return first.text()

    def info(self, parent: QWidget, text: str) -> None:
        QMessageBox.information(parent, "FaceVault", text)

    def pairing_code(self, parent: QWidget) -> str | None:
        """The pairing code typed or pasted from the other computer; None when cancelled."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(
            parent, "Pair this computer",
            "Type or paste the pairing code that the other computer shows\n"
            "(Security → Computers → Pair another computer…):")
        return text.strip() if ok and text.strip() else None

    def show_pairing(self, parent: QWidget, code: str) -> None:
        """Show a new pairing code (text and QR image) until the person closes it."""
        from facevault.gui.devices_panel import PairingDialog

        PairingDialog(self, code, parent).exec()

    def print_text(self, parent: QWidget, title: str, text: str) -> bool:
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dialog = QPrintDialog(printer, parent)
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return False
        doc = QTextDocument()
        doc.setPlainText(f"{title}\n\n{text}\n")
        doc.print_(printer)
        return True


def save_secret(dialogs: Any, parent: QWidget, title: str, suggested: str, text: str) -> Path | None:
    """Ask where to save `text` (a recovery or pairing code) and write it there owner-only:
    a new file renamed into place, so an existing file (which the save dialog asked about)
    is replaced rather than rewritten with its old permissions, and a symlink there is
    replaced, never followed. Returns the path, or None when cancelled or it failed (the
    error was shown)."""
    from facevault.core import fsutil

    target = dialogs.save_file(parent, title, suggested)
    if target is None:
        return None
    try:
        fsutil.write_private(Path(target), (text + "\n").encode("utf-8"), what=title.lower(), replace=True)
    except FaceVaultError as exc:
        dialogs.error(parent, exc)
        return None
    return Path(target)

