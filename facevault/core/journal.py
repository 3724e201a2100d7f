"""Per-device journals and snapshots: the only vault files that ever change, each written by
exactly one device, so a sync tool never sees two devices edit the same file.

    journal/<device>.fvj   append-only: a file header, then one frame per commit, each frame
                           one record sealed under the epoch key current when it was written
    snapshots/<device>.fvs the device's compaction: every live record it knew, the versions
                           known to be superseded, and how far into each device's journal it
                           had read (its frontier); replaced whole, atomically

A frame's key is HKDF(epoch key, salt = device), its nonce random, and its associated data
binds the vault, the device, the sequence number and the epoch, so frames cannot be moved between
journals or reordered. A torn last frame (a crash while appending) is ignored by readers
and cut off by the owner before it appends again. Byte layout: FORMAT.md, "Version 2:
journals and snapshots".

May import: stdlib, facevault.core (crypto, stream, fsutil, header, records), facevault.errors.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from facevault.core import fsutil
from facevault.core.crypto import aead_seal, hkdf_sha256, random_bytes
from facevault.core.header import EpochId
from facevault.core.records import Record, from_packed, from_rows, to_packed, to_row
from facevault.core.stream import open_blob, seal_blob
from facevault.errors import IntegrityError

__all__ = [
    "JOURNAL_DIR",
    "SNAPSHOT_DIR",
    "MAX_JOURNAL_SIZE",
    "MAX_SNAPSHOT_SIZE",
    "JournalRead",
    "Snapshot",
    "read_journal",
    "append_frame",
    "new_journal",
    "read_snapshot",
    "snapshot_frontier",
    "MAX_FRONTIER_SIZE",
    "write_snapshot",
]

JOURNAL_DIR = "journal"
SNAPSHOT_DIR = "snapshots"
MAX_JOURNAL_SIZE = 512 * 1024 * 1024
MAX_SNAPSHOT_SIZE = 1024 * 1024 * 1024
_J_MAGIC = b"FVJRNL\x00\x00"
_S_MAGIC = b"FVSNAP\x00\x00"
_VERSION = 2
_J_HEAD = struct.Struct(">8sH16s16sQ")
_FRAME_FIELDS = struct.Struct(">II16sQ12s")  # length, epoch number, epoch writer, seq, nonce
_FRAME = struct.Struct(">II16sQ12sI")  # ... and a CRC-32 of those fields
_S_HEAD = struct.Struct(">8sH16s16sI16s16s")  # then u32 L and L bytes: the frontier, in clear
MAX_FRONTIER_SIZE = 1024 * 1024
_MAX_FRAME = 16 * 1024 * 1024

KeyLookup = Callable[[EpochId], "bytes | None"]


@dataclass(frozen=True)
class JournalRead:
    """What one journal file gave: its records, where it starts, where its readable part
    ends (`valid_end`, a byte offset), and frames not yet readable here (their epoch key is
    in a header this device has not received)."""

    device: bytes
    base_seq: int
    records: tuple[Record, ...] = field(repr=False)
    last_seq: int
    valid_end: int
    pending: int
    readable_seq: int = -1  # the last seq before the first frame not readable here (-1: last_seq)
    # the bytes of the file just before `tail_end` when it was read: a later read that only
    # parses what was appended first checks they are still there (a file rewritten in place,
    # or a new file that got the old one's inode number, is read whole again)
    tail: bytes = field(default=b"", repr=False)
    tail_end: int = 0

    @property
    def readable(self) -> int:
        return self.last_seq if self.readable_seq < 0 else self.readable_seq


@functools.lru_cache(maxsize=64)
def _frame_key(epoch_key: bytes, vault_id: bytes, device: bytes) -> bytes:
    """One key per (epoch, device): frames differ by their random 96-bit nonce, and their
    associated data binds the sequence number."""
    return hkdf_sha256(epoch_key, salt=device, info=b"FaceVault journal v2" + vault_id)


def _frame_aad(vault_id: bytes, device: bytes, seq: int, epoch: EpochId) -> bytes:
    return vault_id + device + struct.pack(">Q", seq) + epoch.to_bytes()


def read_journal(path: Path, vault_id: bytes, keys: KeyLookup,
                 after: JournalRead | None = None) -> JournalRead | None:
    """Parse and decrypt a journal file; None when absent. IntegrityError when a complete
    frame fails to authenticate (tampering). `after`: what an earlier read of the same file
    gave; only the frames appended since are read (the file is append-only)."""
    if after is not None:
        offset = after.tail_end - len(after.tail)
        raw = _read_from(path, offset)
        if raw is None:
            return None
        if raw[: len(after.tail)] != after.tail or after.valid_end - offset > len(raw):
            return read_journal(path, vault_id, keys)  # not the file read before: read it whole
        skip = after.valid_end - offset
        data = raw[skip:]
        device, base, pos, seq = after.device, after.base_seq, 0, after.last_seq
        records, pending, start = list(after.records), after.pending, after.valid_end
        readable = after.readable_seq
    else:
        whole = fsutil.read_regular(path, MAX_JOURNAL_SIZE, "journal")
        if whole is None:
            return None
        raw, skip = whole, 0
        data, start = whole, 0
        if len(data) < _J_HEAD.size:
            raise IntegrityError(f"the journal {path.name} is truncated")
        magic, version, vid, device, base = _J_HEAD.unpack_from(data)
        if magic != _J_MAGIC or version != _VERSION:
            raise IntegrityError(f"{path.name} is not a FaceVault journal")
        if vid != vault_id:
            raise IntegrityError(f"the journal {path.name} belongs to another vault")
        pos, seq, records, pending = _J_HEAD.size, base, [], 0
        readable = -1
    plains: list[bytes] = []
    seqs: list[int] = []
    ciphers: dict[EpochId, ChaCha20Poly1305 | None] = {}
    dev_hex = device.hex()
    while pos < len(data):
        if len(data) - pos < _FRAME.size:
            break  # torn tail
        length, e_num, e_writer, f_seq, nonce, crc = _FRAME.unpack_from(data, pos)
        if zlib.crc32(data[pos : pos + _FRAME_FIELDS.size]) != crc:
            raise IntegrityError(f"a record in the journal {path.name} was modified",
                                 hint="Restore the vault folder from a backup.")
        end = pos + _FRAME.size + length
        if length > _MAX_FRAME or end > len(data):
            break  # torn tail: a crash while appending (the frame header says more than is there)
        if f_seq != seq + 1:
            raise IntegrityError(f"the journal {path.name} skips or repeats a record")
        epoch = EpochId(e_num, e_writer)
        if epoch not in ciphers:
            key = keys(epoch)
            ciphers[epoch] = ChaCha20Poly1305(_frame_key(key, vault_id, device)) if key is not None else None
        cipher = ciphers[epoch]
        if cipher is None:
            if readable < 0:
                readable = seq
            pending += 1
        else:
            try:
                plains.append(cipher.decrypt(nonce, data[pos + _FRAME.size : end],
                                             _frame_aad(vault_id, device, f_seq, epoch)))
            except InvalidTag:
                raise IntegrityError(f"a record in the journal {path.name} was modified",
                                     hint="Restore the vault folder from a backup.") from None
            seqs.append(f_seq)
        seq = f_seq
        pos = end
    if plains:  # one parse and one check for all the new frames
        try:
            rows = json.loads(b"[" + b",".join(plains) + b"]")
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise IntegrityError(f"a record in the journal {path.name} is malformed") from None
        new = from_rows(rows)
        if any(r.device != dev_hex or r.seq != q for r, q in zip(new, seqs)):
            raise IntegrityError(f"a record in the journal {path.name} names another writer")
        records.extend(new)
    tail = raw[max(0, skip + pos - _TAIL) : skip + pos]
    return JournalRead(device, base, tuple(records), seq, start + pos, pending, readable,
                       tail, start + pos)


_TAIL = 64  # bytes kept to recognise the file at the next read (a frame's tag and more)


def _read_from(path: Path, offset: int) -> bytes | None:
    """The bytes of a journal from `offset` on (a regular file, never through a link)."""
    try:
        f = fsutil.open_regular(path, "the vault's journal", name=path.name)
    except FileNotFoundError:
        return None
    with f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_JOURNAL_SIZE:
            raise IntegrityError(f"the vault's journal {path.name} is too large")
        f.seek(offset)
        return f.read(max(0, size - offset))


def new_journal(path: Path, vault_id: bytes, device: bytes, base_seq: int) -> JournalRead:
    """Create (or replace) a device's journal holding no frames, starting after `base_seq`."""
    head = _J_HEAD.pack(_J_MAGIC, _VERSION, vault_id, device, base_seq)
    with fsutil.atomic_write(path, what="writing the vault journal") as out:
        out.write(head)
    return JournalRead(device, base_seq, (), base_seq, _J_HEAD.size, 0, -1, head[-_TAIL:], _J_HEAD.size)


def append_frame(path: Path, vault_id: bytes, device: bytes, epoch: EpochId, epoch_key: bytes,
                 record: Record, valid_end: int) -> int:
    """Append one record (its seq is record.seq) and fsync; returns the new end. `valid_end`:
    where the readable part of the file ends (a torn tail beyond it is cut off first)."""
    plain = json.dumps(to_row(record), separators=(",", ":"), ensure_ascii=True,
                       allow_nan=False).encode("ascii")
    nonce = random_bytes(12)
    body = aead_seal(_frame_key(epoch_key, vault_id, device), nonce, plain,
                     _frame_aad(vault_id, device, record.seq, epoch))
    fields = _FRAME_FIELDS.pack(len(body), epoch.number, epoch.writer, record.seq, nonce)
    frame = fields + struct.pack(">I", zlib.crc32(fields)) + body
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device put in its place
            os.close(fd)
            raise IntegrityError(f"the vault's journal {path.name} is not a regular file; refused")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "r+b") as f:
            if os.fstat(f.fileno()).st_size != valid_end:
                f.truncate(valid_end)
            f.seek(valid_end)
            fsutil.write_all(f, frame)
            fsutil.fsync_file(f)
    except OSError as exc:
        raise fsutil.storage_error(exc, "writing the vault journal") from exc
    return valid_end + len(frame)


@dataclass(frozen=True)
class Snapshot:
    device: bytes
    epoch: EpochId
    frontier: dict[str, int]  # device hex -> the last seq of its journal this snapshot covers
    lamport: int
    records: tuple[Record, ...] = field(repr=False)
    dead: frozenset[str] = field(repr=False)  # versions known to be superseded


def _snap_key(epoch_key: bytes, vault_id: bytes, device: bytes, nonce: bytes) -> bytes:
    return hkdf_sha256(epoch_key, salt=nonce, info=b"FaceVault snapshot v2" + vault_id + device)


def write_snapshot(path: Path, vault_id: bytes, snap: Snapshot, epoch_key: bytes) -> None:
    doc = {"frontier": snap.frontier, "lamport": snap.lamport, "dead": sorted(snap.dead),
           "records": to_packed(snap.records)}
    plain = json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=True,
                       allow_nan=False).encode("ascii")
    nonce = random_bytes(16)
    frontier = json.dumps(snap.frontier, separators=(",", ":"), sort_keys=True).encode("ascii")
    head = _S_HEAD.pack(_S_MAGIC, _VERSION, vault_id, snap.device, snap.epoch.number,
                        snap.epoch.writer, nonce) + struct.pack(">I", len(frontier)) + frontier
    body = seal_blob(_snap_key(epoch_key, vault_id, snap.device, nonce), head + plain)
    with fsutil.atomic_write(path, what="writing the vault snapshot") as out:
        out.write(head)
        out.write(body)


def _snapshot_head(data: bytes, name: str, vault_id: bytes) -> tuple[bytes, bytes, EpochId, bytes, dict[str, int]]:
    """(head bytes, device, epoch, nonce, frontier) of a snapshot, unauthenticated."""
    if len(data) < _S_HEAD.size + 4:
        raise IntegrityError(f"the snapshot {name} is truncated")
    magic, version, vid, device, e_num, e_writer, nonce = _S_HEAD.unpack_from(data)
    if magic != _S_MAGIC or version != _VERSION or vid != vault_id:
        raise IntegrityError(f"{name} is not a snapshot of this vault")
    (n,) = struct.unpack_from(">I", data, _S_HEAD.size)
    end = _S_HEAD.size + 4 + n
    if n > MAX_FRONTIER_SIZE or len(data) < end:
        raise IntegrityError(f"the snapshot {name} is truncated")
    try:
        raw = json.loads(data[_S_HEAD.size + 4 : end].decode("ascii"))
        frontier = {str(k): int(v) for k, v in raw.items()}
    except (UnicodeDecodeError, ValueError, AttributeError, TypeError):
        raise IntegrityError(f"the snapshot {name} is malformed") from None
    return data[:end], device, EpochId(e_num, e_writer), nonce, frontier


def snapshot_frontier(path: Path, vault_id: bytes) -> dict[str, int] | None:
    """How far into each device's journal the snapshot at `path` reaches, from its header
    alone (unauthenticated: read_snapshot checks it); None when absent."""
    try:
        f = fsutil.open_regular(path, "the vault's snapshot", name=path.name)
    except FileNotFoundError:
        return None
    with f:
        data = f.read(_S_HEAD.size + 4 + MAX_FRONTIER_SIZE)
    head_len = _S_HEAD.size + 4
    if len(data) >= head_len:
        data = data[: head_len + struct.unpack_from(">I", data, _S_HEAD.size)[0]]
    return _snapshot_head(data, path.name, vault_id)[4]


def read_snapshot(path: Path, vault_id: bytes, keys: KeyLookup) -> Snapshot | None:
    """A device's snapshot; None when absent or sealed under a key not known here yet."""
    data = fsutil.read_regular(path, MAX_SNAPSHOT_SIZE, "snapshot")
    if data is None:
        return None
    head, device, epoch, nonce, head_frontier = _snapshot_head(data, path.name, vault_id)
    key = keys(epoch)
    if key is None:
        return None
    try:
        plain = open_blob(_snap_key(key, vault_id, device, nonce), data[len(head):])
    except IntegrityError:
        raise IntegrityError(f"the snapshot {path.name} was modified",
                             hint="Restore the vault folder from a backup.") from None
    if not plain.startswith(head):
        raise IntegrityError(f"the snapshot {path.name} was modified")
    try:
        doc = json.loads(plain[len(head):].decode("ascii"))
        frontier = {str(k): int(v) for k, v in doc["frontier"].items()}
        if frontier != head_frontier:
            raise ValueError("frontier")
        records = from_packed(doc["records"])
        dead = frozenset(str(v) for v in doc["dead"])
        lamport = int(doc["lamport"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise IntegrityError(f"the snapshot {path.name} is malformed") from None
    return Snapshot(device, epoch, frontier, lamport, records, dead)

