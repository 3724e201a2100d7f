"""From the records every device wrote to the files a vault shows: a deterministic merge (a
CRDT), so every device that holds the same records shows the same view, whatever order
they arrived in.

The rules, per name:
  - a record replaces the versions its writer saw as current (`replaces`); a version
    replaced by any record known here is dead, and so is every version a snapshot lists as
    dead (compaction drops superseded records but remembers that they were superseded);
  - the live versions of a name are its puts that nothing replaces. A removal replaces only
    what its writer saw, so an edit made elsewhere at the same time survives it ("an edit
    beats a concurrent removal");
  - one live version: it is the file. Several (concurrent edits, or the same new name added
    on two devices): the one with the highest (Lamport clock, writer device, version id)
    keeps the name, every other is shown as a conflict copy,
    "report (conflict, laptop, 2026-12-01).pdf" (its writer's device name and date, UTC),
    with " 2", " 3" ... added when that name is taken;
  - an `mv` record moves a version to another object (re-encryption); the latest by
    (Lamport, device, id) wins.

May import: stdlib, facevault.core.records.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from facevault.core.records import MV, PUT, Record

__all__ = ["Entry", "View", "merge", "conflict_name"]


@dataclass(frozen=True)
class Entry:
    """A file as the vault shows it. `name` is what to call it (a conflict copy's name for
    a losing version); `original` the name it was written under."""

    name: str
    original: str
    size: int
    mtime: float
    object_id: str
    nonce: bytes = field(repr=False)
    key_epoch: str = field(repr=False)
    version: str = field(repr=False)
    device_name: str = ""
    written: float = 0.0

    @property
    def conflict(self) -> bool:
        return self.name != self.original


@dataclass(frozen=True)
class View:
    entries: dict[str, Entry]  # by display name
    heads: dict[str, tuple[str, ...]]  # original name -> live versions, winner first
    dead: frozenset[str] = field(repr=False)
    lamport: int = 0
    records: dict[str, Record] = field(repr=False, default_factory=dict)  # live puts, moves

    def sorted_entries(self) -> list[Entry]:
        return [self.entries[n] for n in sorted(self.entries)]

    def conflicts(self) -> list[Entry]:
        return [e for e in self.sorted_entries() if e.conflict]

    def shown_as(self, name: str) -> Entry | None:
        """The version a person sees under `name` (a file or a conflict copy): what a new
        write of that name, or its removal, replaces."""
        return self.entries.get(name)


def _rank(r: Record) -> tuple[int, str, str]:
    return (r.lamport, r.device, r.version)


def conflict_name(original: str, device_name: str, when: float) -> str:
    day = time.strftime("%Y-%m-%d", time.gmtime(when))
    slash = original.rfind("/")
    head, leaf = original[: slash + 1], original[slash + 1 :]
    dot = leaf.rfind(".")
    stem, ext = (leaf[:dot], leaf[dot:]) if dot > 0 else (leaf, "")
    who = device_name or "another device"
    return f"{head}{stem} (conflict, {who}, {day}){ext}"


def merge(records: Iterable[Record], dead: Iterable[str] = ()) -> View:
    """The view of a set of records (duplicates by version id are the same record)."""
    by_id: dict[str, Record] = {}
    for r in records:
        by_id.setdefault(r.version, r)
    dead_set = set(dead)
    lamport = 0
    for r in by_id.values():
        dead_set.update(r.replaces)
        if r.lamport > lamport:
            lamport = r.lamport
    moves: dict[str, Record] = {}
    live: dict[str, list[Record]] = {}
    for r in by_id.values():
        if r.op == MV:
            best = moves.get(r.target)
            if best is None or _rank(r) > _rank(best):
                moves[r.target] = r
        elif r.op == PUT and r.version not in dead_set:
            live.setdefault(r.name, []).append(r)
    entries: dict[str, Entry] = {}
    heads: dict[str, tuple[str, ...]] = {}
    losers: list[Record] = []
    kept: dict[str, Record] = {}
    for name, versions in live.items():
        versions.sort(key=_rank, reverse=True)
        heads[name] = tuple(v.version for v in versions)
        entries[name] = _entry(name, versions[0], moves)
        kept[versions[0].version] = versions[0]
        losers.extend(versions[1:])
    for r in sorted(losers, key=lambda r: (r.name, _rank(r))):
        base = conflict_name(r.name, r.device_name, r.time)
        shown, n = base, 1
        while shown in entries:
            n += 1
            dot = base.rfind(".") if base.rfind(".") > base.rfind(")") else -1
            shown = f"{base[:dot]} {n}{base[dot:]}" if dot > 0 else f"{base} {n}"
        entries[shown] = _entry(shown, r, moves)
        kept[r.version] = r
    for target, mv in moves.items():
        if target in kept:
            kept[mv.version] = mv
    return View(entries, heads, frozenset(dead_set), lamport, kept)


def _entry(shown: str, r: Record, moves: dict[str, Record]) -> Entry:
    mv = moves.get(r.version)
    object_id, nonce, key_epoch = (mv.object_id, mv.nonce, mv.key_epoch) if mv else (
        r.object_id, r.nonce, r.key_epoch)
    return Entry(shown, r.name, r.size, r.mtime, object_id, bytes.fromhex(nonce), key_epoch,
                 r.version, r.device_name, r.time)

