"""The Qt binding the app runs on must not leak references when Python emits a signal.

PySide6 6.12.0 drops one reference to True per `Signal.emit()`; the app emits once per
camera frame and per progress step, so after a few thousand (minutes of camera) the
process aborted in a garbage collection. pyproject.toml excludes that release; this test
fails on any binding with the same fault.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    value = Signal(object)
    bare = Signal()


def test_emitting_signals_keeps_every_reference_count(qtbot) -> None:
    emitter = _Emitter()
    seen: list[object] = []
    emitter.value.connect(seen.append)
    emitter.bare.connect(lambda: None)
    counts = [sys.getrefcount(x) for x in (True, False, None)]
    for i in range(200):
        emitter.value.emit(i)
        emitter.bare.emit()
    after = [sys.getrefcount(x) for x in (True, False, None)]
    assert len(seen) == 200
    drift = [a - b for a, b in zip(after, counts)]
    assert all(abs(d) < 20 for d in drift), f"True/False/None references changed by {drift}"
