"""The unlocked vault: a table of files (name, size, modified) with add, open, extract,
delete, a filter box, progress with cancel for large files, and the lock button. It
follows the folder as a sync tool changes it (gui.sync_view.FolderWatcher), marks conflict
copies and says what they are, and says when keys changed on another computer.

Open (also a double-click or Enter) extracts the file to a private temporary folder (0700,
services.desktop.PrivateCopies) and hands it to the desktop's default application; those
copies are deleted when the vault locks or the app quits, and the page says so.

The table is gui.entries_model.EntriesModel. File work runs in a worker, one operation at a time (an OpenVault
is not thread-safe); cancelling closes the generator, which leaves the vault unchanged.

May import: PySide6, stdlib, facevault.errors, facevault.gui.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
    QTableView, QVBoxLayout, QWidget,
)

from facevault.gui.context import AppContext
from facevault.gui.dialogs import status_of
from facevault.gui.enroll_page import heading
from facevault.gui.entries_model import EntriesModel
from facevault.gui.sync_view import Banner, FolderWatcher
from facevault.gui.workers import Task
from facevault.errors import FaceVaultError
from facevault.services.desktop import PrivateCopies
from facevault.services.progress import ByteProgress, Progress, Stage, StageProgress

__all__ = ["BrowserPage"]

class BrowserPage(QWidget):
    lock_requested = Signal()
    security_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vault: Any = None
        self._task: Task | None = None
        self.copies = PrivateCopies()
        self.copies.sweep()  # the Open copies a crashed session could not delete
        self.setAcceptDrops(True)

        self.title = heading("Vault")
        self.model = EntriesModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Files in the vault")
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)

        self.add_button = QPushButton("&Add files…")
        self.open_button = QPushButton("&Open")
        self.open_button.setToolTip("Open a temporary copy with its usual program. Changes to it are "
                                    "not saved in the vault; the copy is deleted when the vault locks.")
        self.extract_button = QPushButton("E&xtract…")
        self.delete_button = QPushButton("&Delete")
        self.security_button = QPushButton("&Security…")
        self.lock_button = QPushButton("&Lock")
        self.add_button.clicked.connect(self.add_dialog)
        self.open_button.clicked.connect(self.open_selected)
        self.extract_button.clicked.connect(self.extract)
        self.delete_button.clicked.connect(self.delete)
        self.security_button.clicked.connect(self.security_requested)
        self.lock_button.clicked.connect(self.lock_requested)
        QShortcut(QKeySequence.StandardKey.Delete, self.table).activated.connect(self.delete)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table).activated.connect(self.open_selected)
        QShortcut(QKeySequence.StandardKey.Find, self).activated.connect(self.filter.setFocus)

        self.progress = QProgressBar()
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_row = QWidget()
        pr = QHBoxLayout(self.progress_row)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.addWidget(self.progress_label)
        pr.addWidget(self.progress, 1)
        pr.addWidget(self.cancel_button)
        self.progress_row.hide()
        self.status = QLabel("Drop files here to add them.")
        self.banner = Banner()  # keys changed elsewhere, or the folder can no longer be read
        self.conflict_note = Banner()
        self.watcher = FolderWatcher(self)
        self.watcher.changed.connect(self.folder_changed)
        self._refreshing = False
        self._refresh_again = False

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.security_button)
        top.addWidget(self.lock_button)
        tools = QHBoxLayout()
        for b in (self.add_button, self.open_button, self.extract_button, self.delete_button):
            tools.addWidget(b)
        tools.addStretch(1)
        filter_label = QLabel("&Filter:")
        filter_label.setBuddy(self.filter)
        tools.addWidget(filter_label)
        tools.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(tools)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict_note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.status)
        order: list[QWidget] = [self.table, self.add_button, self.open_button, self.extract_button, self.delete_button,
                 self.filter,
                 self.security_button, self.lock_button]
        for first, second in zip(order, order[1:]):
            self.setTabOrder(first, second)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    # -- state ---------------------------------------------------------------------------

    def show_vault(self, vault: Any) -> None:
        self.vault = vault
        self.title.setText(Path(vault.path).name)
        self.filter.clear()
        self.banner.clear()
        self.reload()
        self.watcher.watch(Path(vault.path))
        self.table.setFocus()

    def clear(self) -> None:
        """Forget the vault and delete the temporary copies of files opened from it."""
        self.cancel()
        self.watcher.stop()
        self.vault = None
        self.banner.clear()
        self.model.set_entries([])
        self.copies.clear()

    def reload(self) -> None:
        if self.vault is not None:
            entries = self.vault.entries()
            self.model.set_entries(entries)
            n = self.model.rowCount()
            self.status.setText(f"{n} file{'s' if n != 1 else ''}. Drop files here to add them.")
            self._show_conflicts([e for e in entries if getattr(e, "conflict", False)])
        self._update_buttons()

    def _show_conflicts(self, copies: list[Any]) -> None:
        if not copies:
            self.conflict_note.clear()
            return
        first = copies[0]
        what = (f"\u201c{first.original}\u201d was changed on two computers" if len(copies) == 1
                else f"{len(copies)} files were changed on two computers")
        self.conflict_note.show_message(
            f"{what} before they synced, and both versions were kept: the other version is "
            f"shown as \u201c{first.name}\u201d{' and so on' if len(copies) > 1 else ''}. Open "
            "both, keep the one you want and delete the other.")

    # -- changes that arrive from other computers -----------------------------------------

    def folder_changed(self) -> None:
        """The watcher saw the folder change: re-read it in a worker (unless busy: then
        right after)."""
        if self.vault is None:
            return
        if self.busy:
            self._refresh_again = True
            return
        vault = self.vault
        self._refreshing = True
        self._update_buttons()
        self.ctx.tasks.call(vault.refresh, on_done=lambda ok: self._refreshed(vault, ok),
                            on_error=lambda exc: self._refresh_failed(vault, exc))

    def _refreshed(self, vault: Any, ok: bool) -> None:
        self._refreshing = False
        if vault is not self.vault:
            return
        if ok:
            before = self.model.rowCount()
            self.reload()
            if self.model.rowCount() != before:
                self.status.setText(f"Updated from the synced folder: {self.model.rowCount()} files.")
        else:
            self.banner.show_message(
                "This vault's key slots changed on another computer (a new recovery code, a "
                "re-enrollment, or a device added or removed). Unlock it again to see what "
                "was added there.", "&Unlock again", self.lock_requested.emit)
            self._update_buttons()
        self._refresh_pending()

    def _refresh_failed(self, vault: Any, exc: BaseException) -> None:
        self._refreshing = False
        if vault is self.vault:
            self.banner.show_message(f"The synced folder cannot be read now: {status_of(exc)}",
                                     "&Lock", self.lock_requested.emit)
            self._update_buttons()
        self._refresh_pending()

    def _refresh_pending(self) -> None:
        if self._refresh_again and not self.busy:
            self._refresh_again = False
            self.folder_changed()

    @property
    def busy(self) -> bool:
        return self._task is not None or self._refreshing

    def selected_names(self) -> list[str]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.entry(r).name for r in sorted(rows)]

    def select_name(self, name: str) -> None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() == name:
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        has_sel = bool(self.table.selectionModel().selectedRows())
        idle = not self.busy
        self.add_button.setEnabled(idle and self.vault is not None)
        self.open_button.setEnabled(idle and has_sel)
        self.extract_button.setEnabled(idle and has_sel)
        self.delete_button.setEnabled(idle and has_sel)
        self.security_button.setEnabled(idle)

    # -- operations ---------------------------------------------------------------------

    def _run(self, label: str, make_gen: Any, done_text: str, then: Any = None) -> None:
        self.progress_label.setText(label)
        self.progress.setRange(0, 0)
        self.progress_row.show()

        def finish(_result: Any) -> None:
            self._task = None
            self.progress_row.hide()
            if then is None:
                self.reload()
                self.status.setText(done_text)
            else:  # nothing in the vault changed: keep the selection
                self._update_buttons()
                then()
            self._refresh_pending()

        def failed(exc: BaseException) -> None:
            self._task = None
            self.progress_row.hide()
            self.reload()
            self.ctx.dialogs.error(self, exc)
            self._refresh_pending()

        self._task = self.ctx.tasks.run(make_gen, on_yield=self._progress, on_done=finish,
                                        on_error=failed, latest_only=True)
        self._update_buttons()

    def _progress(self, value: Progress) -> None:
        match value:
            case StageProgress():
                self.progress_label.setText(value.text)
            case ByteProgress(done=done, total=total) if total > 0:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * done / total))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.stop()
            self._task = None
            self.progress_row.hide()
            self.status.setText("Cancelled; the vault is unchanged.")
            self._update_buttons()

    def add_paths(self, paths: Sequence[Path]) -> None:
        files = [Path(p) for p in paths if Path(p).is_file()]
        if not files or self.vault is None or self.busy:
            return
        vault = self.vault
        existing = {e.name for e in vault.entries()}
        clash = [f.name for f in files if f.name in existing]
        overwrite = False
        if clash:
            overwrite = self.ctx.dialogs.confirm(
                self, "Replace files?",
                f"The vault already has {', '.join(clash)}. Replace {'them' if len(clash) > 1 else 'it'}?")
            if not overwrite:
                files = [f for f in files if f.name not in existing]
                if not files:
                    return

        def work() -> Generator[Progress, None, None]:
            for f in files:
                yield StageProgress(Stage.ADDING, f.name)
                yield from vault.add_file(f, f.name, overwrite=overwrite)

        self._run(f"Adding {files[0].name}", work, f"Added {len(files)} file{'s' if len(files) > 1 else ''}.")

    def add_dialog(self) -> None:
        self.add_paths(self.ctx.dialogs.open_files(self, "Add files to the vault"))

    def open_selected(self) -> None:
        """Extract the selected file(s) to the private temporary folder and open them."""
        names = self.selected_names()
        if not names or self.vault is None or self.busy:
            return
        vault = self.vault
        try:
            targets = [(n, self.copies.target(_leaf(n))) for n in names]
        except FaceVaultError as exc:
            self.ctx.dialogs.error(self, exc)
            return

        def work() -> Generator[Progress, None, None]:
            for name, target in targets:
                yield StageProgress(Stage.OPENING, name)
                yield from vault.extract(name, target, overwrite=True)

        def opened() -> None:
            failed = [t.name for _n, t in targets if not self.ctx.open_externally(t)]
            what = targets[0][1].name if len(targets) == 1 else f"{len(targets)} files"
            if failed:
                self.status.setText(f"No program could open {', '.join(failed)}; "
                                    "use Extract to save it somewhere instead.")
            else:
                self.status.setText(f"Opened a temporary copy of {what}. Changes to it are not saved "
                                    "in the vault; the copy is deleted when the vault locks.")

        self._run(f"Opening {names[0]}", work, "", then=opened)

    def extract(self) -> None:
        names = self.selected_names()
        if not names or self.vault is None or self.busy:
            return
        folder = self.ctx.dialogs.folder(self, "Extract to which folder?")
        if folder is None:
            return
        vault = self.vault
        targets = [(n, folder / _leaf(n)) for n in names]
        clash = [str(t) for _n, t in targets if t.exists()]
        overwrite = bool(clash) and self.ctx.dialogs.confirm(
            self, "Replace files?", f"{', '.join(clash)} already exist. Replace?")
        if clash and not overwrite:
            return

        def work() -> Generator[Progress, None, None]:
            for name, target in targets:
                yield StageProgress(Stage.EXTRACTING, name)
                yield from vault.extract(name, target, overwrite=overwrite)

        self._run(f"Extracting {names[0]}", work, f"Extracted to {folder}.")

    def delete(self) -> None:
        names = self.selected_names()
        if not names or self.vault is None or self.busy:
            return
        what = names[0] if len(names) == 1 else f"{len(names)} files"
        if not self.ctx.dialogs.confirm(self, "Delete from the vault?",
                                        f"Delete {what} from the vault? This cannot be undone."):
            return
        vault = self.vault

        def work() -> Generator[Progress, None, None]:
            for name in names:
                yield StageProgress(Stage.DELETING, name)
                vault.remove(name)

        self._run(f"Deleting {what}", work, f"Deleted {what}.")

    # -- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and self.vault is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)


def _leaf(name: str) -> str:
    """A safe file name from a vault entry name (entry names are data, never paths)."""
    leaf = name.replace("\\", "/").rsplit("/", 1)[-1]
    return leaf if leaf not in ("", ".", "..") else "unnamed"
