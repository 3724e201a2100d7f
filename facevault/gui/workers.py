"""Running generators off the GUI thread (after superqt's GeneratorWorker).

`Tasks.run(make_gen, on_yield=..., on_done=..., on_error=...)` runs `make_gen()` in a
QThreadPool thread, emits every yielded value and the return value back to the GUI thread
(queued signals on a QObject that lives there) and honours a stop flag between yields
(`Task.stop()` closes the generator, which releases cameras and temporary files). With
`latest_only=True` a slow GUI never builds a queue of frames: only the newest value waits.

Tests pass `Tasks(SyncPool())` to run everything synchronously on the calling thread.

May import: PySide6, stdlib.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Qt, Signal, Slot

__all__ = ["Task", "Tasks", "SyncPool"]

Callback = Callable[[Any], None]


class _Bridge(QObject):
    """Lives in the GUI thread; the worker emits, the queued slots call the callbacks."""

    yielded = Signal(object)
    returned = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, on_yield: Callback | None, on_done: Callback | None,
                 on_error: Callback | None, queued: bool) -> None:
        super().__init__()
        self._on_yield, self._on_done, self._on_error = on_yield, on_done, on_error
        kind = Qt.ConnectionType.QueuedConnection if queued else Qt.ConnectionType.DirectConnection
        self.yielded.connect(self._yielded, kind)
        self.returned.connect(self._returned, kind)
        self.failed.connect(self._failed, kind)
        self.finished.connect(self._finished, kind)
        self.on_finished: Callable[[], None] | None = None
        self.pending_lock = threading.Lock()
        self.pending: list[Any] = []

    @Slot(object)
    def _yielded(self, value: Any) -> None:
        if value is _LATEST:
            with self.pending_lock:
                if not self.pending:
                    return
                value = self.pending.pop()
                self.pending.clear()
        if self._on_yield is not None:
            self._on_yield(value)

    @Slot(object)
    def _returned(self, value: Any) -> None:
        if self._on_done is not None:
            self._on_done(value)

    @Slot(object)
    def _failed(self, exc: Any) -> None:
        if self._on_error is not None:
            self._on_error(exc)

    @Slot()
    def _finished(self) -> None:
        if self.on_finished is not None:
            self.on_finished()


_LATEST = object()


class Task(QRunnable):
    """One generator run. `stop()` asks it to finish at the next yield (no callbacks after)."""

    def __init__(self, make_gen: Callable[[], Generator[Any, None, Any]], bridge: _Bridge,
                 latest_only: bool) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._make_gen = make_gen
        self._bridge = bridge
        self._latest_only = latest_only
        self._stop = threading.Event()
        self._finished = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def _emit(self, value: Any) -> None:
        if not self._latest_only:
            self._bridge.yielded.emit(value)
            return
        with self._bridge.pending_lock:
            first = not self._bridge.pending
            self._bridge.pending[:] = [value]
        if first:
            self._bridge.yielded.emit(_LATEST)

    def run(self) -> None:
        gen = None
        try:
            gen = self._make_gen()
            while not self._stop.is_set():
                try:
                    value = next(gen)
                except StopIteration as end:
                    if not self._stop.is_set():
                        self._bridge.returned.emit(end.value)
                    return
                if not self._stop.is_set():
                    self._emit(value)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread as a message
            if not self._stop.is_set():
                self._bridge.failed.emit(exc)
        finally:
            if gen is not None:
                try:
                    gen.close()
                except BaseException:  # noqa: BLE001 - closing must not fail the worker
                    pass
            self._finished.set()
            self._bridge.finished.emit()


class SyncPool:
    """A stand-in for QThreadPool that runs each task at once on the calling thread."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 - Qt's name
        return True


class Tasks:
    """Starts Tasks on a pool and keeps them alive until they finish."""

    def __init__(self, pool: Any | None = None) -> None:
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        self._queued = not isinstance(self._pool, SyncPool)
        self._live: set[Task] = set()
        self._bridges: dict[Task, _Bridge] = {}
        self._lock = threading.Lock()

    def run(
        self,
        make_gen: Callable[[], Generator[Any, None, Any]],
        *,
        on_yield: Callback | None = None,
        on_done: Callback | None = None,
        on_error: Callback | None = None,
        latest_only: bool = False,
    ) -> Task:
        bridge = _Bridge(on_yield, on_done, on_error, self._queued)
        task = Task(make_gen, bridge, latest_only)
        bridge.on_finished = lambda: self._forget(task)
        with self._lock:
            self._live.add(task)
            self._bridges[task] = bridge
        self._pool.start(task)
        return task

    def call(self, fn: Callable[[], Any], *, on_done: Callback | None = None,
             on_error: Callback | None = None) -> Task:
        """Run a plain function in the pool (its return value goes to on_done)."""

        def gen() -> Generator[Any, None, Any]:
            return fn()
            yield  # pragma: no cover - makes this a generator

        return self.run(gen, on_done=on_done, on_error=on_error)

    def _forget(self, task: Task) -> None:
        """Runs in the GUI thread after the task's last queued signal was delivered."""
        with self._lock:
            self._live.discard(task)
            self._bridges.pop(task, None)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._live)

    def stop_all(self, timeout_ms: int = 5000) -> bool:
        with self._lock:
            tasks = list(self._live)
        for task in tasks:
            task.stop()
        return bool(self._pool.waitForDone(timeout_ms))
