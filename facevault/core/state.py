"""Loading a version-2 vault's state: every device's journal and snapshot (and any conflict
copy a sync tool made of them) read under the epoch keys this device has, merged into one
view (facevault.core.merge).

Also what a device needs to notice a rolled-back folder: how far it has read into each
device's journal (`heads`). A journal may start after some records only when a snapshot
covers them; otherwise the earlier records are missing and the folder is refused.

May import: stdlib, facevault.core (folder, header, journal, merge, records), facevault.errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from facevault.core.folder import JOURNAL_DIR, SNAPSHOT_DIR, FolderScan
from facevault.core.header import EpochId
from facevault.core.journal import JournalRead, Snapshot, read_journal, read_snapshot
from facevault.core.merge import View, merge
from facevault.core.records import Record
from facevault.errors import IntegrityError

__all__ = ["KeyRing", "State", "load_state"]


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


def load_state(folder: FolderScan, vault_id: bytes, ring: KeyRing, device: bytes) -> State:
    snapshots: list[Snapshot] = []
    journals: list[JournalRead] = []
    copies: list[Path] = []
    for path in folder.files(SNAPSHOT_DIR):
        snap = read_snapshot(path, vault_id, ring.get)
        if snap is not None:
            snapshots.append(snap)
    for copy, _original in folder.copies_in(SNAPSHOT_DIR):
        snap = read_snapshot(copy, vault_id, ring.get)
        if snap is not None:
            snapshots.append(snap)
            copies.append(copy)
    own: JournalRead | None = None
    for path in folder.files(JOURNAL_DIR):
        read = read_journal(path, vault_id, ring.get)
        if read is None:
            continue
        if path.stem != read.device.hex():
            raise IntegrityError(f"the journal {path.name} belongs to another device")
        journals.append(read)
        if read.device == device:
            own = read
    for copy, _original in folder.copies_in(JOURNAL_DIR):
        read = read_journal(copy, vault_id, ring.get)
        if read is not None:
            journals.append(read)
            copies.append(copy)
    covered: dict[str, int] = {}
    for snap in snapshots:
        for dev, seq in snap.frontier.items():
            covered[dev] = max(covered.get(dev, 0), seq)
    heads = dict(covered)
    pending = 0
    frames: dict[str, int] = {}
    for read in journals:
        dev = read.device.hex()
        if read.base_seq > covered.get(dev, 0):
            raise IntegrityError(
                f"the journal of device {dev[:8]} starts after record {read.base_seq}, and no "
                "snapshot in the folder holds the records before it: they are missing",
                hint="Restore the vault folder from a backup, or sync it again.")
        heads[dev] = max(heads.get(dev, 0), read.last_seq)
        pending += read.pending
        frames[dev] = max(frames.get(dev, 0), len(read.records) + read.pending)
    records: list[Record] = [r for s in snapshots for r in s.records]
    records += [r for j in journals for r in j.records]
    dead = frozenset().union(*(s.dead for s in snapshots)) if snapshots else frozenset()
    view = merge(records, dead)
    own_seq = heads.get(device.hex(), 0)
    return State(view, heads, own, own_seq, pending, tuple(copies), frames)
