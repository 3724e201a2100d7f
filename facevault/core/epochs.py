"""A vault's epochs: reading its headers, opening the current one with what a person offers,
and starting a new epoch (a slot change, a revocation, the merge of two epochs that two
devices started at once).

The current epoch is the highest "tip": a header no other header names as its parent. Two
tips mean two devices changed the slots between syncs; both are opened with the same
factors, their keys all go into the key ring, and the next write merges them into one epoch
whose slots keep every slot either side kept (and drop every slot either side removed: a
revocation on one side stays a revocation).

May import: stdlib, facevault.core (crypto, folder, fsutil, header, slots, state, unlocking,
v1), facevault.errors.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from facevault.core.kdf import unlock_budget
from facevault.core import fsutil
from facevault.core.crypto import KEY_SIZE, random_bytes
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.folder import HEADERS_DIR, STATE_ROLES, FolderScan, scan
from facevault.core.header import MAX_HEADER_SIZE, EpochId, Header, encode_header, history_of, \
    open_bridge, parse_header, stanza_context, verify
from facevault.core.modes import Mode
from facevault.core.slots import Slot
from facevault.core.state import KeyRing
from facevault.core.unlocking import Opened, open_with
from facevault.core.v1.slots import Slot as V1Slot
from facevault.errors import FaceVaultError, IntegrityError, PathError, StorageError

__all__ = ["HeaderSet", "EpochKeys", "read_headers", "read_headers_at", "header_sigs", "unlock_headers",
           "write_epoch", "merged_slots"]


@dataclass(frozen=True)
class HeaderSet:
    """Every epoch header of a folder, parsed but not authenticated."""

    root: Path
    headers: tuple[Header, ...] = field(repr=False)
    paths: dict[bytes, Path] = field(repr=False)  # header digest -> file

    @property
    def vault_id(self) -> bytes:
        return self.headers[0].vault_id

    @property
    def tips(self) -> list[Header]:
        named = {(e, d) for h in self.headers for e, d in h.parents}
        tips = [h for h in self.headers if (h.epoch, h.digest) not in named]
        return sorted(tips, key=lambda h: h.epoch, reverse=True)

    @property
    def best(self) -> Header:
        return self.tips[0]


def read_headers(folder: FolderScan) -> HeaderSet:
    """Parse every header (and conflict copy of one); IntegrityError for none, for a header
    that is not FaceVault's, or for headers of two different vaults in one folder."""
    paths = list(folder.files(HEADERS_DIR)) + [c for c, _o in folder.copies_in(HEADERS_DIR)]
    headers: list[Header] = []
    by_digest: dict[bytes, Path] = {}
    for path in paths:
        data = fsutil.read_regular(path, MAX_HEADER_SIZE, "header")
        if data is None:
            continue
        header = parse_header(data)
        if header.digest not in by_digest:
            headers.append(header)
            by_digest[header.digest] = path
    if not headers:
        raise IntegrityError(f"not a FaceVault vault: {folder.root} has no vault header")
    if len({h.vault_id for h in headers}) > 1:
        raise IntegrityError(f"{folder.root} holds the headers of two different vaults",
                             hint="Move one vault's files to another folder.")
    return HeaderSet(folder.root, tuple(headers), by_digest)


def header_sigs(root: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What the header files look like now (name, inode, size, mtime): unchanged, not re-read."""
    out = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root / HEADERS_DIR):
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                out.append((entry.name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def read_headers_at(path: Path) -> HeaderSet:
    """The headers of the vault folder `path` (PathError when there is no such folder)."""
    path = Path(path)
    if not path.exists():
        raise PathError(f"no vault at {path}: the folder does not exist",
                           hint="Check the path, or create a vault there first.")
    if not path.is_dir():
        raise IntegrityError(f"not a FaceVault vault: {path} is a file, not a vault folder")
    return read_headers(scan(path, STATE_ROLES))


@dataclass
class EpochKeys:
    """What opening the current epoch gave: its header and key, every key reachable, what
    opened it, and the other tips (a fork to merge at the next write)."""

    header: Header
    key: bytes = field(repr=False)
    ring: KeyRing = field(repr=False)
    opened: Opened
    other_tips: list[Header] = field(default_factory=list)


def _legacy(tip: Header, offer: Factors, policy: DecodePolicy):  # type: ignore[no-untyped-def]
    def attempt() -> tuple[bytes, Opened] | None:
        if not tip.legacy_slots:
            return None
        from facevault.core.v1.unlocking import _open_slots as open_v1

        try:
            master, v1_opened = open_v1(list(tip.legacy_slots), offer, policy)
        except FaceVaultError:
            return None
        key = open_bridge(tip, master)
        if key is None:
            return None
        return key, Opened(None, v1_opened.face, kind=v1_opened.slot.kind, legacy=True,
                           legacy_id=v1_opened.slot.slot_id)
    return attempt


def _open_tip(tip: Header, offer: Factors, policy: DecodePolicy) -> tuple[bytes, Opened]:
    key, opened = open_with(tip.slots, tip.stanzas, offer, policy,
                            stanza_context(tip.vault_id, tip.epoch), extra=_legacy(tip, offer, policy))
    verify(tip, key)
    return key, opened


def unlock_headers(headers: HeaderSet, offer: Factors, policy: DecodePolicy) -> EpochKeys:
    """Open the best tip (NotRecognisedError from it when nothing fits), then any other tip
    the same factors open."""
    with unlock_budget():
        return _unlock_tips(headers.tips, offer, policy)


def _unlock_tips(tips: Sequence[Header], offer: Factors, policy: DecodePolicy) -> EpochKeys:
    key, opened = _open_tip(tips[0], offer, policy)
    ring = KeyRing(history_of(tips[0], key))
    others: list[Header] = []
    for tip in tips[1:]:
        try:
            k, _o = _open_tip(tip, offer, policy)
        except FaceVaultError:
            continue
        ring.keys.update(history_of(tip, k))
        others.append(tip)
    return EpochKeys(tips[0], key, ring, opened, others)


def merged_slots(current: Header, others: Sequence[Header]) -> tuple[list[Slot], list[bytes]]:
    """The slots of a merge epoch: the current tip's, plus what the others added, minus what
    any of them removed; and the removed ids."""
    removed = set(current.removed)
    for h in others:
        removed.update(h.removed)
    slots = {s.slot_id: s for s in current.slots}
    for h in others:
        for s in h.slots:
            slots.setdefault(s.slot_id, s)
    mode = current.mode
    kept = [s for sid, s in slots.items() if sid not in removed
            and not (s.kind.spec.carries_face and mode is not None and s.kind is not mode.face_kind)]
    gone = [s.slot_id for s in current.slots if s not in kept]
    return kept, gone


def write_epoch(
    root: Path,
    *,
    vault_id: bytes,
    parents: Sequence[Header],
    device: bytes,
    mode: Mode | None,
    slots: Sequence[Slot],
    removed: Sequence[bytes],
    ring: KeyRing,
    legacy_slots: Sequence[V1Slot] = (),
    key: bytes | None = None,
    number: int | None = None,
) -> tuple[Header, bytes]:
    """Write a new epoch header (a fresh key unless `key`); returns it and its key. The old
    keys go into its history; the legacy slots keep their bridge when given (the key of
    epoch number 0 is the version-1 master key of an upgraded vault)."""
    key = key if key is not None else random_bytes(KEY_SIZE)
    if number is None:
        number = max((p.epoch.number for p in parents), default=-1) + 1
    epoch = EpochId(number, device)
    history = {e: k for e, k in ring.keys.items() if e != epoch}
    legacy_master = next((k for e, k in sorted(ring.keys.items()) if e.number == 0), None)
    if legacy_slots and legacy_master is None:
        raise IntegrityError("the legacy version-1 slots lost their master key")
    data = encode_header(vault_id=vault_id, epoch=epoch, time=int(time.time()), mode=mode,
                         parents=[(p.epoch, p.digest) for p in parents], removed=removed,
                         slots=slots, key=key, history=history, legacy_slots=legacy_slots,
                         legacy_master=legacy_master)
    folder = root / HEADERS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    header = parse_header(data)
    with fsutil.atomic_write(folder / header.file_name, replace=False,
                             what="writing the vault header") as out:
        out.write(data)
    ring.keys[epoch] = key
    return header, key
