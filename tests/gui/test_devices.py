"""Computers in the window: a face+device vault made on computer A pairs computer B from the
Security page (the one-time code shown on screen, with its QR image), B pairs itself from
its unlock page with the code and a look at the camera, and B removes A: the list says who
is who, and the removed computer's secret opens nothing written afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.gui.devices_panel import PairingDialog, qr_image
from facevault.services.secretstore import MemoryStore
from facevault.services.unlock import LockedVault
from tests.gui.test_gui_modes import WAIT_MS, _create, scripted, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("scripted")


def _device_slots(path: Path) -> list[str]:
    return [s.slot_id.hex() for s in LockedVault.read(path).slots if s.kind is Kind.FACE_DEVICE]


def test_pair_a_second_computer_and_remove_the_first(qtbot, window, monkeypatch, tmp_path: Path, shot) -> None:
    path = tmp_path / "paired vault"
    _create(qtbot, window, path, Mode.FACE_DEVICE.label)
    ctx, dialogs = window.ctx, window.ctx.dialogs
    assert ctx.session_face is not None  # the enrollment opened it: pairing can start now
    window.show_security()
    panel = window.security.devices
    assert panel.pair_button.isVisible() and panel.list.count() == 1
    assert panel.list.item(0).text().startswith("This computer")
    first_slot = _device_slots(path)

    panel.pair_button.click()
    qtbot.waitUntil(lambda: bool(dialogs.pairings) or bool(dialogs.errors), timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    code = dialogs.pairings[0]
    assert len(_device_slots(path)) == 2 and panel.list.count() == 2
    window.security.scroll_area.ensureWidgetVisible(panel)
    shot(window, "43-security-computers")

    # -- computer B: its own keyring and its own device id ------------------------------
    window.lock()
    store_b = MemoryStore()
    ctx.secret_store = lambda: store_b
    monkeypatch.setenv("FACEVAULT_DATA_DIR", str(tmp_path / "computer-b"))
    window.open_vault(path)
    unlock = window.unlock
    qtbot.waitUntil(lambda: unlock.pair_button.isVisible(), timeout=WAIT_MS)
    unlock.face.stop()
    qtbot.waitUntil(lambda: not unlock.face.running if hasattr(unlock.face, "running") else True, timeout=WAIT_MS)
    shot(window, "44-unlock-pair-this-computer")
    dialogs.pairing_codes.append(code)
    unlock.pair_button.click()
    qtbot.waitUntil(lambda: window.vault is not None or bool(dialogs.errors), timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    slots = _device_slots(path)
    assert len(slots) == 2 and first_slot[0] in slots  # the pairing slot was replaced by B's own
    assert store_b._items  # B's device secret is in B's keyring

    window.show_security()
    panel = window.security.devices
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert texts[0].startswith("This computer") and texts[1].startswith("Another computer")

    # -- B removes A -------------------------------------------------------------------------
    panel.list.setCurrentRow(1)
    assert panel.remove_button.isEnabled()
    panel.remove_button.click()
    qtbot.waitUntil(lambda: panel.list.count() == 1 or bool(dialogs.errors), timeout=WAIT_MS)
    assert not dialogs.errors, dialogs.errors
    assert first_slot[0] not in _device_slots(path)
    assert "Removed" in window.security.status.text()


def test_the_code_is_used_once(qtbot, window, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "v"
    _create(qtbot, window, path, Mode.FACE_DEVICE.label)
    ctx, dialogs = window.ctx, window.ctx.dialogs
    window.show_security()
    window.security.devices.pair_button.click()
    qtbot.waitUntil(lambda: bool(dialogs.pairings), timeout=WAIT_MS)
    code = dialogs.pairings[0]
    for computer in ("b", "c"):
        window.lock()
        store = MemoryStore()
        ctx.secret_store = lambda store=store: store
        monkeypatch.setenv("FACEVAULT_DATA_DIR", str(tmp_path / computer))
        window.open_vault(path)
        window.unlock.face.stop()
        dialogs.pairing_codes.append(code)
        window.unlock.pair_button.click()
        qtbot.waitUntil(lambda: window.vault is not None or window.unlock.retry_button.isVisible()
                        or bool(dialogs.errors), timeout=WAIT_MS)
    assert window.vault is None  # the second computer was refused: the code was used up
    assert "no pairing waiting" in window.unlock.face.status.text()


def test_the_pairing_dialog_shows_the_code_and_its_qr_image(qtbot, shot) -> None:
    code = "FVP1-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345"
    image = qr_image(code)
    assert image.width() == image.height() and image.width() >= 21 * 6
    dialog = PairingDialog(object(), code)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.code_label.text() == code and not dialog.qr.pixmap().isNull()
    shot(dialog, "45-pairing-code")


def test_saving_a_code_is_owner_only_and_never_follows_a_symlink(qtbot, tmp_path: Path) -> None:
    import stat

    from facevault.gui.dialogs import save_secret
    from tests.gui.conftest import FakeDialogs

    dialogs = FakeDialogs()
    existing, victim, link = tmp_path / "code.txt", tmp_path / "victim.txt", tmp_path / "link.txt"
    existing.write_text("old")
    existing.chmod(0o644)
    victim.write_text("untouched")
    link.symlink_to(victim)
    for target in (existing, link):
        dialogs.saves.append(target)
        assert save_secret(dialogs, None, "Save the pairing code", "x.txt", "FVP1-CODE") == target
        assert target.read_text() == "FVP1-CODE\n" and not target.is_symlink()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert victim.read_text() == "untouched" and dialogs.errors == []
