"""What a desktop session needs from the machine: the cameras worth offering, a private
folder for files opened from a vault, the app icons, and telling a FaceVault file by its
first bytes.

May import: stdlib, facevault.paths, facevault.core.v1.fileformat.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["list_cameras", "PrivateCopies", "icon_paths", "is_encrypted_file"]


def list_cameras() -> list[str]:
    """Camera specs to offer; video device nodes on Linux (capture nodes are usually even)."""
    if sys.platform.startswith("linux"):
        found = sorted(int(p.name[5:]) for p in Path("/dev").glob("video*") if p.name[5:].isdigit())
        return [f"camera:{n}" for n in found]
    return ["camera:0"]


class PrivateCopies:
    """A temporary folder only this user can read (0700) for files opened from a vault.

    `target(name)` is a fresh path inside it for a leaf file name; `clear()` deletes the
    folder with everything in it (when the vault locks and when the app quits)."""

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent
        self._root: Path | None = None

    @property
    def root(self) -> Path | None:
        return self._root

    def target(self, leaf: str) -> Path:
        if self._root is None or not self._root.is_dir():
            self._root = Path(tempfile.mkdtemp(prefix="facevault-open-", dir=self.parent))
            os.chmod(self._root, 0o700)
        folder = Path(tempfile.mkdtemp(dir=self._root))  # one folder per open: no name clashes
        return folder / leaf

    def clear(self) -> None:
        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def icon_paths() -> list[Path]:
    """The app icon files (resources/icons/facevault*.png|svg) of a checkout or a bundle."""
    from facevault import paths

    roots = [paths.SOURCE_ROOT / "resources" / "icons"]
    bundle = paths.bundle_root()
    if bundle is not None:
        roots.insert(0, Path(bundle) / "resources" / "icons")
    for root in roots:
        found = sorted(root.glob("facevault*.png")) + sorted(root.glob("facevault*.svg"))
        if found:
            return found
    return []


def is_encrypted_file(path: Path) -> bool:
    """Whether `path` starts like a FaceVault single encrypted file."""
    from facevault.core.v1 import fileformat

    try:
        with open(path, "rb") as handle:
            return handle.read(len(fileformat.MAGIC)) == fileformat.MAGIC
    except OSError:
        return False
