"""The records a vault's state is made of: every change to its files is one immutable record,
written by one device and never edited.

    put  a new version of `name`: its object (id, nonce, size, the epoch key it is sealed
         under), its mtime, and the versions it replaces (what the writer saw as current)
    del  a tombstone: `name` is gone, replacing the versions the writer saw
    mv   the version `target` now lives in another object (re-encryption under a new key)

Every record has a random 16-byte id (`version`), a Lamport clock (one more than anything
its writer had seen), its writer device (id and name, for conflict names), the writer's
sequence number and the wall-clock time of the write. A record is a row (a JSON list of
plain values): fast to parse, canonical to write. Ids are lowercase hex.

May import: stdlib, facevault.errors.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from facevault.errors import IntegrityError

__all__ = ["PUT", "DEL", "MV", "Record", "to_row", "from_row", "encode_rows", "decode_rows",
           "MAX_NAME_BYTES", "check_name"]

PUT = "put"
DEL = "del"
MV = "mv"
MAX_NAME_BYTES = 1024
_HEX32 = re.compile(r"\A[0-9a-f]{32}\Z")
_EPOCH = re.compile(r"\A[0-9]{8}-[0-9a-f]{32}\Z")
_OPS = (PUT, DEL, MV)


class Record(NamedTuple):
    version: str  # 32 hex: this record's id
    op: str
    name: str
    replaces: tuple[str, ...]
    lamport: int
    device: str  # 32 hex: the writer
    seq: int  # the writer's sequence number (0: made by an upgrade)
    time: float  # unix seconds of the write
    device_name: str
    object_id: str = ""  # put, mv
    nonce: str = ""  # put, mv (32 hex)
    size: int = 0  # put
    mtime: float = 0.0  # put
    key_epoch: str = ""  # put, mv: EpochId.label of the key the object is sealed under
    target: str = ""  # mv: the version relocated


def check_name(name: object) -> str:
    """An entry name: any Unicode text without NUL, 1..1024 UTF-8 bytes (data, never a path)."""
    from facevault.errors import UsageError

    if not isinstance(name, str) or not name:
        raise UsageError("a file name in the vault must be non-empty text")
    if "\x00" in name:
        raise UsageError("a file name in the vault must not contain NUL characters")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise UsageError("a file name in the vault must be valid Unicode text") from None
    if size > MAX_NAME_BYTES:
        raise UsageError(f"a file name in the vault is limited to {MAX_NAME_BYTES} UTF-8 bytes")
    return name


def to_row(r: Record) -> list[object]:
    return [r.version, r.op, r.name, list(r.replaces), r.lamport, r.device, r.seq, r.time,
            r.device_name, r.object_id, r.nonce, r.size, r.mtime, r.key_epoch, r.target]


def _bad(what: str) -> IntegrityError:
    return IntegrityError(f"a vault record is malformed ({what})")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def from_row(row: object) -> Record:
    """Parse and check one row; IntegrityError on anything malformed."""
    if not isinstance(row, list) or len(row) != 15:
        raise _bad("shape")
    (version, op, name, replaces, lamport, device, seq, time, device_name, object_id, nonce,
     size, mtime, key_epoch, target) = row
    if not isinstance(version, str) or not _HEX32.match(version) or op not in _OPS:
        raise _bad("id or operation")
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise _bad("name")
    if not isinstance(replaces, list) or not all(isinstance(v, str) and _HEX32.match(v) for v in replaces):
        raise _bad("replaced versions")
    if not (_is_int(lamport) and lamport >= 0 and _is_int(seq) and seq >= 0 and _is_int(size) and size >= 0):
        raise _bad("counters")
    if not isinstance(device, str) or not _HEX32.match(device) or not isinstance(device_name, str):
        raise _bad("device")
    for t in (time, mtime):
        if not (_is_int(t) or isinstance(t, float)) or not math.isfinite(t):
            raise _bad("time")
    if op in (PUT, MV):
        if not (isinstance(object_id, str) and _HEX32.match(object_id) and isinstance(nonce, str)
                and _HEX32.match(nonce) and isinstance(key_epoch, str) and _EPOCH.match(key_epoch)):
            raise _bad("object")
    if op == MV and not (isinstance(target, str) and _HEX32.match(target)):
        raise _bad("relocation")
    return Record(version, op, name, tuple(replaces), lamport, device, seq, float(time),
                  device_name[:64], str(object_id), str(nonce), size, float(mtime), str(key_epoch),
                  str(target))


def encode_rows(records: Sequence[Record]) -> bytes:
    return json.dumps([to_row(r) for r in records], separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False).encode("ascii")


def decode_rows(data: bytes) -> list[Record]:
    try:
        rows = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("not JSON") from None
    if not isinstance(rows, list):
        raise _bad("not a list")
    return [from_row(r) for r in rows]
