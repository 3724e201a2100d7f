"""Run as a script (by test_session_lock.py) on a private D-Bus session bus and system bus
(DBUS_SESSION_BUS_ADDRESS / DBUS_SYSTEM_BUS_ADDRESS set by the test): builds the window,
opens a real vault, opens one of its files (an Open copy in the runtime dir), prints
"ready <copy path>" and waits; when the window locks it prints one JSON line saying
what it sees and exits. It gives up after 60 s.

Usage: python tests/gui/session_lock_app.py WORK_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    work = Path(sys.argv[1])
    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from facevault.core.kdf import TEST_PARAMS
    from facevault.gui import app as gui_app
    from facevault.services.enroll import create_vault

    qapp = QApplication([])
    ctx = gui_app.default_context()
    window = gui_app.build(ctx, warm_models=False)
    window.show()
    face = np.random.default_rng(8).standard_normal(512)
    created = create_vault(work / "vault", face / np.linalg.norm(face), kdf=TEST_PARAMS)
    created.vault.add_bytes("diary.txt", b"dear diary")
    window.show_vault(created.vault)
    copy = window.browser.copies.target("diary.txt")
    for _ in created.vault.extract("diary.txt", copy, overwrite=True):
        pass

    def locked_now() -> None:
        if window.vault is not None:
            return
        print(json.dumps({
            "vault_closed": window.vault is None,
            "page": type(window.stack.currentWidget()).__name__,
            "copy_exists": copy.exists(),
            "copies_root": str(window.browser.copies.root),
        }), flush=True)
        qapp.quit()

    poll = QTimer()
    poll.timeout.connect(locked_now)
    poll.start(20)
    QTimer.singleShot(60_000, qapp.quit)
    print(f"ready {copy}", flush=True)
    qapp.exec()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
