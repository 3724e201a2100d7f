"""The vault folder's encrypted index `index.fve`: which names map to which object files.

    index.fve = nonce (16) || STREAM(HKDF(master key, salt=nonce, info="facevault index"),
                                     canonical JSON of the index)

The JSON (plain types only, never pickle) holds the format version, the vault id it belongs
to, a generation counter that grows by one with every commit, and the entries. Decoding is
strict: exact key sets, exact types, unique names and object ids. An index sealed for
another vault (even one with the same master key) fails the vault-id check; an older index
of the same vault is detectable only by a caller that remembers the generation it saw.

Names: any Unicode string without NUL, 1..1024 UTF-8 bytes. They are data, never paths.

May import: the standard library, facevault.core (crypto, stream), facevault.errors.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facevault.core.crypto import KEY_SIZE, hkdf_sha256, random_bytes
from facevault.core.stream import open_blob, seal_blob
from facevault.errors import IntegrityError, UsageError

__all__ = [
    "INDEX_NAME",
    "PENDING_INDEX_NAME",
    "INDEX_FORMAT",
    "NONCE_SIZE",
    "MAX_NAME_BYTES",
    "Entry",
    "Index",
    "check_name",
    "new_object_id",
    "encode_index",
    "decode_index",
    "seal_index",
    "open_index",
    "load_index",
]

INDEX_NAME = "index.fve"
PENDING_INDEX_NAME = "index.next.fve"
"""Index under the new master key, written just before the header during a re-key."""
INDEX_FORMAT = 1
MAX_INDEX_SIZE = 512 * 1024 * 1024
NONCE_SIZE = 16
MAX_NAME_BYTES = 1024
_INDEX_INFO = b"facevault index"
_HEX32 = re.compile(r"[0-9a-f]{32}")
_TOP_KEYS = {"format", "vault_id", "generation", "entries"}
_ENTRY_KEYS = {"name", "size", "mtime", "object", "nonce"}


@dataclass(frozen=True)
class Entry:
    """One file in the vault. `object_id` is 32 lowercase hex (the file objects/<id>.fvo)."""

    name: str
    size: int
    mtime: float
    object_id: str
    nonce: bytes = field(repr=False)

    @property
    def original(self) -> str:
        return self.name

    @property
    def conflict(self) -> bool:
        return False  # a version-1 index keeps one version per name


@dataclass(frozen=True)
class Index:
    """The decrypted index: entries sorted by name."""

    vault_id: bytes
    generation: int
    entries: tuple[Entry, ...]

    def find(self, name: str) -> Entry | None:
        for entry in self.entries:
            if entry.name == name:
                return entry
        return None

    def with_entry(self, entry: Entry) -> "Index":
        """A new index, one generation on, where `entry` replaces any entry of its name."""
        rest = [e for e in self.entries if e.name != entry.name]
        return Index(self.vault_id, self.generation + 1, _sorted(rest + [entry]))

    def without(self, name: str) -> "Index":
        rest = [e for e in self.entries if e.name != name]
        return Index(self.vault_id, self.generation + 1, _sorted(rest))


def _sorted(entries: list[Entry]) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=lambda e: e.name))


def check_name(name: object) -> str:
    """Validate an entry name (UsageError if unusable) and return it unchanged."""
    if not isinstance(name, str):
        raise UsageError(f"a file name in the vault must be text, not {type(name).__name__}")
    if not name:
        raise UsageError("a file name in the vault must not be empty")
    if "\x00" in name:
        raise UsageError("a file name in the vault must not contain NUL characters")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise UsageError("a file name in the vault must be valid Unicode text") from None
    if size > MAX_NAME_BYTES:
        raise UsageError(f"a file name in the vault is limited to {MAX_NAME_BYTES} UTF-8 bytes")
    return name


def new_object_id() -> str:
    """A fresh random object id: 16 random bytes as 32 lowercase hex digits."""
    return random_bytes(16).hex()


def encode_index(index: Index) -> bytes:
    """Canonical JSON (sorted keys, no spaces, ASCII only)."""
    doc = {
        "format": INDEX_FORMAT,
        "vault_id": index.vault_id.hex(),
        "generation": index.generation,
        "entries": [
            {"name": e.name, "size": e.size, "mtime": e.mtime, "object": e.object_id,
             "nonce": e.nonce.hex()}
            for e in index.entries
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(what: str) -> IntegrityError:
    return IntegrityError(f"the vault index is malformed ({what})")


def _decode_entry(raw: object) -> Entry:
    if not isinstance(raw, dict) or set(raw) != _ENTRY_KEYS:
        raise _bad("entry fields")
    name, size, mtime = raw["name"], raw["size"], raw["mtime"]
    object_id, nonce = raw["object"], raw["nonce"]
    try:
        check_name(name)
    except UsageError:
        raise _bad("entry name") from None
    if not _is_int(size) or size < 0:
        raise _bad("entry size")
    if not (_is_int(mtime) or isinstance(mtime, float)) or not math.isfinite(mtime):
        raise _bad("entry mtime")
    if not isinstance(object_id, str) or not _HEX32.fullmatch(object_id):
        raise _bad("object id")
    if not isinstance(nonce, str) or not _HEX32.fullmatch(nonce):
        raise _bad("object nonce")
    return Entry(name, size, float(mtime), object_id, bytes.fromhex(nonce))


def decode_index(data: bytes) -> Index:
    """Strictly parse `encode_index` output; IntegrityError on anything else."""
    try:
        doc = json.loads(data.decode("ascii"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("not canonical JSON") from None
    if not isinstance(doc, dict) or set(doc) != _TOP_KEYS:
        raise _bad("top-level fields")
    if doc["format"] != INDEX_FORMAT or not _is_int(doc["format"]):
        raise IntegrityError(f"unsupported vault index format {doc['format']!r}")
    vault_id, generation, raw_entries = doc["vault_id"], doc["generation"], doc["entries"]
    if not isinstance(vault_id, str) or not _HEX32.fullmatch(vault_id):
        raise _bad("vault id")
    if not _is_int(generation) or generation < 0:
        raise _bad("generation")
    if not isinstance(raw_entries, list):
        raise _bad("entries")
    entries = [_decode_entry(raw) for raw in raw_entries]
    if len({e.name for e in entries}) != len(entries):
        raise _bad("duplicate names")
    if len({e.object_id for e in entries}) != len(entries):
        raise _bad("duplicate object ids")
    if [e.name for e in entries] != sorted(e.name for e in entries):
        raise _bad("entries not sorted")
    return Index(bytes.fromhex(vault_id), generation, tuple(entries))


def _index_key(master_key: bytes, nonce: bytes) -> bytes:
    if not isinstance(master_key, (bytes, bytearray)) or len(master_key) != KEY_SIZE:
        raise ValueError(f"master_key must be {KEY_SIZE} bytes")
    return hkdf_sha256(bytes(master_key), salt=nonce, info=_INDEX_INFO)


def seal_index(master_key: bytes, index: Index) -> bytes:
    """The bytes of index.fve: a fresh nonce, then the STREAM ciphertext of the JSON."""
    nonce = random_bytes(NONCE_SIZE)
    return nonce + seal_blob(_index_key(master_key, nonce), encode_index(index))


def open_index(master_key: bytes, data: bytes, vault_id: bytes) -> Index:
    """Decrypt and parse index.fve bytes; IntegrityError unless it belongs to `vault_id`."""
    if len(data) < NONCE_SIZE:
        raise IntegrityError("the vault index is truncated")
    nonce = data[:NONCE_SIZE]
    try:
        plain = open_blob(_index_key(master_key, nonce), data[NONCE_SIZE:])
    except IntegrityError:
        raise IntegrityError(
            "the vault index was modified or truncated (or the key does not fit)",
            hint="Restore index.fve from a backup; the object files alone cannot be named.",
        ) from None
    index = decode_index(plain)
    if index.vault_id != vault_id:
        raise IntegrityError("the vault index belongs to another vault")
    return index


def _read_file(path: Path) -> bytes | None:
    from facevault.core.fsutil import read_regular

    return read_regular(path, MAX_INDEX_SIZE, "index")


def load_index(path: Path, master_key: bytes, vault_id: bytes) -> tuple[Index, bool]:
    """The index of the vault folder `path`, and whether it came from PENDING_INDEX_NAME.

    index.fve is tried first; only if it fails to authenticate under `master_key` is the
    pending index of an interrupted re-key tried (see vault.OpenVault.rotate_master_key).
    """
    data = _read_file(path / INDEX_NAME)
    if data is None:
        raise IntegrityError(f"the vault index {INDEX_NAME} is missing")
    try:
        return open_index(master_key, data, vault_id), False
    except IntegrityError as first:
        pending = _read_file(path / PENDING_INDEX_NAME)
        if pending is None:
            raise
        try:
            return open_index(master_key, pending, vault_id), True
        except IntegrityError:
            raise first from None
