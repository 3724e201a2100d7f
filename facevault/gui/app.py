"""Builds the desktop app's object graph and runs it: `run()` is what `facevault` with no
arguments calls.

The window is shown before anything heavy is imported; the face models load in a worker
right after (the start screen says when they are ready). Tests call `build()` with their
own context instead of `run()`.

May import: PySide6, stdlib, facevault.services, facevault.gui.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facevault.gui.context import AppContext
    from facevault.gui.main_window import MainWindow

__all__ = ["run", "build", "default_context"]


def default_context() -> AppContext:
    from facevault.gui.context import AppContext
    from facevault.gui.dialogs import Dialogs
    from facevault.gui.workers import Tasks
    from facevault.services.models import Models
    from facevault.services.secretstore import KeyringStore
    from facevault.services.settings import SettingsStore

    return AppContext(
        settings_store=SettingsStore(),
        models=Models(),
        tasks=Tasks(),
        dialogs=Dialogs(),
        secret_store=KeyringStore,
    )


def build(ctx: AppContext, *, warm_models: bool = True) -> MainWindow:
    """The main window for `ctx` (not shown); starts loading the models in the background."""
    from facevault.gui.main_window import MainWindow

    window = MainWindow(ctx)
    if warm_models:
        ctx.tasks.call(ctx.models.warm, on_done=lambda _r: window.models_ready(),
                       on_error=window.models_ready)
    return window


def run(argv: Sequence[str] | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from facevault.gui import theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(
        list(argv if argv is not None else sys.argv[:1]))
    app.setApplicationName("FaceVault")
    app.setOrganizationName("FaceVault")
    app.setDesktopFileName("facevault")
    theme.apply(app)
    ctx = default_context()
    window = build(ctx, warm_models=False)
    app.setWindowIcon(window.windowIcon())
    window.show()
    # start the model loading once the window has been painted
    QTimer.singleShot(0, lambda: ctx.tasks.call(ctx.models.warm, on_done=lambda _r: window.models_ready(),
                                                on_error=window.models_ready))
    return int(app.exec())
