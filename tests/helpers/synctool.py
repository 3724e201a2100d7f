"""A folder-sync tool in miniature, with the naming and deletion rules of the real ones, for
fast tests of the vault format against sync (the real Syncthing test is tests/test_syncthing.py).

`SyncTool(kind).sync(a, b)` brings two folder copies together the way the tool does: a file
changed on one side since the last sync is copied over; a file deleted on one side and
unchanged on the other is deleted; changed on both sides, the newer keeps the name and the
other becomes a conflict copy named by the tool; deleted on one side and changed on the
other, the change wins. `quirk` is the chance that the tool keeps the version it replaces
as a conflict copy anyway (OneDrive and Dropbox do this when unsure).

The rules come from each tool's documentation:
    syncthing  name.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.ext (DEVICE: 7 characters of its id)
    dropbox    name (HOST's conflicted copy YYYY-MM-DD).ext
    nextcloud  name (conflicted copy YYYY-MM-DD HHMMSS).ext
    onedrive   name-HOST.ext
"""

from __future__ import annotations

import base64
import hashlib
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SyncTool", "TOOLS", "conflict_copy_name"]

TOOLS = ("syncthing", "dropbox", "nextcloud", "onedrive")


def conflict_copy_name(kind: str, leaf: str, host: str, when: float) -> str:
    dot = leaf.rfind(".")
    stem, ext = (leaf[:dot], leaf[dot:]) if dot > 0 else (leaf, "")
    t = time.gmtime(when)
    if kind == "syncthing":
        device = base64.b32encode(hashlib.sha256(host.encode()).digest()).decode()[:7]
        return f"{stem}.sync-conflict-{time.strftime('%Y%m%d-%H%M%S', t)}-{device}{ext}"
    if kind == "dropbox":
        return f"{stem} ({host}'s conflicted copy {time.strftime('%Y-%m-%d', t)}){ext}"
    if kind == "nextcloud":
        return f"{stem} (conflicted copy {time.strftime('%Y-%m-%d %H%M%S', t)}){ext}"
    if kind == "onedrive":
        return f"{stem}-{host}{ext}"
    raise ValueError(kind)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> dict[str, str]:
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and p.name != ".lock" and not p.name.startswith(".fvtmp-"):
            out[str(p.relative_to(root))] = _digest(p)
    return out


@dataclass
class SyncTool:
    kind: str = "syncthing"
    quirk: float = 0.0
    seed: int = 0
    base: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # last synced state per pair
    copies_made: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _copy(self, src: Path, dst: Path, rel: str, host: str) -> None:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and self.quirk and self.rng.random() < self.quirk:
            keep = target.with_name(conflict_copy_name(self.kind, target.name, host, time.time()))
            if not keep.exists():
                shutil.copy2(target, keep)
                self.copies_made += 1
        tmp = target.with_name(f".syncing-{target.name}")
        shutil.copy2(src / rel, tmp)
        tmp.replace(target)  # tools write a temporary file and rename it into place

    def sync(self, a: Path, b: Path, hosts: tuple[str, str] = ("laptop", "desktop")) -> None:
        key = (str(a), str(b)) if str(a) < str(b) else (str(b), str(a))
        if key[0] != str(a):
            a, b, hosts = b, a, (hosts[1], hosts[0])
        base = self.base.get(key, {})
        for _ in range(3):  # a conflict copy made in one pass is a new file for the next
            fa, fb = _files(a), _files(b)
            if fa == fb:
                break
            self._pass(a, b, hosts, base, fa, fb)
        self.base[key] = _files(a)
        assert self.base[key] == _files(b), "the two copies differ after a sync"

    def _pass(self, a: Path, b: Path, hosts: tuple[str, str], base: dict[str, str],
              fa: dict[str, str], fb: dict[str, str]) -> None:
        for rel in sorted(set(fa) | set(fb) | set(base)):
            ha, hb, h0 = fa.get(rel), fb.get(rel), base.get(rel)
            if ha == hb:
                continue
            a_changed, b_changed = ha != h0, hb != h0
            if a_changed and not b_changed:
                if ha is None:
                    (b / rel).unlink()
                else:
                    self._copy(a, b, rel, hosts[1])
            elif b_changed and not a_changed:
                if hb is None:
                    (a / rel).unlink()
                else:
                    self._copy(b, a, rel, hosts[0])
            elif ha is None:  # deleted on a, changed on b: the change wins
                self._copy(b, a, rel, hosts[0])
            elif hb is None:
                self._copy(a, b, rel, hosts[1])
            else:  # changed on both: the newer keeps the name, the other is a conflict copy
                newer_a = (a / rel).stat().st_mtime >= (b / rel).stat().st_mtime
                win, lose, lose_host = (a, b, hosts[1]) if newer_a else (b, a, hosts[0])
                copy = (lose / rel).with_name(conflict_copy_name(self.kind, Path(rel).name, lose_host,
                                                                 time.time()))
                shutil.copy2(lose / rel, copy)
                self.copies_made += 1
                shutil.copy2(win / rel, lose / rel)
                copy_rel = str(copy.relative_to(lose))
                shutil.copy2(copy, (win / copy_rel))
