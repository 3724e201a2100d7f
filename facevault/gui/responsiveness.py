"""Measuring how long the GUI event loop stalls: a timer that should fire every `interval`
ms records the largest extra delay. Used by the tests and the GUI benchmark.

May import: PySide6, stdlib.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

__all__ = ["StallMeter"]


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.longest_ms = 0.0
        self.ticks = 0
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms, self.ticks, self.gaps = 0.0, 0, []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.longest_ms

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000.0 - self.interval_ms
        self._last = now
        self.ticks += 1
        self.longest_ms = max(self.longest_ms, gap)
        self.gaps.append(gap)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100) of the extra delays seen so far, in ms."""
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]
