"""Run as a script (by test_screens.py) in a fresh process, so QT_SCALE_FACTOR and a cold
start are real: builds the window, records how long it took to appear, saves screenshots
of a few screens at this scale, and prints one JSON line.

Usage: python tests/gui/scaled_app.py OUT_DIR PREFIX
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> int:
    out, prefix = Path(sys.argv[1]), sys.argv[2]
    from PySide6.QtWidgets import QApplication

    from facevault.gui import app as gui_app, theme

    qapp = QApplication([])
    theme.apply(qapp, sys.argv[3] if len(sys.argv) > 3 else None)
    ctx = gui_app.default_context()
    window = gui_app.build(ctx, warm_models=False)
    window.resize(900, 640)
    window.show()
    qapp.processEvents()
    shown = time.perf_counter() - T0
    heavy = [m for m in ("cv2", "mediapipe", "onnxruntime") if m in sys.modules]
    window.grab().save(str(out / f"{prefix}-start.png"))
    window.create_vault()
    qapp.processEvents()
    window.grab().save(str(out / f"{prefix}-enroll-where.png"))
    window.enroll.steps.setCurrentIndex(2)
    window.enroll.code.show_code("FA467-QYVQW-ABMJ6-SBG9H-FV85B-FY88X", "This is its recovery code:")
    qapp.processEvents()
    window.grab().save(str(out / f"{prefix}-recovery-code.png"))
    size = window.grab().size()
    window.close()
    print(json.dumps({"shown_s": shown, "heavy_imported_before_show": heavy,
                      "pixels": [size.width(), size.height()]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
