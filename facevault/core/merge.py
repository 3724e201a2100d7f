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
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

from facevault.core.records import MV, PUT, Record

__all__ = ["Entry", "View", "merge", "conflict_name"]


class Entry(NamedTuple):
    """A file as the vault shows it. `name` is what to call it (a conflict copy's name for
    a losing version); `original` the name it was written under. (A tuple: a 10,000-file
    vault makes 10,000 of them at every open.)"""

    name: str
    original: str
    size: int
    mtime: float
    object_id: str
    nonce_hex: str
    key_epoch: str
    version: str
    device_name: str = ""
    written: float = 0.0

    @property
    def nonce(self) -> bytes:
        return bytes.fromhex(self.nonce_hex)

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
    shown: dict[str, tuple[str, ...]] = field(repr=False, default_factory=dict)  # original -> display names
    moves: dict[str, str] = field(repr=False, default_factory=dict)  # version -> its mv record
    clean: bool = True  # no conflict copy needed a " 2" suffix (then `apply` is exact)

    def sorted_entries(self) -> list[Entry]:
        return [self.entries[n] for n in sorted(self.entries)]

    def conflicts(self) -> list[Entry]:
        return [e for e in self.sorted_entries() if e.conflict]

    def apply(self, r: Record) -> View | None:
        """The view with one more record, computed for the names it touches only; None when
        that might differ from a full merge (a suffixed conflict copy, a name collision, a
        record already superseded): the caller merges everything then."""
        if not self.clean or r.version in self.records or r.version in self.dead:
            return None
        dead = self.dead | set(r.replaces)
        if r.op == MV:
            return self._apply_move(r)
        if r.op == PUT and r.version in dead:
            return None
        affected = {self.records[v].name for v in r.replaces if v in self.records}
        if r.op == PUT:
            affected.add(r.name)
        entries, heads, shown = dict(self.entries), dict(self.heads), dict(self.shown)
        kept = dict(self.records)
        moves = dict(self.moves)
        groups: dict[str, list[Record]] = {}
        for name in affected:
            for display in shown.pop(name, ()):
                del entries[display]
            old = heads.pop(name, ())
            groups[name] = [kept[v] for v in old if v not in dead]
            for v in old:
                if v in dead:
                    kept.pop(v, None)
                    mv = moves.pop(v, None)
                    if mv is not None:
                        kept.pop(mv, None)
        if r.op == PUT:
            groups.setdefault(r.name, []).append(r)
            kept[r.version] = r
        losers: list[Record] = []
        for name, versions in groups.items():
            if not versions:
                continue
            if name in entries:
                return None  # the name is another group's conflict copy: a full merge sorts it out
            versions.sort(key=_rank, reverse=True)
            heads[name] = tuple(v.version for v in versions)
            entries[name] = self._entry_of(versions[0], name, kept, moves)
            shown[name] = (name,)
            losers.extend(versions[1:])
        for loser in sorted(losers, key=lambda x: (x.name, _rank(x))):
            display = conflict_name(loser.name, loser.device_name, loser.time)
            if display in entries:
                return None
            entries[display] = self._entry_of(loser, display, kept, moves)
            shown[loser.name] = (*shown[loser.name], display)
        return View(entries, heads, frozenset(dead), max(self.lamport, r.lamport), kept, shown,
                    moves, True)

    @staticmethod
    def _entry_of(r: Record, display: str, kept: dict[str, Record], moves: dict[str, str]) -> Entry:
        mv = moves.get(r.version)
        return _entry(display, r, {r.version: kept[mv]} if mv is not None else {})

    def _apply_move(self, r: Record) -> View | None:
        target = self.records.get(r.target)
        if target is None or target.op != PUT:
            return None
        current = self.moves.get(r.target)
        if current is not None and _rank(self.records[current]) > _rank(r):
            return None
        kept = dict(self.records)
        moves = dict(self.moves)
        if current is not None:
            kept.pop(current, None)
        kept[r.version] = r
        moves[r.target] = r.version
        entries = dict(self.entries)
        for display in self.shown.get(target.name, ()):
            if entries[display].version == r.target:
                entries[display] = _entry(display, target, {r.target: r})
        return View(entries, self.heads, self.dead, max(self.lamport, r.lamport), kept,
                    self.shown, moves, True)

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


def merge(records: Iterable[Record], dead: Iterable[str] = (), lamport: int = 0) -> View:
    """The view of a set of records (duplicates by version id are the same record).
    `lamport`: a floor for the clock (what a snapshot had seen)."""
    by_id = {r.version: r for r in records}
    recs = by_id.values()
    dead_set = set(dead)
    dead_set.update(chain.from_iterable(map(_REPLACES, recs)))
    lamport = max(lamport, max(map(_LAMPORT, recs), default=0))
    moves: dict[str, Record] = {}
    single: dict[str, Record] = {}
    several: dict[str, list[Record]] = {}
    for r in recs:
        if r.op == PUT:
            if r.version in dead_set:
                continue
            other = single.get(r.name)
            if other is None:
                single[r.name] = r
            elif r.name in several:
                several[r.name].append(r)
            else:
                several[r.name] = [other, r]
        elif r.op == MV:
            best = moves.get(r.target)
            if best is None or _rank(r) > _rank(best):
                moves[r.target] = r
    for name in several:
        del single[name]
    if moves:
        entries = {name: _entry(name, r, moves) for name, r in single.items()}
    else:  # the common case, in one pass without a call per file
        new = tuple.__new__
        entries = {name: new(Entry, (name, name, r.size, r.mtime, r.object_id, r.nonce, r.key_epoch,
                                     r.version, r.device_name, r.time)) for name, r in single.items()}
    heads: dict[str, tuple[str, ...]] = {name: (r.version,) for name, r in single.items()}
    shown: dict[str, list[str]] = {}
    kept: dict[str, Record] = {r.version: r for r in single.values()}
    losers: list[Record] = []
    for name, versions in several.items():
        versions.sort(key=_rank, reverse=True)
        heads[name] = tuple(v.version for v in versions)
        entries[name] = _entry(name, versions[0], moves)
        shown[name] = [name]
        kept[versions[0].version] = versions[0]
        losers.extend(versions[1:])
    clean = True
    for r in sorted(losers, key=lambda r: (r.name, _rank(r))):
        base = conflict_name(r.name, r.device_name, r.time)
        display, n = base, 1
        while display in entries:
            n += 1
            clean = False
            dot = base.rfind(".") if base.rfind(".") > base.rfind(")") else -1
            display = f"{base[:dot]} {n}{base[dot:]}" if dot > 0 else f"{base} {n}"
        entries[display] = _entry(display, r, moves)
        shown[r.name].append(display)
        kept[r.version] = r
    move_ids: dict[str, str] = {}
    for target, mv in moves.items():
        if target in kept:
            kept[mv.version] = mv
            move_ids[target] = mv.version
    shown_all: dict[str, tuple[str, ...]] = {name: (name,) for name in single}
    shown_all.update((k, tuple(v)) for k, v in shown.items())
    return View(entries, heads, frozenset(dead_set), lamport, kept, shown_all, move_ids, clean)


_REPLACES = attrgetter("replaces")
_LAMPORT = attrgetter("lamport")


def _entry(shown: str, r: Record, moves: dict[str, Record]) -> Entry:
    mv = moves.get(r.version)
    object_id, nonce, key_epoch = (mv.object_id, mv.nonce, mv.key_epoch) if mv else (
        r.object_id, r.nonce, r.key_epoch)
    return Entry(shown, r.name, r.size, r.mtime, object_id, nonce, key_epoch, r.version,
                 r.device_name, r.time)

