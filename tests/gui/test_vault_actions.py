"""Browser and Security actions without the real models: Open (a private temporary copy,
deleted on lock and quit), "Use this device" with an in-memory keyring and the device
toggle, re-enroll with re-encryption (new recovery code), a new recovery code, and a
camera lost mid-stream reaching the no-camera screen.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facevault.errors import NotRecognisedError
from facevault.gui.main_window import MainWindow
from facevault.services.enroll import create_vault
from facevault.services.progress import drive as run
from tests.gui.conftest import cheap_policy
from tests.helpers.vaults import kinds, offer, unlock
from tests.gui.fakes import ME, FakeModels, LostCamera, steady_face, show_window
from tests.helpers.media import make_video
from tests.vision.test_liveness import OTHER

WAIT_MS = 30_000


@pytest.fixture
def opened(ctx: Any, tmp_path: Path) -> Any:
    """A face-only vault of ME holding notes.txt, its recovery code, and a camera that is absent."""
    created = create_vault(tmp_path / "v", ME, kdf=ctx.kdf())
    src = tmp_path / "notes.txt"
    src.write_text("meet at noon\n")
    run(created.vault.add_file(src, "notes.txt"))
    ctx.update_settings(camera="camera:9")
    return created


@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Any:
    w = show_window(qtbot, ctx)
    yield w
    w.close()


def _idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.browser.busy and not window.security._busy, timeout=WAIT_MS)


def _confirm_code(panel: Any) -> str:
    code = panel._code
    panel.next_button.click()
    a, b = panel.asked
    panel.first.setText(panel.groups[a])
    panel.second.setText(panel.groups[b])
    panel.done_button.click()
    return code


def test_open_uses_a_private_copy_deleted_on_lock_and_quit(qtbot, window, ctx, opened, shot) -> None:
    launched: list[Path] = []
    ctx.open_externally = lambda p: launched.append(p) or True
    assert not window.windowIcon().isNull()  # resources/icons, shipped by packaging
    window.show_vault(opened.vault)
    page = window.browser
    assert "E&xtract…" in page.extract_button.text() and not page.open_button.isEnabled()
    page.select_name("notes.txt")
    page.open_button.click()
    _idle(qtbot, window)
    assert len(launched) == 1 and launched[0].read_text() == "meet at noon\n"
    root = page.copies.root
    assert root is not None and stat.S_IMODE(root.stat().st_mode) == 0o700
    assert "deleted when the vault locks" in page.status.text()
    assert page.selected_names() == ["notes.txt"]  # the selection stays
    assert window.statusBar().currentMessage() == ""  # nothing stale from earlier screens
    shot(window, "27-browser-open")
    window.lock()
    assert not launched[0].exists() and not root.exists()

    # quitting deletes them too
    window.show_vault(unlock(opened.vault.path, offer(code=opened.recovery_code)))
    page.select_name("notes.txt")
    qtbot.keyClick(page.table, "\r")  # Enter opens
    _idle(qtbot, window)
    assert len(launched) == 2 and launched[1].exists()
    window.close()
    assert not launched[1].exists()


def test_use_this_device_and_the_device_toggle(qtbot, window, ctx, opened, shot) -> None:
    path = opened.vault.path
    window.show_vault(opened.vault)
    window.show_security()
    sec = window.security
    assert not sec.device.isChecked() and sec.device.isVisible()
    sec.device.click()
    _idle(qtbot, window)
    assert sec.device.isChecked() and "can now open" in sec.status.text()
    assert set(kinds(path)) == {"face", "recovery", "device"}
    shot(window, "28-security-device-on")

    window.lock()
    page = window.unlock
    qtbot.waitUntil(lambda: page.face.camera_missing, timeout=WAIT_MS)
    assert page.device_button.isVisible()
    page.device_button.click()
    qtbot.waitUntil(lambda: window.vault is not None or bool(ctx.dialogs.errors), timeout=WAIT_MS)
    assert window.vault is not None, ctx.dialogs.errors

    window.show_security()
    sec.device.click()
    _idle(qtbot, window)
    assert not sec.device.isChecked()
    assert "device" not in kinds(path)
    window.lock()
    assert not window.unlock.device_button.isVisible()
    window.unlock.face.stop()


def test_reenroll_with_reencryption_revokes_the_old_face(qtbot, window, ctx, opened, tmp_path, shot) -> None:
    video = tmp_path / "blank.avi"
    make_video([np.full((240, 320, 3), 128, np.uint8)], video, fps=10, size=(320, 240), frames_per_image=20)
    ctx.models = FakeModels(steady_face(OTHER))  # somebody new takes over the vault
    ctx.policy = cheap_policy(enroll_want=3)
    ctx.update_settings(camera=str(video))
    window.show_vault(opened.vault)
    window.show_security()
    sec = window.security
    sec.rotate.setChecked(True)
    sec.reenroll_button.click()
    qtbot.waitUntil(lambda: (sec.stack.currentIndex() == 0 and not sec._busy) or bool(ctx.dialogs.errors),
                    timeout=WAIT_MS)
    assert not ctx.dialogs.errors, ctx.dialogs.errors
    assert "re-encrypted" in sec.status.text() and "old face template is destroyed" in sec.status.text()
    shot(window, "29-security-reenrolled")
    path = opened.vault.path
    with pytest.raises(NotRecognisedError):
        unlock(path, offer(faces=(ME,)))  # the old face is revoked
    again = unlock(path, offer(faces=(OTHER,)))
    assert [e.name for e in again.entries()] == ["notes.txt"]
    assert unlock(path, offer(code=opened.recovery_code))  # re-enrolling does not revoke the code

def test_make_a_new_recovery_code(qtbot, window, ctx, opened, shot) -> None:
    window.show_vault(opened.vault)
    window.show_security()
    sec = window.security
    sec.recovery_button.click()
    qtbot.waitUntil(lambda: sec.stack.currentIndex() == 2 or bool(ctx.dialogs.errors), timeout=WAIT_MS)
    assert "old one stops working" in ctx.dialogs.confirmed[-1]
    shot(window, "30-security-new-recovery-code")
    new_code = _confirm_code(sec.code)
    assert "new recovery code is in place" in sec.status.text()
    with pytest.raises(NotRecognisedError):
        unlock(opened.vault.path, offer(code=opened.recovery_code))
    unlock(opened.vault.path, offer(code=new_code)).close()


def test_a_camera_lost_mid_stream_reaches_the_no_camera_screen(qtbot, window, ctx, opened, shot) -> None:
    ctx.models = FakeModels(steady_face(), source=lambda spec: LostCamera(spec, frames=5))
    ctx.update_settings(camera="camera:0")
    path = opened.vault.path
    opened.vault.close()
    seen: list[Any] = []
    page = window.unlock
    original = page._progress
    page._progress = lambda v: (seen.append(v), original(v))
    window.open_vault(path)
    qtbot.waitUntil(lambda: page.face.camera_missing or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert page.face.camera_missing
    assert seen  # frames came first, then the camera went away
    assert page.face.no_camera_title.text() == "No camera"
    assert "stopped delivering frames" in page.face.no_camera_text.text()
    assert not ctx.dialogs.errors and window.vault is None
    shot(window, "31-unlock-camera-lost")
