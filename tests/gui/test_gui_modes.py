"""Two-factor modes in the GUI, with scripted face pipelines (tests/gui/fakes.py) and the
liveness challenge on: the create wizard's mode choice, the passphrase asked at unlock,
the Security page's plain-words attack figures, and changing the mode there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from facevault.core.modes import Mode
from facevault.gui.main_window import MainWindow
from facevault.services.unlock import LockedVault
from tests.gui.conftest import cheap_policy
from tests.gui.fakes import FakeModels, good_sequence, show_window
from tests.helpers.media import make_video

WAIT_MS = 30_000


@pytest.fixture
def scripted(ctx: Any, tmp_path: Path) -> Any:
    """ctx with a scripted face (blinks, turns left, looks back) and a blank video camera."""
    video = tmp_path / "blank.avi"
    make_video([np.full((240, 320, 3), 128, np.uint8)], video, fps=10, size=(320, 240), frames_per_image=40)
    ctx.models = FakeModels(good_sequence("left"))
    ctx.allow_still_liveness = True
    ctx.liveness_side = "left"
    ctx.policy = cheap_policy(enroll_want=3)
    ctx.update_settings(camera=str(video))
    return ctx


@pytest.fixture
def window(qtbot: Any, scripted: Any) -> Any:
    w = show_window(qtbot, scripted)
    yield w
    w.close()


def _create(qtbot: Any, window: MainWindow, path: Path, mode: str, passphrase: str = "") -> None:
    page = window.enroll
    window.create_vault()
    page.folder.setText(str(path))
    page.mode_buttons[Mode(mode)].click()
    page.passphrase.setText(passphrase)
    page.passphrase2.setText(passphrase)
    page.start_button.click()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2 or bool(window.ctx.dialogs.errors), timeout=WAIT_MS)
    assert not window.ctx.dialogs.errors, window.ctx.dialogs.errors
    panel = page.code
    panel.next_button.click()
    a, b = panel.asked
    panel.first.setText(panel.groups[a])
    panel.second.setText(panel.groups[b])
    panel.done_button.click()
    qtbot.waitUntil(lambda: window.vault is not None or bool(window.ctx.dialogs.errors), timeout=WAIT_MS)
    assert window.vault is not None, window.ctx.dialogs.errors


def _mode(path: Path) -> str:
    mode = LockedVault.read(path).mode
    return mode.label if mode is not None else "none"


def test_the_wizard_offers_three_modes_with_a_sentence_each(qtbot, window, shot) -> None:
    page = window.enroll
    window.create_vault()
    labels = [b.text() for b in page.mode_buttons.values()]
    assert labels == ["Face only (portable)", "Face + this computer", "Face + passphrase"]
    assert page.mode is Mode.FACE and not page.pass_form.isVisible() and page.device.isVisible()
    page.mode_buttons[Mode.FACE_PASSPHRASE].click()
    assert page.pass_form.isVisible() and not page.device.isVisible()
    from PySide6.QtWidgets import QApplication

    page.preset.setFocus()
    order = []
    for _ in range(5):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    # the radio group is one tab stop (arrow keys move within it), then the passphrase fields
    assert order[0] in page.mode_buttons.values(), order
    assert order[1:] == [page.passphrase, page.passphrase2, page.cancel_button, page.start_button], order
    shot(window, "23-enroll-modes")
    page.passphrase.setText("abc")
    page.passphrase2.setText("abc")
    page.start_button.click()  # too short: said before any capture
    assert "at least 4" in str(window.ctx.dialogs.errors[-1])
    page.passphrase2.setText("abd")
    page.start_button.click()
    assert "differ" in str(window.ctx.dialogs.errors[-1])
    assert page.steps.currentIndex() == 0


def test_face_and_passphrase_vault_asks_for_it_at_unlock(qtbot, window, ctx, shot, tmp_path) -> None:
    path = tmp_path / "pp"
    _create(qtbot, window, path, "face+passphrase", "correct horse")
    assert _mode(path) == "face+passphrase"

    window.lock()
    page = window.unlock
    assert page.pass_row.isVisible() and not page.face.running  # the camera waits for it
    assert "passphrase" in page.mode_note.text()
    from PySide6.QtWidgets import QApplication

    assert QApplication.focusWidget() is page.pass_edit
    qtbot.keyClick(page.pass_edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.pass_go
    qtbot.keyClick(page.pass_go, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.face.chooser
    page.pass_edit.setText("wrong horse")
    shot(window, "24-unlock-passphrase")
    page.pass_go.click()
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is None  # the right face with the wrong passphrase stays shut
    assert page.face.view.guidance == "Not recognised"
    page.pass_edit.setText("correct horse")
    page.pass_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is not None, page.face.status.text()
    assert page.pass_edit.text() == ""  # not kept after unlocking

    # the Security page says what the mode buys, in plain words
    window.show_security()
    sec = window.security
    assert sec.mode_title.text() == "Mode: Face + passphrase"
    qtbot.waitUntil(lambda: "Working out" not in sec.explain.text(), timeout=WAIT_MS)
    assert "exactly as strong as the passphrase" in sec.explain.text()
    assert "passphrase" in sec.explain.text()
    assert not sec.device.isVisible()
    shot(window, "25-security-passphrase-mode")


def test_change_to_face_only_shows_the_photo_warning(qtbot, window, ctx, shot, tmp_path) -> None:
    path = tmp_path / "dev"
    _create(qtbot, window, path, "face+device")
    assert _mode(path) == "face+device"
    window.lock()
    page = window.unlock
    assert not page.pass_row.isVisible()
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is not None, page.face.status.text()  # face + this computer's keyring

    window.show_security()
    sec = window.security
    assert sec.mode_title.text() == "Mode: Face + this computer"
    sec.new_mode.setCurrentIndex(sec.new_mode.findData(Mode.FACE))
    assert sec.mode_button.isEnabled()
    sec.mode_button.click()
    qtbot.waitUntil(lambda: sec.stack.currentIndex() == 0 and not sec._busy, timeout=WAIT_MS)
    assert not ctx.dialogs.errors, ctx.dialogs.errors
    assert _mode(path) == "face"
    assert "now opens with" in sec.status.text()
    qtbot.waitUntil(lambda: "Working out" not in sec.explain.text(), timeout=WAIT_MS)
    assert ("someone with a clear photo of you and a copy of this vault folder can open it"
            in sec.explain.text())
    assert sec.device.isVisible()
    shot(window, "26-security-face-only")

    # and back to face + passphrase: asks the passphrase, re-encrypts; the recovery code stays
    ctx.dialogs.passphrases.append("1234")
    sec.new_mode.setCurrentIndex(sec.new_mode.findData(Mode.FACE_PASSPHRASE))
    sec.mode_button.click()
    qtbot.waitUntil(lambda: (sec.stack.currentIndex() == 0 and not sec._busy) or bool(ctx.dialogs.errors),
                    timeout=WAIT_MS)
    assert not ctx.dialogs.errors, ctx.dialogs.errors
    assert _mode(path) == "face+passphrase"
    assert "re-encrypted" in sec.status.text()


@pytest.mark.parametrize("how", ["cancel", "quit"])
def test_leaving_at_the_recovery_code_leaves_nothing_on_disk(qtbot, window, tmp_path: Path, how: str) -> None:
    """The vault is written only once the code was typed back: cancelling the wizard or
    closing the window while the code is shown leaves no folder and no keyring entry."""
    page = window.enroll
    path = tmp_path / "never"
    store = window.ctx.secret_store()
    before = dict(store._items)  # the test context's MemoryStore
    window.create_vault()
    page.folder.setText(str(path))
    page.mode_buttons[Mode.FACE_DEVICE].click()
    page.start_button.click()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2 or bool(window.ctx.dialogs.errors), timeout=WAIT_MS)
    assert not window.ctx.dialogs.errors, window.ctx.dialogs.errors
    assert page.code._code  # the code is on screen
    assert not path.exists()
    if how == "cancel":
        page.cancel()
        assert window.stack.currentWidget() is window.start
    else:
        window.close()
    assert not path.exists()
    assert page.code._code == ""
    assert store._items == before  # no device secret was put in the keyring
