"""A vault's upkeep: merging a fork of epochs, compacting this device's journal into its
snapshot, and collecting garbage. Called by facevault.core.vault.OpenVault under its lock.

Fork: two devices changed the slots between syncs, so the folder has two tips. The device
that opened both writes one epoch whose parents are both tips, whose slots keep what either
side kept and drop what either side removed (epochs.merged_slots), whose mode is the
stronger of the two, and whose key history holds both tips' keys, so everything either side
wrote stays readable. The version-1 slots of an upgraded vault survive only when neither
side revoked them.

Compaction: this device's snapshot gets every live record it knows, the versions known to be
superseded and how far it read into each journal; then its journal starts again, empty,
after its last record; then the sync tool's conflict copies of FaceVault files whose records
are all in the view are deleted. Open time stays flat as history grows.

Garbage: an object file no live version names is deleted once it has been on this machine
for the grace period (a sync tool may deliver an object before the record naming it, and a
device offline for a while may still name it); temporary files of a crashed write after an
hour; a version-1 vault's leftovers at once.

May import: stdlib, facevault.core (epochs, folder, fsutil, journal, vault), facevault.errors.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from facevault.core import fsutil
from facevault.core.epochs import merged_slots, write_epoch
from facevault.core.folder import JOURNAL_DIR, OBJECTS_DIR, SNAPSHOT_DIR, v1_leftovers
from facevault.core.journal import Snapshot, new_journal, write_snapshot

if TYPE_CHECKING:
    from facevault.core.vault import OpenVault

__all__ = ["merge_fork", "compact", "collect", "DEBRIS_SECONDS"]

DEBRIS_SECONDS = 3600.0


def _rank(mode: object) -> int:
    return -1 if mode is None else int(getattr(mode, "rank", -1))


def merge_fork(vault: OpenVault) -> None:
    keys = vault._k  # noqa: SLF001 - core-internal: this module is the vault's own
    current, others = keys.header, list(keys.other_tips)
    if not others:
        return
    tips = [current, *others]
    mode = max((h.mode for h in tips), key=_rank)
    strongest = next(h for h in tips if h.mode is mode)
    slots, removed = merged_slots(strongest, [h for h in tips if h is not strongest])
    legacy = current.legacy_slots if all(h.legacy_slots for h in tips) else ()
    header, key = write_epoch(vault.path, vault_id=vault.vault_id, parents=tips,
                              device=vault.device.id, mode=mode, slots=slots, removed=removed,
                              ring=keys.ring, legacy_slots=legacy)
    vault._switch(header, key, tips)  # noqa: SLF001


def compact(vault: OpenVault) -> None:
    state = vault.state
    keys = vault._k  # noqa: SLF001
    snap = Snapshot(vault.device.id, vault.epoch, dict(state.frontier), state.view.lamport,
                    tuple(state.view.records.values()), state.view.dead)
    root = vault.path
    (root / SNAPSHOT_DIR).mkdir(mode=0o700, exist_ok=True)
    write_snapshot(root / SNAPSHOT_DIR / f"{vault.device.id.hex()}.fvs", vault.vault_id, snap, keys.key)
    new_journal(root / JOURNAL_DIR / f"{vault.device.id.hex()}.fvj", vault.vault_id,
                vault.device.id, state.own_seq)
    for copy in state.copies:
        fsutil.remove_quietly(copy)
    vault._reload()  # noqa: SLF001
    collect(vault, None)


def collect(vault: OpenVault, grace_seconds: float | None) -> int:
    from facevault.core.vault import GC_GRACE_SECONDS

    grace = GC_GRACE_SECONDS if grace_seconds is None else grace_seconds
    removed = 0
    live = {e.object_id for e in vault.entries()}
    now = time.time()
    for p in list((vault.path / OBJECTS_DIR).glob("*")):
        with contextlib.suppress(OSError):
            st = p.lstat()
            age = now - max(st.st_ctime, st.st_mtime)
            debris = p.name.startswith(fsutil.TEMP_PREFIX) and age > DEBRIS_SECONDS
            orphan = p.suffix == ".fvo" and p.stem not in live and age > grace
            if (debris or orphan) and fsutil.remove_quietly(p):
                removed += 1
    for leftover in v1_leftovers(vault.path):
        removed += fsutil.remove_quietly(leftover)
    return removed
