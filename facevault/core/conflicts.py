"""Recognising the copies sync tools make of a file two devices changed at once, so a vault
can merge them and remove them (FaceVault's own files only; anything else in the folder
is left alone).

    Syncthing          name.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.ext
    Dropbox            name (X's conflicted copy YYYY-MM-DD).ext, optionally " (N)" before ")"
    Nextcloud/ownCloud name (conflicted copy YYYY-MM-DD HHMMSS).ext
    OneDrive           name-COMPUTERNAME.ext

`original_of(leaf, is_ours)` gives the file name a copy was made of, when that name is one of
ours (`is_ours`); the OneDrive form is only read that way, since "-NAME" alone is ambiguous.

May import: stdlib.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["original_of", "PATTERNS"]

PATTERNS: dict[str, re.Pattern[str]] = {
    "syncthing": re.compile(r"\A(?P<stem>.+?)\.sync-conflict-\d{8}-\d{6}-[A-Z0-9]{7}(?P<ext>\.[^.]+)?\Z"),
    "dropbox": re.compile(r"\A(?P<stem>.+?) \([^()]*'s conflicted copy \d{4}-\d{2}-\d{2}(?: \(\d+\))?\)(?P<ext>\.[^.]+)?\Z"),
    "nextcloud": re.compile(r"\A(?P<stem>.+?) \(conflicted copy \d{4}-\d{2}-\d{2} \d{6}\)(?P<ext>\.[^.]+)?\Z"),
    "onedrive": re.compile(r"\A(?P<stem>.+)-(?P<host>[A-Za-z0-9_]{1,63})(?P<ext>\.[^.]+)\Z"),
}


def original_of(leaf: str, is_ours: Callable[[str], bool]) -> str | None:
    """The FaceVault file name `leaf` is a conflict copy of, or None."""
    if is_ours(leaf):
        return None
    for tool, pattern in PATTERNS.items():
        m = pattern.match(leaf)
        if m is None:
            continue
        original = m.group("stem") + (m.group("ext") or "")
        if is_ours(original):
            return original
        if tool != "onedrive":
            return None
    return None
