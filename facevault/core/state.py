"""Loading a version-2 vault's state: every device's journal and snapshot (and any conflict
copy a sync tool made of them) read under the epoch keys this device has, merged into one
view (facevault.core.merge).

Also what a device needs to notice a rolled-back folder: how far it has read into each
device's journal (`heads`). A journal may start after some records only when a snapshot
covers them; otherwise the earlier records are missing and the folder is refused.

May import: stdlib, facevault.core (folder, header, journal, merge, records), facevault.errors.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from facevault.core.folder import JOURNAL_DIR, SNAPSHOT_DIR, FolderScan
from facevault.core.header import EpochId
from facevault.core.journal import JournalRead, Snapshot, read_journal, read_snapshot, snapshot_frontier
from facevault.core.merge import View, merge
from facevault.core.records import Record
from facevault.errors import Hint, IntegrityError

__all__ = ["KeyRing", "State", "ReadCache", "load_state", "after_append"]


@dataclass
class KeyRing:
    """Every epoch key this device holds for a vault, by epoch and by label."""

    keys: dict[EpochId, bytes] = field(repr=False)

    def get(self, epoch: EpochId) -> bytes | None:
        return self.keys.get(epoch)

    def by_label(self, label: str) -> bytes | None:
        number, _, writer = label.partition("-")
        try:
            return self.keys.get(EpochId(int(number), bytes.fromhex(writer)))
        except ValueError:
            return None


@dataclass(frozen=True)
class State:
    view: View
    heads: dict[str, int]  # device hex -> the last seq seen of its journal (or covered)
    own: JournalRead | None = field(repr=False)
    own_seq: int
    pending: int  # records not readable here yet (their epoch's header has not arrived)
    copies: tuple[Path, ...]  # conflict copies whose records are in the view
    journal_frames: dict[str, int] = field(default_factory=dict)  # frames per journal file
    frontier: dict[str, int] = field(default_factory=dict)  # device hex -> last seq read with every record before it


Sig = tuple[int, int, int]


def _sig(path: Path) -> Sig | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class ReadCache:
    """What one open vault already read, by file: a reload re-reads only files that changed
    (a journal that grew: only its new frames), and when nothing changed it merges nothing."""

    items: dict[Path, tuple[Sig, object]] = field(default_factory=dict)
    ring_size: int = -1
    last: tuple[tuple[tuple[Path, Sig | None], ...], State] | None = None

    def reset(self, ring: KeyRing) -> None:
        if self.ring_size != len(ring.keys):  # a new key may open frames that were pending
            self.items.clear()
            self.last = None
            self.ring_size = len(ring.keys)

    def frontier(self, path: Path, sig: Sig | None, vault_id: bytes) -> dict[str, int] | None:
        key = path.with_name(path.name + "#frontier")
        hit = self.items.get(key)
        if sig is not None and hit is not None and hit[0] == sig:
            return hit[1]  # type: ignore[return-value]
        found = snapshot_frontier(path, vault_id)
        if sig is not None:
            self.items[key] = (sig, found)
        return found

    def snapshot(self, path: Path, sig: Sig | None, vault_id: bytes, ring: KeyRing) -> Snapshot | None:
        hit = self.items.get(path)
        if sig is not None and hit is not None and hit[0] == sig:
            return hit[1]  # type: ignore[return-value]
        snap = read_snapshot(path, vault_id, ring.get)
        if sig is not None:
            self.items[path] = (sig, snap)
        return snap

    def journal(self, path: Path, sig: Sig | None, vault_id: bytes, ring: KeyRing) -> JournalRead | None:
        hit = self.items.get(path)
        if sig is not None and hit is not None:
            old_sig, old = hit
            if old_sig == sig:
                return old  # type: ignore[return-value]
            if isinstance(old, JournalRead) and old_sig[0] == sig[0] and sig[1] >= old.valid_end:
                read = read_journal(path, vault_id, ring.get, after=old)  # it only grew
                self.items[path] = (sig, read)
                return read
        read = read_journal(path, vault_id, ring.get)
        if sig is not None:
            self.items[path] = (sig, read)
        return read

    def appended(self, path: Path, read: JournalRead, state: State) -> None:
        """This device appended to its journal, giving `state`: remember both without
        reading the file again."""
        sig = _sig(path)
        if sig is None:
            self.last = None
            return
        self.items[path] = (sig, read)
        if self.last is not None and any(p == path for p, _s in self.last[0]):
            self.last = (tuple((p, sig if p == path else s) for p, s in self.last[0]), state)
        else:
            self.last = None


def load_state(folder: FolderScan, vault_id: bytes, ring: KeyRing, device: bytes,
               cache: ReadCache | None = None) -> State:
    """Every journal and snapshot in `folder` (and conflict copies of them) merged into one
    view. IntegrityError when a journal starts after records no snapshot holds (they are
    missing: a rolled-back or half-synced folder)."""
    # The records of a large vault are tens of thousands of small tuples: the cyclic garbage
    # collector, run over and over while they are made, doubled the open time (they hold no
    # cycles). It runs again afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_state(folder, vault_id, ring, device, cache)
    finally:
        if enabled:
            gc.enable()


def _load_state(folder: FolderScan, vault_id: bytes, ring: KeyRing, device: bytes,
                cache: ReadCache | None) -> State:
    cache = cache if cache is not None else ReadCache()
    cache.reset(ring)
    snap_paths = list(folder.files(SNAPSHOT_DIR)) + [c for c, _o in folder.copies_in(SNAPSHOT_DIR)]
    journal_paths = list(folder.files(JOURNAL_DIR)) + [c for c, _o in folder.copies_in(JOURNAL_DIR)]
    sigs = tuple((p, _sig(p)) for p in snap_paths + journal_paths)
    if cache.last is not None and cache.last[0] == sigs:
        return cache.last[1]
    copy_set = set(folder.copies)
    snapshots: list[Snapshot] = []
    journals: list[JournalRead] = []
    copies: list[Path] = []
    own: JournalRead | None = None
    sig_of = dict(sigs)
    frontiers = {p: f for p in snap_paths if (f := cache.frontier(p, sig_of[p], vault_id)) is not None}
    covered: dict[str, int] = {}
    for f in frontiers.values():
        for dev, seq in f.items():
            covered[dev] = max(covered.get(dev, 0), seq)
    unread: set[Path] = set()
    for path in _undominated(frontiers):
        snap = cache.snapshot(path, sig_of[path], vault_id, ring)
        if snap is not None:
            snapshots.append(snap)
        else:
            unread.add(path)  # sealed under a key not here yet: never deleted as merged
    copies += [p for p in frontiers if p in copy_set and p not in unread]
    for path in journal_paths:
        read = cache.journal(path, sig_of[path], vault_id, ring)
        if read is None:
            continue
        if path in copy_set:
            copies.append(path)
        elif path.stem != read.device.hex():
            raise IntegrityError(f"the journal {path.name} belongs to another device")
        elif read.device == device:
            own = read
        journals.append(read)
    state = _combine(snapshots, covered, journals, own, device, tuple(copies))
    cache.last = (sigs, state)
    return state


def _undominated(frontiers: dict[Path, dict[str, int]]) -> list[Path]:
    """The snapshots to read: one that another reaches past on every device holds nothing
    the other lacks (its live records are live or superseded there), so it is skipped."""
    order = sorted(frontiers, key=lambda p: (-sum(frontiers[p].values()), str(p)))
    kept: list[Path] = []
    for path in order:
        mine = frontiers[path]
        if not any(all(frontiers[k].get(d, 0) >= s for d, s in mine.items()) for k in kept):
            kept.append(path)
    return kept


def _combine(snapshots: list[Snapshot], covered: dict[str, int], journals: list[JournalRead],
             own: JournalRead | None, device: bytes, copies: tuple[Path, ...]) -> State:
    heads = dict(covered)
    frontier = dict(covered)
    pending = 0
    frames: dict[str, int] = {}
    for read in journals:
        dev = read.device.hex()
        if read.base_seq > covered.get(dev, 0):
            raise IntegrityError(
                f"the journal of device {dev[:8]} starts after record {read.base_seq}, and no "
                "snapshot in the folder holds the records before it: they are missing (the "
                "folder is still syncing, or parts of it were rolled back)",
                hint=Hint.WAIT_FOR_SYNC)
        heads[dev] = max(heads.get(dev, 0), read.last_seq)
        frontier[dev] = max(frontier.get(dev, 0), read.readable)
        pending += read.pending
        frames[dev] = max(frames.get(dev, 0), len(read.records) + read.pending)
    records: list[Record] = [r for s in snapshots for r in s.records]
    for j in journals:  # what a snapshot covers is in it already
        floor = covered.get(j.device.hex(), 0)
        records += j.records if not j.records or j.records[0].seq > floor else [r for r in j.records if r.seq > floor]
    dead = frozenset().union(*(s.dead for s in snapshots)) if snapshots else frozenset()
    view = merge(records, dead, max((s.lamport for s in snapshots), default=0))
    own_seq = heads.get(device.hex(), 0)
    return State(view, heads, own, own_seq, pending, copies, frames, frontier)


def after_append(state: State, record: Record, read: JournalRead) -> State:
    """The state once this device appended `record` (its journal is now `read`): the view
    updated in place when that is exact (facevault.core.merge.View.apply), else merged."""
    view = state.view.apply(record)
    if view is None:
        view = merge([*state.view.records.values(), record], state.view.dead, state.view.lamport)
    heads = dict(state.heads)
    heads[read.device.hex()] = record.seq
    frontier = dict(state.frontier)
    frontier[read.device.hex()] = read.readable
    frames = dict(state.journal_frames)
    frames[read.device.hex()] = len(read.records) + read.pending
    return replace(state, view=view, heads=heads, own=read, own_seq=record.seq,
                   journal_frames=frames, frontier=frontier)
