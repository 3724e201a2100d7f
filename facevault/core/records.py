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
from collections.abc import Sequence
from typing import NamedTuple

from facevault.errors import IntegrityError

__all__ = ["PUT", "DEL", "MV", "Record", "to_row", "from_row", "encode_rows", "decode_rows",
           "MAX_NAME_BYTES", "check_name"]

PUT = "put"
DEL = "del"
MV = "mv"
MAX_NAME_BYTES = 1024
_HEX_DIGITS = "0123456789abcdef"
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
    return type(v) is int


def _hex32(v: object) -> bool:
    return type(v) is str and len(v) == 32 and not v.strip(_HEX_DIGITS)


def _epoch_label(v: object) -> bool:
    return (type(v) is str and len(v) == 41 and v[8] == "-" and v[:8].isdigit() and v[:8].isascii()
            and not v[9:].strip(_HEX_DIGITS))


def _finite(v: object) -> bool:
    return (type(v) is float or type(v) is int) and math.isfinite(v)


def from_row(row: object) -> Record:
    """Parse and check one row; IntegrityError on anything malformed. (Called once per
    record at every open: plain type checks, no regular expressions.)"""
    if type(row) is not list or len(row) != 15:
        raise _bad("shape")
    (version, op, name, replaces, lamport, device, seq, time, device_name, object_id, nonce,
     size, mtime, key_epoch, target) = row
    if not _hex32(version) or op not in _OPS:
        raise _bad("id or operation")
    if type(name) is not str or not name or "\x00" in name or (
            len(name) > MAX_NAME_BYTES // 4 and len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES):
        raise _bad("name")
    if type(replaces) is not list or not all(_hex32(v) for v in replaces):
        raise _bad("replaced versions")
    if not (_is_int(lamport) and lamport >= 0 and _is_int(seq) and seq >= 0 and _is_int(size) and size >= 0):
        raise _bad("counters")
    if not _hex32(device) or type(device_name) is not str:
        raise _bad("device")
    if not (_finite(time) and _finite(mtime)):
        raise _bad("time")
    if op != DEL:
        if not (_hex32(object_id) and _hex32(nonce) and _epoch_label(key_epoch)):
            raise _bad("object")
        if op == MV and not _hex32(target):
            raise _bad("relocation")
    elif object_id or nonce or key_epoch or target:
        raise _bad("a removal with an object")
    return Record(version, op, name, tuple(replaces), lamport, device, seq, float(time),
                  device_name[:64], object_id, nonce, size, float(mtime), key_epoch, target)


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
