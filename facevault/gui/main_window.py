"""The main window: one stack of screens, the menus, file drops, and auto-lock.

It owns navigation and the open vault, nothing else: each screen does its own work
through services. Auto-lock: an application-wide event filter restarts an idle timer on
any key or mouse input; when it fires (or the desktop session locks, where the platform
tells us over D-Bus) the open vault is closed and the unlock screen is shown.

May import: PySide6, stdlib, facevault.services, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import SLOT, QEvent, QObject, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from facevault.errors import FaceVaultError, UsageError
from facevault.gui.about import AboutDialog
from facevault.gui.browser_page import BrowserPage
from facevault.gui.context import AppContext
from facevault.gui.enroll_page import EnrollPage
from facevault.gui.file_page import SUFFIX, FilePage
from facevault.gui.security_page import SecurityPage
from facevault.gui.start_page import StartPage
from facevault.gui.unlock_page import UnlockPage
from facevault.gui.tray import Tray
from facevault.services.desktop import icon_paths, is_encrypted_file
from facevault.services.unlock import is_vault_folder

__all__ = ["MainWindow"]

_INPUT_EVENTS = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                 QEvent.Type.Wheel, QEvent.Type.Drop}


class _IdleFilter(QObject):
    def __init__(self, on_input: Any) -> None:
        super().__init__()
        self._on_input = on_input

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in _INPUT_EVENTS:
            self._on_input()
        return False


def _window_icon() -> QIcon | None:
    """The app icon from resources/ (owned by packaging), when it is there."""
    files = icon_paths()
    if not files:
        return None
    icon = QIcon()
    for f in files:
        icon.addFile(str(f))
    return icon


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vault: Any = None
        self.setWindowTitle("FaceVault")
        self.setAcceptDrops(True)
        self.resize(900, 640)

        self.start = StartPage(ctx)
        self.enroll = EnrollPage(ctx)
        self.unlock = UnlockPage(ctx)
        self.browser = BrowserPage(ctx)
        self.security = SecurityPage(ctx)
        self.file = FilePage(ctx)
        self.stack = QStackedWidget()
        for page in (self.start, self.enroll, self.unlock, self.browser, self.security, self.file):
            self.stack.addWidget(page)
        self.setCentralWidget(self.stack)
        # a message belongs to the screen it was said on: a page change clears it
        self.stack.currentChanged.connect(lambda _i: self.statusBar().clearMessage())
        icon = _window_icon()
        if icon is not None:
            self.setWindowIcon(icon)

        self.start.open_vault.connect(self.open_vault)
        self.start.browse_vault.connect(self.browse_vault)
        self.start.create_vault.connect(self.create_vault)
        self.start.encrypt_file.connect(lambda: self.encrypt_file())
        self.start.decrypt_file.connect(lambda: self.decrypt_file())
        self.start.cloak_photos.connect(lambda: self.cloak_photos())
        self.enroll.created.connect(self.show_vault)
        self.enroll.cancelled.connect(self.go_start)
        self.unlock.unlocked.connect(self.show_vault)
        self.unlock.cancelled.connect(self.go_start)
        self.browser.lock_requested.connect(self.lock)
        self.browser.security_requested.connect(self.show_security)
        self.security.back.connect(lambda: self.show_vault(self.vault))
        self.security.auto_lock_changed.connect(self._set_auto_lock)
        self.file.finished.connect(self._file_finished)

        self._build_menus()
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(self._idle_timeout)
        self._idle_filter = _IdleFilter(self._user_active)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle_filter)
        self._set_auto_lock(ctx.settings.auto_lock_minutes)
        self._watch_session_lock()
        self.tray = Tray(self)  # lock now, recent vaults, quit (a tray icon where there is a tray)
        self.go_start()
        if not ctx.models.ready:
            self.statusBar().showMessage("Loading the face models in the background…")

    # -- menus ---------------------------------------------------------------------------

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        self._action(m, "&New vault…", self.create_vault, QKeySequence.StandardKey.New)
        self._action(m, "&Open vault…", self.browse_vault, QKeySequence.StandardKey.Open)
        self._action(m, "&Start screen", self.go_start, "Ctrl+Home")
        m.addSeparator()
        self._action(m, "&Encrypt a file…", self.encrypt_file, "Ctrl+E")
        self._action(m, "&Decrypt a file…", self.decrypt_file, "Ctrl+D")
        m.addSeparator()
        self._action(m, "&Cloak photos…", self.cloak_photos, "Ctrl+Shift+C")
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        v = bar.addMenu("&Vault")
        self.lock_action = self._action(v, "&Lock", self.lock, "Ctrl+L")
        self.security_action = self._action(v, "&Security…", self.show_security)
        h = bar.addMenu("&Help")
        self._action(h, "&About FaceVault", self.show_about)
        self._update_actions()

    def _update_actions(self) -> None:
        self.lock_action.setEnabled(self.vault is not None)
        self.security_action.setEnabled(self.vault is not None)

    # -- navigation ----------------------------------------------------------------------

    def _stop_cameras(self) -> None:
        for panel in (self.enroll.face, self.unlock.face, self.security.face, self.file.face):
            panel.stop()

    def go_start(self) -> None:
        self._stop_cameras()
        self.start.refresh()
        self.stack.setCurrentWidget(self.start)
        self.start.focus_first()

    def models_ready(self, error: BaseException | None = None) -> None:
        text = "Face models ready." if error is None else f"The face models could not be loaded: {error}"
        if isinstance(error, FaceVaultError) and error.hint:
            text += f" {error.hint}"
        self.start.set_models_status(text)
        self.statusBar().showMessage(text, 8000)

    def open_vault(self, path: Path) -> None:
        if self.vault is not None and Path(self.vault.path) == Path(path):
            self.show_vault(self.vault)
            return
        self._close_vault()
        self._stop_cameras()
        self.stack.setCurrentWidget(self.unlock)
        self.unlock.open_for(Path(path))

    def browse_vault(self) -> None:
        folder = self.ctx.dialogs.folder(self, "Open a vault folder")
        if folder is None:
            return
        if not is_vault_folder(folder):
            self.ctx.dialogs.error(self, UsageError(f"{folder} is not a FaceVault vault",
                                                    hint="Choose the folder that holds the vault's headers folder."))
            return
        self.open_vault(folder)

    def create_vault(self) -> None:
        self._close_vault()
        self._stop_cameras()
        self.stack.setCurrentWidget(self.enroll)
        self.enroll.begin()

    def show_vault(self, vault: Any) -> None:
        if vault is None:
            self.go_start()
            return
        self._stop_cameras()
        self.vault = vault
        self.browser.show_vault(vault)
        self.stack.setCurrentWidget(self.browser)
        self.setWindowTitle(f"{Path(vault.path).name} — FaceVault")
        self._update_actions()
        self._user_active()

    def show_security(self) -> None:
        if self.vault is None or self.browser.busy:
            return
        self.security.show_vault(self.vault)
        self.stack.setCurrentWidget(self.security)

    def _close_vault(self) -> Path | None:
        if self.vault is None:
            return None
        path = Path(self.vault.path)
        self.browser.clear()
        self.security.vault = None
        self.ctx.session_face = None
        self.vault.close()
        self.vault = None
        self.setWindowTitle("FaceVault")
        self._update_actions()
        return path

    def lock(self) -> None:
        """Forget the key and show the unlock screen for the same vault."""
        path = self._close_vault()
        if path is None:
            return
        self._stop_cameras()
        self.stack.setCurrentWidget(self.unlock)
        self.unlock.open_for(path)
        self.statusBar().showMessage("Locked.", 5000)

    def show_about(self) -> None:
        AboutDialog(self).exec()

    def cloak_photos(self, photos: list[Path] | None = None) -> None:
        from facevault.gui.cloak_dialog import CloakDialog

        dialog = CloakDialog(self.ctx, self)
        if photos:
            dialog.add_photos(photos)
        dialog.exec()

    # -- single files --------------------------------------------------------------------

    def encrypt_file(self, src: Path | None = None) -> None:
        src = src or self.ctx.dialogs.open_file(self, "Encrypt which file?")
        if src is None:
            return
        dest = self.ctx.dialogs.save_file(self, "Save the encrypted file as", str(src) + SUFFIX)
        if dest is None:
            return
        self._stop_cameras()
        self.stack.setCurrentWidget(self.file)
        self.file.encrypt(src, dest)

    def decrypt_file(self, src: Path | None = None) -> None:
        src = src or self.ctx.dialogs.open_file(self, "Decrypt which file?",
                                                f"FaceVault files (*{SUFFIX});;All files (*)")
        if src is None:
            return
        plain = str(src)[: -len(SUFFIX)] if str(src).endswith(SUFFIX) else str(src) + ".decrypted"
        dest = self.ctx.dialogs.save_file(self, "Save the decrypted file as", plain)
        if dest is None:
            return
        self._stop_cameras()
        self.stack.setCurrentWidget(self.file)
        self.file.decrypt(src, dest)

    def _file_finished(self) -> None:
        if self.vault is not None:
            self.show_vault(self.vault)
        else:
            self.go_start()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.handle_drop(paths)

    def handle_drop(self, paths: list[Path]) -> None:
        """A vault folder opens it; in an open vault files are added; otherwise a single
        file is encrypted, or decrypted when it is a FaceVault file."""
        first = paths[0]
        if first.is_dir() and is_vault_folder(first):
            self.open_vault(first)
        elif self.stack.currentWidget() is self.browser:
            self.browser.add_paths(paths)
        elif first.is_file() and self.stack.currentWidget() is self.start:
            if is_encrypted_file(first):
                self.decrypt_file(first)
            else:
                self.encrypt_file(first)

    # -- auto-lock -----------------------------------------------------------------------

    def _set_auto_lock(self, minutes: int) -> None:
        self._auto_lock_ms = int(minutes) * 60_000
        self._user_active()

    def _user_active(self) -> None:
        if self._auto_lock_ms > 0 and self.vault is not None:
            self.idle.start(self._auto_lock_ms)
        else:
            self.idle.stop()

    def _idle_timeout(self) -> None:
        if self.vault is not None and not self.browser.busy:
            self.lock()
            self.statusBar().showMessage("Locked after a while without use.", 10000)
        elif self.vault is not None:
            self.idle.start(60_000)  # a long add or extract is running: look again later

    def _watch_session_lock(self) -> None:
        """Lock when the desktop session locks: the screensaver's ActiveChanged(true) on the
        session bus (freedesktop and GNOME names) and systemd-logind's Lock signal for this
        login session ($XDG_SESSION_ID) on the system bus."""
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        session = QDBusConnection.sessionBus()
        if session.isConnected():
            for service in ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"):
                path = "/org/freedesktop/ScreenSaver" if "freedesktop" in service else "/org/gnome/ScreenSaver"
                # PySide6's stubs want bytes here; at run time only the str of SLOT() is accepted
                if not _connect(session, path, service, "ActiveChanged", self, SLOT("_screensaver(bool)")):
                    return
        login = _login_session_path()
        system = QDBusConnection.systemBus()
        if login is not None and system.isConnected():
            _connect(system, login, "org.freedesktop.login1.Session", "Lock", self, SLOT("_session_locked()"))

    @Slot(bool)
    def _screensaver(self, active: bool) -> None:
        if active and self.vault is not None:
            self.lock()

    @Slot()
    def _session_locked(self) -> None:
        if self.vault is not None:
            self.lock()

    # -- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._stop_cameras()
        self.browser.cancel()
        self.enroll.discard()  # a vault not confirmed yet is never written
        if self.tray.icon is not None:
            self.tray.icon.hide()
        self.ctx.tasks.stop_all(5000)
        self._close_vault()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_filter)
        event.accept()


def _connect(bus: Any, path: str, interface: str, name: str, receiver: QObject, slot: Any) -> bool:
    try:
        bus.connect("", path, interface, name, receiver, slot)
    except (TypeError, RuntimeError):
        return False
    return True


def _login_session_path() -> str | None:
    """logind's object path of this login session ($XDG_SESSION_ID, escaped as logind does:
    characters other than letters and digits become _xx)."""
    import os

    sid = os.environ.get("XDG_SESSION_ID", "")
    if not sid:
        return None
    escaped = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):02x}" for c in sid)
    return f"/org/freedesktop/login1/session/{escaped}"
