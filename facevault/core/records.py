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
from itertools import chain
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from facevault.errors import IntegrityError

__all__ = ["PUT", "DEL", "MV", "Record", "to_row", "from_row", "to_packed", "from_packed", "from_rows",
           "encode_rows", "decode_rows",
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


_FIELDS = Record._fields
_SEP = "\x00"  # never in a name (check_name): joins names in a packed snapshot


def to_packed(records: Sequence[Record]) -> dict[str, object]:
    """The records as a few long strings and number lists (a snapshot's layout, FORMAT.md
    "Version 2: snapshots"): ids as one run of 32-hex-digit ids per field, names joined by
    NUL, epoch labels as a table and an index. Parsing it is a handful of C-speed passes."""
    labels = sorted({r.key_epoch for r in records if r.key_epoch})
    where = {label: i for i, label in enumerate(labels)}
    blank = "0" * 32
    return {
        "n": len(records),
        "version": "".join(r.version for r in records),
        "op": "".join("pdm"[_OPS.index(r.op)] for r in records),
        "name": _SEP.join(r.name for r in records),
        "replaces_count": [len(r.replaces) for r in records],
        "replaces": "".join(chain.from_iterable(r.replaces for r in records)),
        "lamport": [r.lamport for r in records],
        "device": "".join(r.device for r in records),
        "seq": [r.seq for r in records],
        "time": [r.time for r in records],
        "device_name": _SEP.join(r.device_name for r in records),
        "object_id": "".join(r.object_id or blank for r in records),
        "nonce": "".join(r.nonce or blank for r in records),
        "size": [r.size for r in records],
        "mtime": [r.mtime for r in records],
        "labels": labels,
        "key_epoch": [where.get(r.key_epoch, 0) for r in records],
        "target": "".join(r.target or blank for r in records),
    }


def _ids(run: object, n: int, what: str) -> list[str]:
    if type(run) is not str or len(run) != 32 * n or not _hex_run(run):
        raise _bad(what)
    return [run[i : i + 32] for i in range(0, 32 * n, 32)]


def _hex_run(run: str) -> bool:
    if not run:
        return True
    if not run.isascii() or any(c in run for c in "ABCDEF"):
        return False
    try:
        return 2 * len(bytes.fromhex(run)) == len(run)  # fromhex skips whitespace: counted here
    except ValueError:
        return False


def _numbers(col: object, n: int, *types: type) -> list[Any]:
    if type(col) is not list or len(col) != n or not set(map(type, col)) <= set(types):
        raise _bad("numbers")
    return col


def from_packed(doc: object) -> tuple[Record, ...]:
    """Records from to_packed output, checked a column at a time by the rules of from_row;
    IntegrityError on anything malformed."""
    if type(doc) is not dict:
        raise _bad("snapshot records")
    doc = cast(dict[str, Any], doc)
    try:
        n = doc["n"]
        if type(n) is not int or n < 0:
            raise _bad("count")
        if n == 0:
            return ()
        version = _ids(doc["version"], n, "ids")
        device = _ids(doc["device"], n, "device")
        object_id = _ids(doc["object_id"], n, "object")
        nonce = _ids(doc["nonce"], n, "object")
        target = _ids(doc["target"], n, "relocation")
        ops = doc["op"]
        if type(ops) is not str or len(ops) != n or ops.strip("pdm"):
            raise _bad("operation")
        names, device_names = doc["name"], doc["device_name"]
        if type(names) is not str or type(device_names) is not str:
            raise _bad("name")
        name = names.split(_SEP)
        device_name = [d[:64] for d in device_names.split(_SEP)]
        if len(name) != n or len(device_name) != n or not all(name):
            raise _bad("name")
        if max(map(len, name)) > MAX_NAME_BYTES // 4 and any(
                len(x.encode("utf-8", "replace")) > MAX_NAME_BYTES for x in name):
            raise _bad("name")
        counts = _numbers(doc["replaces_count"], n, int)
        flat = _ids(doc["replaces"], sum(counts), "replaced versions")
        if min(counts) < 0:
            raise _bad("replaced versions")
        lamport = _numbers(doc["lamport"], n, int)
        seq = _numbers(doc["seq"], n, int)
        size = _numbers(doc["size"], n, int)
        if min(lamport) < 0 or min(seq) < 0 or min(size) < 0:
            raise _bad("counters")
        time = [float(t) for t in _numbers(doc["time"], n, int, float)]
        mtime = [float(t) for t in _numbers(doc["mtime"], n, int, float)]
        if not (all(map(math.isfinite, time)) and all(map(math.isfinite, mtime))):
            raise _bad("time")
        labels: list[Any] = doc["labels"]
        if type(labels) is not list or not all(_epoch_label(x) for x in labels):
            raise _bad("object")
        index = _numbers(doc["key_epoch"], n, int)
        if labels and (min(index) < 0 or max(index) >= len(labels)):
            raise _bad("object")
    except KeyError:
        raise _bad("snapshot records") from None
    op = [_OPS["pdm".index(c)] for c in ops]
    blank = "0" * 32
    key_epoch = [labels[i] for i in index] if labels else [""] * n
    for i, o in enumerate(op):
        if o == DEL:  # a removal carries no object
            object_id[i] = nonce[i] = key_epoch[i] = target[i] = ""
        elif o == PUT:
            target[i] = ""
            if not labels:
                raise _bad("object")
        elif target[i] == blank or not labels:
            raise _bad("relocation")
    replaces, pos = [], 0
    for c in counts:
        replaces.append(tuple(flat[pos : pos + c]))
        pos += c
    new = tuple.__new__
    return tuple([new(Record, row) for row in zip(version, op, name, replaces, lamport, device, seq,
                                                   time, device_name, object_id, nonce, size, mtime,
                                                   key_epoch, target)])


def _id_list(col: Sequence[object], what: str, allow_empty: Sequence[bool] | None = None) -> None:
    if not set(map(type, col)) <= {str}:
        raise _bad(what)
    present = col if allow_empty is None else [v for v, empty in zip(col, allow_empty) if not empty]
    if allow_empty is not None and any(v for v, empty in zip(col, allow_empty) if empty):
        raise _bad(what)
    if present and (set(map(len, present)) != {32} or not _hex_run("".join(present))):  # type: ignore[arg-type]
        raise _bad(what)


def from_rows(rows: Sequence[object]) -> list[Record]:
    """Many rows at once (a journal's frames): the checks of from_row, a column at a time."""
    if not rows:
        return []
    if not all(type(r) is list and len(r) == 15 for r in rows):
        raise _bad("shape")
    (version, op, name, replaces, lamport, device, seq, time, device_name, object_id, nonce,
     size, mtime, key_epoch, target) = (list(c) for c in zip(*cast(list[list[Any]], rows)))
    _id_list(version, "id or operation")
    _id_list(device, "device")
    if not set(op) <= set(_OPS):
        raise _bad("id or operation")
    is_del = [o == DEL for o in op]
    _id_list(object_id, "object", is_del)
    _id_list(nonce, "object", is_del)
    _id_list(target, "relocation", [o != MV for o in op])
    if not all(type(r) is list for r in replaces):
        raise _bad("replaced versions")
    _id_list(list(chain.from_iterable(replaces)), "replaced versions")
    if not (set(map(type, name)) <= {str} and set(map(type, device_name)) <= {str} and all(name)
            and _SEP not in "".join(name)):
        raise _bad("name")
    if max(map(len, name)) > MAX_NAME_BYTES // 4 and any(
            len(x.encode("utf-8", "replace")) > MAX_NAME_BYTES for x in name):
        raise _bad("name")
    for col in (lamport, seq, size):
        if not set(map(type, col)) <= {int} or min(col) < 0:
            raise _bad("counters")
    for col in (time, mtime):
        if not set(map(type, col)) <= {int, float} or not all(map(math.isfinite, col)):
            raise _bad("time")
    if not all(_epoch_label(k) if not d else k == "" for k, d in zip(key_epoch, is_del)):
        raise _bad("object")
    new = tuple.__new__
    return [new(Record, (v, o, nm, tuple(rp), la, dv, sq, float(t), dn[:64], ob, nc, sz, float(mt), ke, tg))
            for v, o, nm, rp, la, dv, sq, t, dn, ob, nc, sz, mt, ke, tg in zip(
                version, op, name, replaces, lamport, device, seq, time, device_name, object_id,
                nonce, size, mtime, key_epoch, target)]


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
