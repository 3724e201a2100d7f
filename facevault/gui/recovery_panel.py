"""Showing a new recovery code once (copy, save, print) and asking for part of it back.

Two steps in one widget: the code with its buttons, then "type groups N and M". The
`confirmed` signal fires only when both groups match. The code lives in this widget until
`forget()`; it is never logged or stored by the app.

May import: PySide6, stdlib, facevault.gui.
"""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from facevault.gui.context import AppContext
from facevault.gui.dialogs import save_secret

__all__ = ["RecoveryCodePanel"]

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


class RecoveryCodePanel(QStackedWidget):
    confirmed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._code = ""
        self.asked: tuple[int, int] = (0, 1)
        self.forget_on_confirm = True  # False: the owner forgets it once its work is done

        # step 1: show
        show = QWidget()
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.code_label = QLabel()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.6)
        mono.setBold(True)
        self.code_label.setFont(mono)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setAccessibleName("Recovery code")
        self.copy_button = QPushButton("&Copy")
        self.save_button = QPushButton("&Save to a file…")
        self.print_button = QPushButton("&Print…")
        self.next_button = QPushButton("I have written it &down")
        self.next_button.setDefault(True)
        self.feedback = QLabel(" ")
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.save)
        self.print_button.clicked.connect(self.print_code)
        self.next_button.clicked.connect(self.ask)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.save_button, self.print_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        lay = QVBoxLayout(show)
        lay.addWidget(self.intro)
        lay.addStretch(1)
        lay.addWidget(self.code_label)
        lay.addStretch(1)
        lay.addWidget(self.feedback)
        lay.addLayout(buttons)

        # step 2: confirm
        confirm = QWidget()
        self.ask_label = QLabel()
        self.ask_label.setWordWrap(True)
        self.first = QLineEdit()
        self.second = QLineEdit()
        for edit in (self.first, self.second):
            edit.setMaxLength(5)
            edit.setFont(mono)
            edit.textChanged.connect(self._check)
        self.first_label, self.second_label = QLabel(), QLabel()
        self.first_label.setBuddy(self.first)
        self.second_label.setBuddy(self.second)
        form = QFormLayout()
        form.addRow(self.first_label, self.first)
        form.addRow(self.second_label, self.second)
        self.back_button = QPushButton("&Show the code again")
        self.back_button.clicked.connect(lambda: self.setCurrentIndex(0))
        self.done_button = QPushButton("&Finish")
        self.done_button.setEnabled(False)
        self.done_button.setDefault(True)
        self.done_button.clicked.connect(self._done)
        self.mismatch = QLabel(" ")
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.done_button)
        lay2 = QVBoxLayout(confirm)
        lay2.addWidget(self.ask_label)
        lay2.addLayout(form)
        lay2.addWidget(self.mismatch)
        lay2.addStretch(1)
        lay2.addLayout(row)

        self.addWidget(show)
        self.addWidget(confirm)

    @property
    def groups(self) -> list[str]:
        return self._code.split("-")

    def show_code(self, code: str, intro: str) -> None:
        self._code = code
        self.intro.setText(intro + "\n\nWrite it down and keep it somewhere safe, away from this "
                           "computer. It is shown only now; FaceVault does not keep a copy.")
        self.code_label.setText(code.replace("-", " - "))
        self.feedback.setText(" ")
        self.first.clear()
        self.second.clear()
        self.setCurrentIndex(0)
        self.next_button.setFocus()

    def forget(self) -> None:
        self._code = ""
        self.code_label.clear()
        self.first.clear()
        self.second.clear()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self._code)
        self.feedback.setText("Copied. Paste it somewhere safe, then clear your clipboard.")

    def save(self) -> None:
        target = save_secret(self.ctx.dialogs, self, "Save the recovery code",
                             "facevault-recovery-code.txt", self._code)
        if target is None:
            return
        self.feedback.setText(f"Saved to {target} (only you can read it). Keep a copy off this computer.")

    def print_code(self) -> None:
        if self.ctx.dialogs.print_text(self, "FaceVault recovery code", self._code):
            self.feedback.setText("Sent to the printer.")

    def ask(self) -> None:
        count = len(self.groups)
        self.asked = tuple(sorted(random.sample(range(count), 2)))  # type: ignore[assignment]
        a, b = self.asked
        self.ask_label.setText("To make sure the code was written down correctly, type two of its "
                               "groups of five characters.")
        self.first_label.setText(f"The &{ORDINALS[a]} group:")
        self.second_label.setText(f"The {ORDINALS[b]} &group:")
        self.first.clear()
        self.second.clear()
        self.setCurrentIndex(1)
        self.first.setFocus()

    def _check(self) -> None:
        if len(self.groups) < 2:
            self.done_button.setEnabled(False)
            return
        a, b = self.asked
        typed = (self.first.text().strip().upper(), self.second.text().strip().upper())
        ok = typed == (self.groups[a], self.groups[b])
        self.done_button.setEnabled(ok)
        full = all(len(t) == 5 for t in typed)
        self.mismatch.setText("" if ok or not full else "That does not match; check the code again.")

    def _done(self) -> None:
        if self.forget_on_confirm:
            self.forget()
        self.confirmed.emit()

    def set_busy(self, text: str | None) -> None:
        """While the vault is being written after the confirmation (None: done)."""
        busy = text is not None
        self.done_button.setEnabled(not busy and self._code != "")
        self.back_button.setEnabled(not busy)
        self.mismatch.setText(text or "")
