"""The desktop app end to end, with videos of the shared photos as the webcam and the real
face models: create a vault -> enroll -> lock -> unlock with other photos of the same
person -> add (dialog and drag and drop) -> extract -> a different person stays locked ->
recovery code -> re-enroll with the other person -> the old face no longer opens.

A screenshot of every screen goes to test-artifacts/gui/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from facevault.gui.main_window import MainWindow
from tests.gui.fakes import show_window

pytestmark = pytest.mark.slow

WAIT_MS = 60_000


def _hook(page: Any, name: str, when: Any, action: Any) -> None:
    """Wrap page.<name> (a progress callback) so `action(value)` runs once when `when(value)`."""
    original = getattr(page, name)
    fired = []

    def wrapper(value: Any) -> None:
        original(value)
        if not fired and when(value):
            fired.append(True)
            action(value)

    setattr(page, name, wrapper)


def _drop(widget: Any, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def _unlock_with(qtbot: Any, window: MainWindow, video: Path) -> None:
    window.ctx.update_settings(camera=str(video))
    window.unlock.start()


def test_create_enroll_unlock_files_recovery_reenroll(qtbot, ctx, videos, shot, tmp_path) -> None:
    # videos of photos cannot blink: this flow is about the face match, so the liveness
    # challenge (tests/gui/test_unlock_liveness.py) is off here, explicitly
    ctx.update_settings(liveness=False)
    window = show_window(qtbot, ctx)
    dialogs = ctx.dialogs
    shot(window, "01-start-empty")

    # -- create: where, capture, recovery code, confirm -------------------------------
    vault_path = tmp_path / "My Vault"
    window.create_vault()
    window.enroll.folder.setText(str(vault_path))
    shot(window, "02-enroll-where")
    ctx.update_settings(camera=str(videos["enroll_a"]))
    _hook(window.enroll, "_progress", lambda v: getattr(v, "good", 0) >= 2,
          lambda v: shot(window, "03-enroll-capture"))
    qtbot.mouseClick(window.enroll.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.enroll.steps.currentIndex() == 2 or bool(dialogs.errors), timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    assert not vault_path.exists()  # nothing is written before the code is confirmed
    panel = window.enroll.code
    code = panel._code
    assert len(code.split("-")) == 6
    shot(window, "04-enroll-recovery-code")
    panel.print_button.click()
    assert dialogs.printed == [code]
    panel.next_button.click()
    a, b = panel.asked
    qtbot.keyClicks(panel.first, panel.groups[a].lower())
    qtbot.keyClicks(panel.second, "XXXXX")
    assert not panel.done_button.isEnabled()
    shot(window, "05-enroll-confirm")
    panel.second.setText(panel.groups[b])
    assert panel.done_button.isEnabled()
    panel.done_button.click()
    qtbot.waitUntil(lambda: window.vault is not None or bool(dialogs.errors), timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    assert any((vault_path / "headers").glob("*.fvh"))
    assert window.stack.currentWidget() is window.browser

    # -- lock, then the same person (other photos) opens it by itself ------------------
    window.lock()
    assert window.vault is None and window.stack.currentWidget() is window.unlock
    _unlock_with(qtbot, window, videos["probe_a"])
    qtbot.waitUntil(lambda: window.vault is not None or window.unlock.retry_button.isVisible(),
                    timeout=WAIT_MS)
    assert window.vault is not None, window.unlock.face.status.text()

    # -- add through the dialog and by dropping; extract ----------------------------------
    doc = tmp_path / "plans.txt"
    doc.write_text("the plans\n")
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MiB
    dialogs.files.append([doc])
    window.browser.add_button.click()
    qtbot.waitUntil(lambda: not window.browser.busy, timeout=WAIT_MS)
    _drop(window.browser, [big])
    qtbot.waitUntil(lambda: not window.browser.busy, timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    assert sorted(e.name for e in window.vault.entries()) == ["big.bin", "plans.txt"]
    assert window.browser.model.rowCount() == 2
    window.browser.filter.setText("PLA")
    assert window.browser.proxy.rowCount() == 1
    window.browser.table.selectRow(0)
    shot(window, "07-browser")
    out = tmp_path / "out"
    out.mkdir()
    dialogs.folders.append(out)
    window.browser.extract_button.click()
    qtbot.waitUntil(lambda: not window.browser.busy, timeout=WAIT_MS)
    assert (out / "plans.txt").read_text() == "the plans\n"
    window.browser.filter.clear()
    window.browser.select_name("big.bin")
    window.browser.delete_button.click()
    qtbot.waitUntil(lambda: not window.browser.busy, timeout=WAIT_MS)
    assert [e.name for e in window.vault.entries()] == ["plans.txt"]
    assert "cannot be undone" in dialogs.confirmed[-1]

    # -- a different person stays locked ---------------------------------------------------
    window.lock_action.trigger()
    _unlock_with(qtbot, window, videos["probe_b"])
    qtbot.waitUntil(lambda: window.vault is not None or window.unlock.retry_button.isVisible(),
                    timeout=WAIT_MS)
    assert window.vault is None
    assert "not recognised" in window.unlock.face.status.text().lower()
    shot(window, "08-unlock-not-recognised")

    # -- the recovery code opens it -------------------------------------------------------------
    window.unlock.code_button.click()
    qtbot.keyClicks(window.unlock.code_edit, code.lower())
    shot(window, "09-unlock-recovery-code")
    qtbot.keyClick(window.unlock.code_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.vault is not None or bool(dialogs.errors), timeout=WAIT_MS)
    assert window.vault is not None, dialogs.errors

    # -- security: re-enroll with the other person ------------------------------------------
    window.browser.security_button.click()
    assert window.stack.currentWidget() is window.security
    assert window.security.slots.count() == 2
    qtbot.waitUntil(lambda: "Working out" not in window.security.explain.text(), timeout=WAIT_MS)
    assert "clear photo of you and a copy of this vault folder can open it" in window.security.explain.text()
    shot(window, "10-security")
    ctx.update_settings(camera=str(videos["enroll_b"]))
    window.security.reenroll_button.click()
    qtbot.waitUntil(lambda: window.security.stack.currentIndex() == 0, timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    assert "old face template is destroyed" in window.security.status.text()
    window.security.back_button.click()

    # -- the old face no longer opens; the new one does ------------------------------------
    _hook(window.unlock, "_progress", lambda v: v.observation is not None and v.observation.ok,
          lambda v: shot(window, "06-unlock-live"))
    window.lock()
    _unlock_with(qtbot, window, videos["probe_a"])
    qtbot.waitUntil(lambda: window.vault is not None or window.unlock.retry_button.isVisible(),
                    timeout=WAIT_MS)
    assert window.vault is None, "the revoked face still opened the vault"
    _unlock_with(qtbot, window, videos["probe_b"])
    qtbot.waitUntil(lambda: window.vault is not None or window.unlock.retry_button.isVisible(),
                    timeout=WAIT_MS)
    assert window.vault is not None, window.unlock.face.status.text()
    assert [e.name for e in window.vault.entries()] == ["plans.txt"]

    # -- no camera ------------------------------------------------------------------------------
    window.lock()
    ctx.update_settings(camera="camera:7")
    window.unlock.start()
    qtbot.waitUntil(lambda: window.unlock.face.camera_missing, timeout=WAIT_MS)
    shot(window, "11-no-camera")

    # -- back at the start, the vault is in the recent list -----------------------------------
    window.unlock.back_button.click()
    assert window.stack.currentWidget() is window.start
    assert window.start.recent.count() == 1
    shot(window, "12-start-recent")
    window.close()
