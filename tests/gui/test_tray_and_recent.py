"""The tray menu (lock now, open a recent vault, quit) and removing a vault from the start
page's recent list (the folder is not touched). Offscreen there is no system tray, so the
tests drive the menu the tray icon would show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from facevault.core.kdf import TEST_PARAMS
from facevault.services.enroll import create_vault
from tests.gui.fakes import show_window


def _vault(path: Path) -> object:
    face = np.random.default_rng(2).standard_normal(512)
    return create_vault(path, face / np.linalg.norm(face), kdf=TEST_PARAMS).vault


def test_lock_now_from_the_tray_menu(qtbot, ctx, tmp_path: Path) -> None:
    window = show_window(qtbot, ctx)
    tray = window.tray
    tray.update()
    assert not tray.lock_action.isEnabled()  # nothing to lock
    window.show_vault(_vault(tmp_path / "v"))
    tray.update()
    assert tray.lock_action.isEnabled()
    copy = window.browser.copies.target("x.txt")
    copy.write_bytes(b"open copy")
    tray.lock_action.trigger()
    assert window.vault is None and window.stack.currentWidget() is window.unlock
    assert not copy.exists()


def test_open_a_recent_vault_from_the_tray_menu(qtbot, ctx, tmp_path: Path) -> None:
    _vault(tmp_path / "first").close()  # type: ignore[attr-defined]
    ctx.remember_vault(tmp_path / "first")
    window = show_window(qtbot, ctx)
    tray = window.tray
    tray.update()
    actions = tray.recent_menu.actions()
    assert [a.text() for a in actions] == ["first"]
    actions[0].trigger()
    assert window.stack.currentWidget() is window.unlock
    assert window.unlock.path == tmp_path / "first"
    window.unlock.cancel()


def test_remove_a_vault_from_the_recent_list_keeps_its_folder(qtbot, ctx, tmp_path: Path, shot) -> None:
    for name in ("kept", "gone"):
        _vault(tmp_path / name).close()  # type: ignore[attr-defined]
        ctx.remember_vault(tmp_path / name)
    ctx.remember_vault(tmp_path / "moved away")  # a folder that is not there any more
    window = show_window(qtbot, ctx)
    start = window.start
    assert start.recent.count() == 3
    shot(window, "46-start-recent-remove")
    start.recent.setCurrentRow(0)  # the newest: "moved away", shown as not found
    assert "(not found)" in start.recent.currentItem().text()
    start.remove_button.click()
    assert start.recent.count() == 2 and str(tmp_path / "moved away") not in ctx.settings.recent
    start.recent.setFocus()
    start.recent.setCurrentRow(0)  # "gone"
    qtbot.keyClick(start.recent, Qt.Key.Key_Delete)
    assert [Path(p).name for p in ctx.settings.recent] == ["kept"]
    assert (tmp_path / "gone").is_dir()  # only forgotten here: the vault folder stays
    assert ctx.settings_store.load().recent == ctx.settings.recent  # saved
