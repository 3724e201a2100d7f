"""The version-2 vault folder: which files are FaceVault's, by role, and which are a sync
tool's conflict copies of them. Anything else (a `.stfolder`, a note a person left, a sync
tool's temporary file) is a stray: left alone, never read.

    headers/<epoch 8 digits>-<writer 32 hex>.fvh   epoch headers (facevault.core.header)
    journal/<device 32 hex>.fvj                   per-device journals (facevault.core.journal)
    snapshots/<device 32 hex>.fvs                 per-device snapshots
    objects/<32 hex>.fvo                          encrypted file contents, written once
    .lock                                         this machine's advisory write lock
    vault.fvh, index.fve, index.next.fve          a version-1 vault (facevault.core.v1)

May import: stdlib, facevault.core (conflicts, fsutil), facevault.errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facevault.core.conflicts import original_of
from facevault.errors import IntegrityError, StorageError

__all__ = ["STATE_ROLES", "HEADERS_DIR", "JOURNAL_DIR", "SNAPSHOT_DIR", "OBJECTS_DIR", "LOCK_NAME",
           "V1_HEADER", "V1_INDEX", "V1_PENDING", "FolderScan", "scan", "is_v1", "is_v2",
           "v1_leftovers"]

HEADERS_DIR = "headers"
JOURNAL_DIR = "journal"
SNAPSHOT_DIR = "snapshots"
OBJECTS_DIR = "objects"
LOCK_NAME = ".lock"
V1_HEADER = "vault.fvh"
V1_INDEX = "index.fve"
V1_PENDING = "index.next.fve"
STATE_ROLES = (HEADERS_DIR, JOURNAL_DIR, SNAPSHOT_DIR, "")  # all but objects/
_OURS = {
    HEADERS_DIR: re.compile(r"\A\d{8}-[0-9a-f]{32}\.fvh\Z"),
    JOURNAL_DIR: re.compile(r"\A[0-9a-f]{32}\.fvj\Z"),
    SNAPSHOT_DIR: re.compile(r"\A[0-9a-f]{32}\.fvs\Z"),
    OBJECTS_DIR: re.compile(r"\A[0-9a-f]{32}\.fvo\Z"),
    "": re.compile(r"\A(vault\.fvh|index\.fve|index\.next\.fve)\Z"),
}


@dataclass
class FolderScan:
    """The FaceVault files of one folder. `copies` maps each conflict copy to the file it
    copies (same folder); `by_role` lists the files proper."""

    root: Path
    by_role: dict[str, list[Path]] = field(default_factory=dict)
    copies: dict[Path, Path] = field(default_factory=dict)
    strays: list[Path] = field(default_factory=list)

    def files(self, role: str) -> list[Path]:
        return self.by_role.get(role, [])

    def copies_in(self, role: str) -> list[tuple[Path, Path]]:
        return sorted((c, o) for c, o in self.copies.items() if c.parent.name == role
                      or (role == "" and c.parent == self.root))


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise IntegrityError(f"not a FaceVault vault: {folder} is not a folder") from None
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror}") from None


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda name: pattern.match(name) is not None


def scan(root: Path, roles: tuple[str, ...] | None = None) -> FolderScan:
    """Sort the folder's entries into FaceVault files, conflict copies and strays (of the
    sub-folders `roles` only, when given: listing objects/ is the slow part)."""
    out = FolderScan(root)
    for role, pattern in _OURS.items():
        if roles is not None and role not in roles:
            continue
        folder = root / role if role else root
        for path in _listing(folder):
            if role == "" and path.is_dir():
                continue
            leaf = path.name
            if pattern.match(leaf):
                out.by_role.setdefault(role, []).append(path)
                continue
            original = original_of(leaf, _matcher(pattern))
            if original is not None:
                out.copies[path] = folder / original
            elif not leaf.startswith(".fvtmp-"):
                out.strays.append(path)
    return out


def v1_leftovers(root: Path) -> list[Path]:
    """The version-1 files (and sync-tool copies of them) in `root`."""
    folder = scan(root, ("",))
    return list(folder.files("")) + [c for c, _o in folder.copies_in("")]


def is_v2(root: Path) -> bool:
    return (root / HEADERS_DIR).is_dir() and any(
        _OURS[HEADERS_DIR].match(p.name) for p in _listing(root / HEADERS_DIR))


def is_v1(root: Path) -> bool:
    # lexists: a vault.fvh that is a symlink or a device is a version-1 vault to refuse by
    # name, not "no vault here"
    return os.path.lexists(root / V1_HEADER) and not is_v2(root)
