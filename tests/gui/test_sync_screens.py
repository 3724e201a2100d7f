"""The app and a vault a sync tool keeps changing: the browser refreshes by itself when
another computer's changes arrive, shows the conflict copies it made and says what to do,
asks to unlock again when the keys changed elsewhere; a folder this computer refuses gets a
banner with "Trust this folder…", which opens it after a confirmation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from facevault.core.factors import Factors, RecoveryFactor
from facevault.core.vault import DeviceRef, open_vault
from facevault.services.enroll import create_vault
from facevault.services.trust import PinStore
from facevault.services.recovery import regenerate_recovery
from tests.gui.fakes import ME, show_window

WAIT_MS = 20_000


@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Any:
    w = show_window(qtbot, ctx)
    yield w
    w.close()


def _other_computer(path: Path, code: str) -> Any:
    """The same folder opened by another device (its changes 'arrive' as a sync would)."""
    return open_vault(path, Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "desktop"))


def _sync_into(src: Path, dst: Path) -> None:
    """What a sync tool delivers: the other device's new objects and its journal."""
    for sub in ("objects", "journal"):
        for p in (src / sub).iterdir():
            target = dst / sub / p.name
            if not target.exists() or (sub == "journal" and p.read_bytes() != target.read_bytes()
                                       and p.stat().st_size > target.stat().st_size):
                tmp = target.with_name(".syncing." + p.name)
                shutil.copy2(p, tmp)
                tmp.replace(target)


def test_changes_from_another_computer_show_up_by_themselves(qtbot, window, ctx, tmp_path, shot) -> None:
    created = create_vault(tmp_path / "v", ME, kdf=ctx.kdf())
    created.vault.add_bytes("report.txt", b"v1")
    window.show_vault(created.vault)
    browser = window.browser
    assert browser.model.rowCount() == 1
    other = _other_computer(tmp_path / "v", created.recovery_code)
    other.add_bytes("from-desktop.txt", b"hello")
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2, timeout=WAIT_MS)
    assert "Updated from the synced folder" in browser.status.text()
    # both computers change report.txt before they sync: both versions are kept
    desk = tmp_path / "desktop-copy"
    shutil.copytree(tmp_path / "v", desk, ignore=shutil.ignore_patterns(".lock"))
    other = open_vault(desk, Factors(RecoveryFactor(created.recovery_code)), device=other.device)
    created.vault.add_bytes("report.txt", b"laptop's", overwrite=True)
    other.add_bytes("report.txt", b"desktop's", overwrite=True)
    _sync_into(desk, tmp_path / "v")
    qtbot.waitUntil(lambda: browser.model.rowCount() == 3 and browser.conflict_note.isVisible(),
                    timeout=WAIT_MS)
    text = browser.conflict_note.label.text()
    assert "report.txt" in text and "both versions were kept" in text and "delete the other" in text
    names = [browser.model.entry(r).name for r in range(3)]
    assert any(n.startswith("report (conflict, ") for n in names)
    shot(window, "40-browser-conflict-copy")


def test_keys_changed_elsewhere_asks_to_unlock_again(qtbot, window, ctx, tmp_path, shot) -> None:
    created = create_vault(tmp_path / "v", ME, kdf=ctx.kdf())
    window.show_vault(created.vault)
    other = _other_computer(tmp_path / "v", created.recovery_code)
    regenerate_recovery(other)  # a new epoch made on the other computer
    browser = window.browser
    qtbot.waitUntil(lambda: browser.banner.isVisible(), timeout=WAIT_MS)
    assert "Unlock it again" in browser.banner.label.text()
    shot(window, "41-browser-keys-changed-elsewhere")
    browser.banner.button.click()
    assert window.stack.currentWidget() is window.unlock


def test_a_swapped_folder_is_refused_with_a_banner_and_can_be_trusted(qtbot, window, ctx, tmp_path, shot) -> None:
    created = create_vault(tmp_path / "v", ME, kdf=ctx.kdf())
    created.vault.close()
    shutil.rmtree(tmp_path / "v")
    theirs = create_vault(tmp_path / "v", ME, kdf=ctx.kdf(), pins=PinStore(tmp_path / "attacker"))
    theirs.vault.close()
    ctx.update_settings(camera="camera:9")
    window.open_vault(tmp_path / "v")
    page = window.unlock
    assert window.stack.currentWidget() is page and page.refused.isVisible()
    assert "another vault" in page.refused.label.text() and "Trust this folder" in page.refused.label.text()
    assert not ctx.dialogs.errors
    shot(window, "42-unlock-refused-swapped")
    page.refused.button.click()  # the person did replace it: trust it, then unlock as usual
    assert ctx.dialogs.confirmed and "backup" in ctx.dialogs.confirmed[-1]
    assert not page.refused.isVisible() and page.locked is not None and page.locked.trusting
    page.code_edit.setText(theirs.recovery_code)
    page.use_code()
    qtbot.waitUntil(lambda: window.vault is not None, timeout=WAIT_MS)
    assert window.vault.vault_id == theirs.vault.vault_id
