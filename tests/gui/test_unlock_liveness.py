"""The unlock screen with the liveness challenge on (the GUI default): a video of one still
photo (moved, zoomed, brightened) shows "Blink", times out and stays locked, though the
same face would open the vault without the challenge; a scripted blink-and-turn passes and
opens it. Screenshots go to test-artifacts/gui/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facevault.gui.main_window import MainWindow
from facevault.services.enroll import create_vault
from facevault.services.progress import Stage, drive as run
from facevault.services.settings import Settings
from tests.gui.conftest import PHOTOS
from tests.gui.fakes import ME, FakeModels, good_sequence, show_window
from tests.helpers.media import make_video, read_bgr

WAIT_MS = 60_000


def _window(qtbot: Any, ctx: Any) -> MainWindow:
    return show_window(qtbot, ctx, models_ready=False)


def _record(page: Any, seen: list[tuple[str, str]], when: Any = None, action: Any = None) -> None:
    """Wrap page._progress: record (banner, badge) of the view after every item."""
    original = page._progress
    fired: list[bool] = []

    def wrapper(value: Any) -> None:
        original(value)
        seen.append((page.face.view.guidance, page.face.view.badge))
        if when is not None and not fired and when(value):
            fired.append(True)
            action()

    page._progress = wrapper


def _still_video(photo: Path, out: Path) -> Path:
    """8 s at 5 fps of one photo with small shifts, zoom and brightness changes."""
    import cv2

    base = read_bgr(photo)
    frames = []
    for i in range(40):
        h, w = base.shape[:2]
        zoom = 1.0 + 0.02 * np.sin(i / 5)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, zoom)
        m[:, 2] += (3 * np.sin(i / 3), 2 * np.cos(i / 4))
        img = cv2.warpAffine(base, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        frames.append(np.clip(img.astype(np.float32) * (1.0 + 0.05 * np.sin(i / 2)), 0, 255).astype(np.uint8))
    make_video(frames, out, fps=5)
    return out


@pytest.mark.slow
def test_a_still_photo_video_shows_blink_then_times_out_and_stays_locked(
        qtbot, ctx, videos, shot, tmp_path) -> None:
    template = run(ctx.capture_template(str(videos["enroll_a"])))
    create_vault(tmp_path / "v", template, kdf=ctx.kdf()).vault.close()
    still = _still_video(sorted((PHOTOS / "id01").glob("*.jpg"))[5], tmp_path / "still.avi")
    ctx.allow_still_liveness = True
    assert ctx.settings.liveness  # on by default
    ctx.update_settings(camera=str(still))
    window = _window(qtbot, ctx)
    page = window.unlock
    seen: list[tuple[str, str]] = []
    _record(page, seen, lambda v: getattr(getattr(v, "observation", None), "ok", False),
            lambda: shot(window, "20-unlock-liveness-blink"))
    window.open_vault(tmp_path / "v")
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is None
    assert ("Blink", "Step 1 of 3 · 15 s left") in seen or any(b == "Blink" for b, _ in seen)
    assert any(badge.startswith("Step 1 of 3") for _b, badge in seen)
    status = page.face.status.text()
    assert "liveness check failed" in status.lower() and "timed out" in status.lower(), status
    assert page.face.view.guidance == "Liveness check failed"
    assert not ctx.dialogs.errors
    shot(window, "21-unlock-liveness-failed")

    # the same photos open it with the challenge off: the challenge is what kept it shut
    ctx.update_settings(liveness=False)
    page.retry_button.click()
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is not None, page.face.status.text()
    window.close()


def test_a_scripted_blink_and_turn_passes_and_unlocks(qtbot, ctx, shot, tmp_path) -> None:
    create_vault(tmp_path / "v", ME, kdf=ctx.kdf()).vault.close()
    video = tmp_path / "blank.avi"
    make_video([np.full((240, 320, 3), 128, np.uint8)], video, fps=10, size=(320, 240), frames_per_image=40)
    ctx.models = FakeModels(good_sequence("left"))
    ctx.allow_still_liveness = True
    ctx.liveness_side = "left"
    ctx.update_settings(camera=str(video))
    window = _window(qtbot, ctx)
    page = window.unlock
    seen: list[tuple[str, str]] = []
    _record(page, seen, lambda v: "left" in getattr(getattr(v, "status", None), "instruction", ""),
            lambda: shot(window, "22-unlock-liveness-turn"))
    window.open_vault(tmp_path / "v")
    qtbot.waitUntil(lambda: window.vault is not None or page.retry_button.isVisible(), timeout=WAIT_MS)
    assert window.vault is not None, page.face.status.text()
    banners = [b for b, _ in seen]
    order = ["Blink", "Turn your head a little to your left", "Now look straight at the camera",
             Stage.DECODING.text]
    assert all(b in banners for b in order), banners
    assert [banners.index(b) for b in order] == sorted(banners.index(b) for b in order)
    window.close()


def test_liveness_setting_is_on_by_default_and_kept(ctx) -> None:
    assert Settings().liveness is True
    ctx.update_settings(liveness=False)
    assert ctx.settings_store.load().liveness is False
    ctx.settings_store.path.write_text('{"liveness": "no"}')
    assert ctx.settings_store.load().liveness is True  # only an explicit false turns it off
