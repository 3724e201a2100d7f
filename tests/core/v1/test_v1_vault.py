"""Tests for facevault.core.v1.vault: round trips, names, tampering, truncation, foreign and
swapped files, slots, re-keying, gc, memory. Crash, lock and full-disk tests live in
test_vault_crash.py."""

from __future__ import annotations

import os
import shutil
import tracemalloc
from pathlib import Path

import pytest

from facevault.core.v1 import slots
from facevault.core.kinds import Kind
from facevault.core.kdf import TEST_PARAMS
from facevault.core.v1.slots import Slot
from facevault.core.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE
from facevault.core.v1.vault import (
    OBJECTS_DIR,
    OpenVault,
    ByteProgress,
    _create_vault_from_parts as create_vault,
    _open_vault_with_key as open_vault,
    read_header,
)
from facevault.core.v1.header import HEADER_NAME, encode_header, parse_header
from facevault.core.v1.index import INDEX_NAME
from facevault.errors import IntegrityError, StorageError, UsageError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture(scope="module")
def slot() -> Slot:
    return slots.seal_slot(Kind.RECOVERY, KEY, b"recovery secret", kdf=TEST_PARAMS)


@pytest.fixture
def vault(tmp_path: Path, slot: Slot) -> OpenVault:
    return create_vault(tmp_path / "v", KEY, [slot])


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file of a vault (but the lock) by relative path."""
    return {str(p.relative_to(path)): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != ".lock"}


def objects(path: Path) -> list[Path]:
    return sorted((path / OBJECTS_DIR).iterdir())


def drain(gen) -> list[ByteProgress]:
    return list(gen)


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_add_list_extract_remove(vault: OpenVault, tmp_path: Path) -> None:
    src = tmp_path / "photo.jpg"
    content = os.urandom(3 * CHUNK_SIZE + 17)
    src.write_bytes(content)
    os.utime(src, (1_600_000_000.5, 1_600_000_000.5))
    progress = drain(vault.add_file(src))
    assert progress[-1] == ByteProgress(len(content), len(content))
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    vault.add_bytes("notes/ä ü.txt", b"hello")
    vault.add_bytes("empty", b"")

    names = [e.name for e in vault.entries()]
    assert names == ["empty", "notes/ä ü.txt", "photo.jpg"]
    photo = next(e for e in vault.entries() if e.name == "photo.jpg")
    assert photo.size == len(content) and photo.mtime == 1_600_000_000.5

    out = tmp_path / "out.jpg"
    drain(vault.extract("photo.jpg", out))
    assert out.read_bytes() == content
    assert out.stat().st_mtime == 1_600_000_000.5
    assert vault.read_bytes("notes/ä ü.txt") == b"hello"
    assert vault.read_bytes("empty") == b""

    vault.remove("photo.jpg")
    assert [e.name for e in vault.entries()] == ["empty", "notes/ä ü.txt"]
    assert len(objects(vault.path)) == 2  # the removed file's object is gone
    with pytest.raises(UsageError):
        vault.read_bytes("photo.jpg")
    with pytest.raises(UsageError):
        vault.remove("photo.jpg")


def test_reopen_from_a_copy_at_another_path(vault: OpenVault, tmp_path: Path) -> None:
    vault.add_bytes("a", b"alpha")
    vault.add_bytes("b", os.urandom(CHUNK_SIZE * 2))
    copy = tmp_path / "elsewhere" / "copied vault"
    shutil.copytree(vault.path, copy)
    reopened = open_vault(copy, KEY)
    assert reopened.entries() == vault.entries()
    assert reopened.read_bytes("b") == vault.read_bytes("b")
    assert reopened.header.vault_id == vault.header.vault_id
    reopened.add_bytes("c", b"only in the copy")
    assert [e.name for e in open_vault(vault.path, KEY).entries()] == ["a", "b"]


def test_names_and_sizes_are_not_visible_outside(vault: OpenVault) -> None:
    vault.add_bytes("very-secret-name.txt", b"plain words in here")
    for rel, data in snapshot(vault.path).items():
        assert "very-secret" not in rel
        assert b"very-secret" not in data and b"plain words" not in data


def test_create_refuses_a_non_empty_folder(tmp_path: Path, slot: Slot) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(StorageError):
        create_vault(tmp_path / "full", KEY, [slot])
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError):
        create_vault(tmp_path / "file", KEY, [slot])
    (tmp_path / "empty").mkdir()
    assert create_vault(tmp_path / "empty", KEY, [slot]).entries() == []
    with pytest.raises(ValueError):
        create_vault(tmp_path / "noslots", KEY, [])
    assert not (tmp_path / "noslots").exists()


def test_read_header_public_view_and_errors(vault: OpenVault, tmp_path: Path, slot: Slot) -> None:
    header = read_header(vault.path)
    assert header.format_version == 1 and len(header.vault_id) == 16
    assert header.slots == (slot,)
    data = (vault.path / HEADER_NAME).read_bytes()
    assert encode_header(header.vault_id, header.slots, KEY) == data  # exact round trip
    assert parse_header(data) == header

    with pytest.raises(StorageError, match="does not exist"):
        read_header(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IntegrityError, match="not a FaceVault vault"):
        read_header(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / HEADER_NAME).write_bytes(b"PK\x03\x04" + os.urandom(200))
    with pytest.raises(IntegrityError, match="not a FaceVault vault"):
        read_header(tmp_path / "junk")
    with pytest.raises(IntegrityError, match="not a FaceVault vault"):
        read_header(vault.path / HEADER_NAME)


@pytest.mark.parametrize("name", ["", "a\x00b", "x" * 1025, "\ud800", "é" * 513])
def test_bad_names_are_refused(vault: OpenVault, name: str) -> None:
    with pytest.raises(UsageError):
        vault.add_bytes(name, b"x")
    assert vault.entries() == []


def test_names_are_data_never_paths(vault: OpenVault, tmp_path: Path) -> None:
    longest = "é" * 512  # 1024 UTF-8 bytes
    for name in ["../../etc/passwd", "/abs", "a/b/c", "..", longest, "\u202etxt.exe", "CON"]:
        vault.add_bytes(name, name.encode("utf-8", "surrogatepass"))
    dest = tmp_path / "out"
    dest.mkdir()
    for i, entry in enumerate(vault.entries()):
        target = dest / f"{i}.bin"
        drain(vault.extract(entry.name, target))
        assert target.read_bytes() == entry.name.encode()
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{i}.bin" for i in range(7))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "v"]


def test_name_conflicts_and_overwrite(vault: OpenVault, tmp_path: Path) -> None:
    vault.add_bytes("a", b"one")
    with pytest.raises(StorageError, match="already has"):
        vault.add_bytes("a", b"two")
    src = tmp_path / "a"
    src.write_bytes(b"three")
    with pytest.raises(StorageError):
        vault.add_file(src)
    assert vault.read_bytes("a") == b"one"
    drain(vault.add_file(src, overwrite=True))
    assert vault.read_bytes("a") == b"three"
    assert len(objects(vault.path)) == 1  # the replaced object was deleted

    dest = tmp_path / "existing"
    dest.write_bytes(b"keep me")
    with pytest.raises(StorageError, match="exists"):
        vault.extract("a", dest)
    assert dest.read_bytes() == b"keep me"
    drain(vault.extract("a", dest, overwrite=True))
    assert dest.read_bytes() == b"three"


# -- keys, tampering, truncation -----------------------------------------------------------


def test_wrong_master_key_fails(vault: OpenVault) -> None:
    vault.add_bytes("a", b"x")
    with pytest.raises(IntegrityError):
        open_vault(vault.path, OTHER_KEY)
    with pytest.raises(ValueError):
        open_vault(vault.path, KEY[:16])


@pytest.fixture
def small(vault: OpenVault) -> OpenVault:
    vault.add_bytes("one", b"first file")
    vault.add_bytes("two", b"second")
    return vault


@pytest.mark.parametrize("filename", [HEADER_NAME, INDEX_NAME])
def test_every_flipped_byte_of_header_and_index_is_detected(small: OpenVault, filename: str) -> None:
    path = small.path / filename
    good = path.read_bytes()
    before = snapshot(small.path)
    for i in range(len(good)):
        for mask in (0x01, 0x80):
            bad = bytearray(good)
            bad[i] ^= mask
            path.write_bytes(bytes(bad))
            with pytest.raises(IntegrityError):
                open_vault(small.path, KEY)
    path.write_bytes(good)
    assert snapshot(small.path) == before
    assert open_vault(small.path, KEY).read_bytes("one") == b"first file"


@pytest.mark.parametrize("filename", [HEADER_NAME, INDEX_NAME])
def test_every_truncation_of_header_and_index_is_detected(small: OpenVault, filename: str) -> None:
    path = small.path / filename
    good = path.read_bytes()
    for n in range(len(good)):
        path.write_bytes(good[:n])
        with pytest.raises(IntegrityError):
            open_vault(small.path, KEY)
    path.write_bytes(good + b"\x00")
    with pytest.raises(IntegrityError):
        open_vault(small.path, KEY)
    path.unlink()
    with pytest.raises(IntegrityError):
        open_vault(small.path, KEY)


def test_a_modified_writer_refresh_fails_closed(small: OpenVault) -> None:
    path = small.path / HEADER_NAME
    data = bytearray(path.read_bytes())
    data[20] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="header was modified"):
        small.add_bytes("three", b"x")
    assert bytes(data) == path.read_bytes()  # nothing was written


def _object_vault(vault: OpenVault) -> tuple[Path, bytes]:
    content = os.urandom(2 * CHUNK_SIZE + 1000)
    vault.add_bytes("big", content)
    (obj,) = objects(vault.path)
    return obj, content


def test_flipped_bytes_of_an_object_are_detected(vault: OpenVault, tmp_path: Path) -> None:
    obj, content = _object_vault(vault)
    good = obj.read_bytes()
    positions = set(range(0, 40)) | set(range(len(good) - 40, len(good)))
    for edge in (16 + ENCRYPTED_CHUNK_SIZE, 16 + 2 * ENCRYPTED_CHUNK_SIZE):
        positions |= set(range(edge - 20, edge + 20))
    positions |= {int.from_bytes(os.urandom(4), "big") % len(good) for _ in range(60)}
    dest = tmp_path / "dest"
    dest.write_bytes(b"previous")
    for i in sorted(positions):
        bad = bytearray(good)
        bad[i] ^= 0x04
        obj.write_bytes(bytes(bad))
        with pytest.raises(IntegrityError):
            drain(vault.extract("big", dest, overwrite=True))
        with pytest.raises(IntegrityError):
            vault.read_bytes("big")
        with pytest.raises(IntegrityError):
            drain(vault.verify())
        assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "v"]  # no temp files left
    obj.write_bytes(good)
    assert vault.read_bytes("big") == content
    assert drain(vault.verify())[-1].done == len(content)


def test_truncated_or_extended_object_is_detected(vault: OpenVault, tmp_path: Path) -> None:
    obj, _ = _object_vault(vault)
    good = obj.read_bytes()
    for n in [0, 10, 16, 17, 16 + ENCRYPTED_CHUNK_SIZE, 16 + 2 * ENCRYPTED_CHUNK_SIZE,
              len(good) - 1]:
        obj.write_bytes(good[:n])
        with pytest.raises(IntegrityError):
            drain(vault.extract("big", tmp_path / "out"))
        assert not (tmp_path / "out").exists()
    obj.write_bytes(good + b"\x00")
    with pytest.raises(IntegrityError):
        vault.read_bytes("big")
    obj.unlink()
    with pytest.raises(IntegrityError, match="missing"):
        vault.read_bytes("big")


def test_index_from_another_vault_is_rejected(tmp_path: Path, slot: Slot) -> None:
    a = create_vault(tmp_path / "a", KEY, [slot])
    b = create_vault(tmp_path / "b", KEY, [slot])  # same master key, different vault id
    b.add_bytes("from b", b"x")
    shutil.copy(b.path / INDEX_NAME, a.path / INDEX_NAME)
    with pytest.raises(IntegrityError, match="another vault"):
        open_vault(a.path, KEY)
    other_slot = slots.seal_slot(Kind.RECOVERY, OTHER_KEY, b"s", kdf=TEST_PARAMS)
    c = create_vault(tmp_path / "c", OTHER_KEY, [other_slot])
    shutil.copy(c.path / INDEX_NAME, a.path / INDEX_NAME)
    with pytest.raises(IntegrityError):
        open_vault(a.path, KEY)


def test_swapped_object_files_are_rejected(vault: OpenVault) -> None:
    vault.add_bytes("A", b"a" * 5000)
    vault.add_bytes("B", b"b" * 5000)
    entry = {e.name: e for e in vault.entries()}
    path_a = vault.path / OBJECTS_DIR / f"{entry['A'].object_id}.fvo"
    path_b = vault.path / OBJECTS_DIR / f"{entry['B'].object_id}.fvo"
    data_a, data_b = path_a.read_bytes(), path_b.read_bytes()
    path_b.write_bytes(data_a)  # A's ciphertext under B's name
    with pytest.raises(IntegrityError):
        vault.read_bytes("B")
    path_b.write_bytes(data_b[:16] + data_a[16:])  # even with B's nonce in front
    with pytest.raises(IntegrityError):
        vault.read_bytes("B")
    path_b.write_bytes(data_b)
    assert vault.read_bytes("B") == b"b" * 5000


def test_rolled_back_index_is_refused_when_the_generation_is_known(vault: OpenVault) -> None:
    vault.add_bytes("a", b"1")
    old_index = (vault.path / INDEX_NAME).read_bytes()
    vault.add_bytes("b", b"2")
    seen = vault.generation
    assert seen == 2
    (vault.path / INDEX_NAME).write_bytes(old_index)
    with pytest.raises(IntegrityError, match="rolled back"):
        open_vault(vault.path, KEY, min_generation=seen)
    with pytest.raises(IntegrityError, match="older"):
        vault.add_bytes("c", b"3")  # a writer never goes back either
    assert [e.name for e in open_vault(vault.path, KEY).entries()] == ["a"]


def test_two_open_vaults_do_not_lose_each_others_writes(vault: OpenVault) -> None:
    other = open_vault(vault.path, KEY)
    vault.add_bytes("from first", b"1")
    other.add_bytes("from second", b"2")  # re-reads the index under the lock first
    assert [e.name for e in open_vault(vault.path, KEY).entries()] == ["from first", "from second"]
    vault.refresh()
    assert len(vault.entries()) == 2


# -- slots, re-keying, gc ------------------------------------------------------------------


def test_replace_slots_keeps_the_master_key(vault: OpenVault, slot: Slot) -> None:
    vault.add_bytes("a", b"x")
    extra = slots.seal_slot(Kind.DEVICE, KEY, b"device secret", kdf=TEST_PARAMS)
    vault.replace_slots([slot, extra])
    header = read_header(vault.path)
    assert header.slots == (slot, extra) and vault.header.slots == (slot, extra)
    assert slots.open_slot(header.slots[1], b"device secret") == KEY
    assert open_vault(vault.path, KEY).read_bytes("a") == b"x"
    with pytest.raises(ValueError):
        vault.replace_slots([])
    assert read_header(vault.path).slots == (slot, extra)


def test_rotate_master_key(vault: OpenVault, tmp_path: Path) -> None:
    contents = {"a": b"alpha", "b": os.urandom(CHUNK_SIZE + 5), "c": b""}
    for name, data in contents.items():
        vault.add_bytes(name, data)
    old_objects = {p.name for p in objects(vault.path)}
    old_copy = tmp_path / "old copy"
    shutil.copytree(vault.path, old_copy)
    new_slot = slots.seal_slot(Kind.RECOVERY, OTHER_KEY, b"new secret", kdf=TEST_PARAMS)

    progress = drain(vault._rotate_from_parts(OTHER_KEY, [new_slot]))
    total = sum(map(len, contents.values()))
    assert progress[-1] == ByteProgress(total, total)

    with pytest.raises(IntegrityError):
        open_vault(vault.path, KEY)
    reopened = open_vault(vault.path, OTHER_KEY)
    assert {e.name: reopened.read_bytes(e.name) for e in reopened.entries()} == contents
    assert old_objects.isdisjoint(p.name for p in objects(vault.path))
    assert len(objects(vault.path)) == 3
    assert not (vault.path / "index.next.fve").exists()
    assert vault.read_bytes("b") == contents["b"]  # the same OpenVault follows the new key
    assert read_header(vault.path).slots == (new_slot,)
    # The old key opens the old copy only, and none of its objects are in the new vault.
    assert open_vault(old_copy, KEY).read_bytes("a") == b"alpha"


def test_rotate_refuses_a_tampered_object_and_keeps_the_old_key(vault: OpenVault) -> None:
    vault.add_bytes("a", b"alpha" * 100)
    vault.add_bytes("b", b"beta" * 100)
    victim = vault.path / OBJECTS_DIR / f"{vault.entries()[1].object_id}.fvo"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    before = snapshot(vault.path)
    new_slot = slots.seal_slot(Kind.RECOVERY, OTHER_KEY, b"new secret", kdf=TEST_PARAMS)
    with pytest.raises(IntegrityError, match="'b'"):
        drain(vault._rotate_from_parts(OTHER_KEY, [new_slot]))
    assert snapshot(vault.path) == before
    assert open_vault(vault.path, KEY).read_bytes("a") == b"alpha" * 100


def test_gc_removes_orphans_and_debris_after_the_grace_period(vault: OpenVault) -> None:
    vault.add_bytes("keep", b"k")
    orphan = vault.path / OBJECTS_DIR / ("ab" * 16 + ".fvo")
    orphan.write_bytes(b"junk")
    debris = vault.path / OBJECTS_DIR / ".fvtmp-0123.part"
    debris.write_bytes(b"half")
    foreign = vault.path / OBJECTS_DIR / "README.txt"
    foreign.write_text("not ours")
    assert vault.gc() == 0  # too fresh: a sync tool may still deliver the index naming them
    assert orphan.exists()
    assert vault.gc(grace_seconds=0) == 2
    assert not orphan.exists() and not debris.exists() and foreign.exists()
    assert vault.read_bytes("keep") == b"k"


def test_closed_vault_refuses_work(vault: OpenVault) -> None:
    with vault as v:
        v.add_bytes("a", b"x")
    with pytest.raises(UsageError, match="closed"):
        vault.read_bytes("a")
    with pytest.raises(UsageError, match="closed"):
        vault.add_bytes("b", b"x")


# -- memory --------------------------------------------------------------------------------


def test_large_file_keeps_memory_flat(vault: OpenVault, tmp_path: Path) -> None:
    size = 20 * 1024 * 1024
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(size // (1024 * 1024)):
            f.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        drain(vault.add_file(src))
        _, peak_add = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        drain(vault.extract("big.bin", tmp_path / "back.bin"))
        _, peak_extract = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_add < 2 * 1024 * 1024, peak_add
    assert peak_extract < 2 * 1024 * 1024, peak_extract
    with open(src, "rb") as a, open(tmp_path / "back.bin", "rb") as b:
        while chunk := a.read(1 << 20):
            assert chunk == b.read(1 << 20)


# -- the byte layout of FORMAT.md ----------------------------------------------------------


def test_header_bytes_match_format_md(vault: OpenVault) -> None:
    import hashlib
    import hmac

    from facevault.core.crypto import hkdf_sha256
    from facevault.core.v1.slots import encode_slots

    data = (vault.path / HEADER_NAME).read_bytes()
    slot_bytes = encode_slots(list(vault.header.slots))
    assert data[:8] == b"FVVAULT\x00" and data[8:10] == b"\x00\x01"
    assert data[10:26] == vault.header.vault_id
    assert int.from_bytes(data[26:30], "big") == len(slot_bytes)
    assert data[30:30 + len(slot_bytes)] == slot_bytes
    mac_key = hkdf_sha256(KEY, info=b"facevault header")
    assert data[30 + len(slot_bytes):] == hmac.new(mac_key, data[:-32], hashlib.sha256).digest()


def test_index_and_object_bytes_match_format_md(vault: OpenVault) -> None:
    import json

    from facevault.core.crypto import hkdf_sha256
    from facevault.core.stream import open_blob

    vault.add_bytes("n", b"content", mtime=5.0)
    raw = (vault.path / INDEX_NAME).read_bytes()
    doc = json.loads(open_blob(hkdf_sha256(KEY, salt=raw[:16], info=b"facevault index"), raw[16:]))
    (entry,) = doc["entries"]
    assert doc["vault_id"] == vault.header.vault_id.hex() and doc["generation"] == 1
    assert entry["name"] == "n" and entry["size"] == 7 and entry["mtime"] == 5.0
    obj = (vault.path / OBJECTS_DIR / f"{entry['object']}.fvo").read_bytes()
    assert obj[:16].hex() == entry["nonce"]
    key = hkdf_sha256(KEY, salt=obj[:16], info=b"facevault object" + bytes.fromhex(entry["object"]))
    assert open_blob(key, obj[16:]) == b"content"
