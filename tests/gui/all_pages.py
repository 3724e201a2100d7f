"""Run as a script (by test_no_clipped_text.py) in a fresh process, so QT_SCALE_FACTOR and
the theme are real: builds the window at its default size, walks every page (in the state
a person sees it in, with a real vault), saves a screenshot of each and prints one JSON
line: page -> the texts that do not fit (tests/gui/clipping.py) and the controls a screen
reader cannot name (tests/gui/a11y.py).

Usage: python tests/gui/all_pages.py OUT_DIR PREFIX THEME WORK_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    out, prefix, theme_name, work = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from facevault.core.kdf import TEST_PARAMS
    from facevault.core.modes import Mode
    from facevault.gui import app as gui_app
    from facevault.gui import theme
    from facevault.services.enroll import create_vault
    from facevault.services.secretstore import MemoryStore
    from tests.gui.a11y import unnamed
    from tests.gui.clipping import clipped

    qapp = QApplication([])
    theme.apply(qapp, theme_name)
    ctx = gui_app.default_context()
    store = MemoryStore()
    ctx.secret_store = lambda: store
    window = gui_app.build(ctx, warm_models=False)
    window.resize(900, 640)  # the default window size
    window.show()
    report: dict[str, list[str]] = {}
    nameless: dict[str, list[str]] = {}

    def page(name: str, widget=None) -> None:  # type: ignore[no-untyped-def]
        target = widget or window
        deadline = time.monotonic() + 20
        while ctx.tasks.busy and time.monotonic() < deadline:  # figures worked out in a worker
            qapp.processEvents()
            time.sleep(0.01)
        for _ in range(5):
            qapp.processEvents()
        target.grab().save(str(out / f"{prefix}-{name}.png"))
        report[name] = clipped(target)
        nameless[name] = unnamed(target)

    rng = np.random.default_rng(3)
    face = rng.standard_normal(512)
    face /= np.linalg.norm(face)
    vault_path = work / "Holiday photos vault"
    created = create_vault(vault_path, face, mode=Mode.FACE, kdf=TEST_PARAMS, store=store)
    for i, name in enumerate(["passport scan.pdf", "tax return 2025.xlsx", "notes.txt"]):
        created.vault.add_bytes(name, b"x" * (1000 * (i + 1)))
    pass_path = work / "pass vault"
    create_vault(pass_path, face, mode=Mode.FACE_PASSPHRASE, kdf=TEST_PARAMS, passphrase="a long passphrase").vault.close()
    ctx.remember_vault(pass_path)
    ctx.remember_vault(vault_path)

    window.go_start()
    page("start")
    window.create_vault()
    page("enroll-where")
    window.enroll.mode_buttons[Mode.FACE_PASSPHRASE].click()
    page("enroll-where-passphrase")
    window.enroll.mode_buttons[Mode.FACE].click()
    window.enroll.steps.setCurrentIndex(1)
    window.enroll.face.set_status("3 of 5 good pictures (41 frames looked at)")
    page("enroll-capture")
    window.enroll.steps.setCurrentIndex(2)
    window.enroll.code.show_code("FA467-QYVQW-ABMJ6-SBG9H-FV85B-FY88X", "Your face was captured. This is "
                                 f"the recovery code of the new vault at {vault_path}:")
    page("enroll-code")
    window.enroll.code.ask()
    page("enroll-confirm")
    window.enroll.discard()
    window.open_vault(pass_path)
    page("unlock-passphrase")
    window.go_start()
    window.open_vault(vault_path)
    page("unlock")
    window.show_vault(created.vault)
    page("browser")
    window.show_security()
    page("security")
    window.security.devices.show_vault(created.vault, Mode.FACE_DEVICE)  # the pairing controls
    page("security-computers")
    window.browser.lock_requested.emit()
    window.go_start()
    from facevault.gui.about import AboutDialog

    about = AboutDialog(window)
    about.show()
    page("about", about)
    about.close()
    window.close()
    print(json.dumps({"clipped": report, "unnamed": nameless}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
