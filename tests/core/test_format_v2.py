"""The version-2 vault files on their own: journals (tampering, a torn tail, frames moved or
reordered), snapshots, headers (edited bytes, other vaults), only shipped face-slot shapes
decoded and at most MAX_FACE_SLOTS tried, the model a face slot names, conflict copies of
our files recognised and strays left alone, forks of epochs merged, and a revoked slot with
an old header opening nothing written after the revocation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facevault.core import facekey, ironmask
from facevault.core.conflicts import original_of
from facevault.core.epochs import read_headers_at
from facevault.core.factors import FaceFactor, Factors, RecoveryFactor
from facevault.core.folder import scan
from facevault.core.header import encode_header, parse_header
from facevault.core.kdf import TEST_PARAMS
from facevault.core.kinds import Kind
from facevault.core.modelref import ModelRef
from facevault.core.modes import Mode
from facevault.core.recovery import new_recovery_code
from facevault.core.sealing import SlotPlan
from facevault.core.unlocking import MAX_FACE_SLOTS
from facevault.core.vault import DeviceRef, create_vault, open_vault
from facevault.errors import IntegrityError, ModelError, NotRecognisedError
from tests.helpers.synctool import TOOLS, conflict_copy_name
from tests.helpers.vectors import at_angle, unit

MODEL_A = ModelRef.of("arcface-a", "a" * 64, "{}")
MODEL_B = ModelRef.of("arcface-b", "b" * 64, "{}")


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(os.urandom(4), "big"))


@pytest.fixture()
def made(tmp_path: Path, rng):
    face = unit(rng.standard_normal(512))
    code = new_recovery_code()
    device = DeviceRef(os.urandom(16), "laptop")
    plans = [SlotPlan(Kind.FACE, Factors(facekey.enroll(face, model=MODEL_A)), TEST_PARAMS),
             SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code)), TEST_PARAMS)]
    vault = create_vault(tmp_path / "v", plans, mode=Mode.FACE, device=device)
    vault.add_bytes("a.txt", b"one")
    vault.add_bytes("b.txt", b"two")
    return tmp_path / "v", face, code, device


def _open_code(path: Path, code: str, device: DeviceRef | None = None):
    return open_vault(path, Factors(RecoveryFactor(code)), device=device or DeviceRef(os.urandom(16), "x"))


def _journal(path: Path) -> Path:
    (found,) = (path / "journal").glob("*.fvj")
    return found


# ---------------------------------------------------------------- journals

def test_a_flipped_byte_in_any_frame_is_refused(made) -> None:
    path, _face, code, _dev = made
    journal = _journal(path)
    data = journal.read_bytes()
    for at in (60, len(data) // 2, len(data) - 20):
        bad = bytearray(data)
        bad[at] ^= 0x01
        journal.write_bytes(bytes(bad))
        with pytest.raises(IntegrityError):
            _open_code(path, code)
    journal.write_bytes(data)
    assert [e.name for e in _open_code(path, code).entries()] == ["a.txt", "b.txt"]


def test_a_torn_last_frame_is_ignored_and_cut_off_by_its_owner(made) -> None:
    path, _face, code, device = made
    journal = _journal(path)
    data = journal.read_bytes()
    journal.write_bytes(data[:-7])  # a crash while appending b.txt's record
    vault = _open_code(path, code, device)
    assert [e.name for e in vault.entries()] == ["a.txt"]
    vault.add_bytes("c.txt", b"three")  # the owner cuts the torn tail and appends
    assert [e.name for e in _open_code(path, code).entries()] == ["a.txt", "c.txt"]


def test_frames_cannot_move_between_journals(made) -> None:
    path, _face, code, _dev = made
    other = DeviceRef(os.urandom(16), "desktop")
    _open_code(path, code, other).add_bytes("z.txt", b"z")
    mine, theirs = sorted((path / "journal").glob("*.fvj"), key=lambda p: p.stat().st_size, reverse=True)
    # splice: their journal file's header with my frames
    head = 8 + 2 + 16 + 16 + 8
    theirs.write_bytes(theirs.read_bytes()[:head] + mine.read_bytes()[head:])
    with pytest.raises(IntegrityError):
        _open_code(path, code)


def test_a_journal_that_starts_after_missing_records_is_refused(made) -> None:
    path, _face, code, device = made
    vault = _open_code(path, code, device)
    vault.compact()  # snapshot + an empty journal after record 2
    (path / "snapshots" / f"{device.id.hex()}.fvs").unlink()
    with pytest.raises(IntegrityError, match="missing"):
        _open_code(path, code)


def test_compaction_keeps_everything_and_a_tampered_snapshot_is_refused(made) -> None:
    path, _face, code, device = made
    vault = _open_code(path, code, device)
    vault.remove("a.txt")
    vault.compact()
    assert [e.name for e in _open_code(path, code).entries()] == ["b.txt"]
    snap = path / "snapshots" / f"{device.id.hex()}.fvs"
    data = bytearray(snap.read_bytes())
    data[-30] ^= 1
    snap.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        _open_code(path, code)


# ---------------------------------------------------------------- headers and slots

def test_an_edited_header_byte_is_refused(made) -> None:
    path, _face, code, _dev = made
    (header,) = (path / "headers").glob("*.fvh")
    data = header.read_bytes()
    for at in (30, len(data) // 2, len(data) - 10):
        bad = bytearray(data)
        bad[at] ^= 0x04
        header.write_bytes(bytes(bad))
        with pytest.raises((IntegrityError, NotRecognisedError)):
            _open_code(path, code)
    header.write_bytes(data)


def test_headers_of_two_vaults_in_one_folder_are_refused(made, tmp_path: Path, rng) -> None:
    path, face, _code, _dev = made
    other = create_vault(tmp_path / "w", [SlotPlan(Kind.FACE, Factors(facekey.enroll(face)), TEST_PARAMS)],
                         mode=Mode.FACE, device=DeviceRef(os.urandom(16), "x"))
    for h in (other.path / "headers").glob("*.fvh"):
        shutil.copy2(h, path / "headers" / h.name)
    with pytest.raises(IntegrityError, match="two different vaults"):
        read_headers_at(path)


def _forged_face_header(path: Path, helpers: list[bytes]) -> None:
    """Rewrite the current header with face slots made of `helpers` (an attacker's header)."""
    h = read_headers_at(path).best
    slots = []
    for helper in helpers:
        good = Kind.FACE.spec.make(Factors(facekey.enroll(unit(np.ones(512)), model=MODEL_A)), kdf=TEST_PARAMS)
        slots.append(type(good)(Kind.FACE, os.urandom(8), good.salt, good.kdf, good.public_key,
                                MODEL_A.to_bytes() + helper))
    data = encode_header(vault_id=h.vault_id, epoch=h.epoch, time=h.time, mode=Mode.FACE, parents=[],
                         removed=[], slots=slots, key=os.urandom(32), history={})
    (path / "headers" / parse_header(data).file_name).write_bytes(data)


def test_a_face_slot_with_a_codebook_faceVault_never_makes_is_refused(made, rng) -> None:
    path, face, _code, _dev = made
    weak, _word = ironmask.enroll(face, ironmask.IronMaskParams(512, 1))  # C(512,1): opens for most faces
    _forged_face_header(path, [ironmask.helper_to_bytes(weak)])
    with pytest.raises(IntegrityError, match="never makes"):
        open_vault(path, Factors(FaceFactor((face,), MODEL_A)), device=DeviceRef(os.urandom(16), "x"))


def test_at_most_max_face_slots_are_tried(made, rng, monkeypatch) -> None:
    path, face, _code, _dev = made
    helpers = [ironmask.helper_to_bytes(facekey_helper(unit(rng.standard_normal(512)))) for _ in range(20)]
    _forged_face_header(path, helpers)
    from facevault.core import unlocking

    tried = []
    real = unlocking.open_stanza
    monkeypatch.setattr(unlocking, "open_stanza", lambda *a: tried.append(1) or real(*a))
    with pytest.raises(NotRecognisedError):
        open_vault(path, Factors(FaceFactor((face,), MODEL_A)), device=DeviceRef(os.urandom(16), "x"))
    assert 0 < len(tried) <= MAX_FACE_SLOTS * 4  # at most max_tries guesses per slot


def facekey_helper(t: np.ndarray) -> ironmask.Helper:
    return ironmask.helper_from_bytes(facekey.enroll(t).helper)


def test_another_embedding_model_is_named_instead_of_not_recognised(made) -> None:
    path, face, code, _dev = made
    with pytest.raises(ModelError, match="arcface-a") as info:
        open_vault(path, Factors(FaceFactor((face,), MODEL_B)), device=DeviceRef(os.urandom(16), "x"))
    assert "arcface-b" in str(info.value)
    assert open_vault(path, Factors(FaceFactor((at_angle(face, 20, np.random.default_rng(1)),), MODEL_A)),
                      device=DeviceRef(os.urandom(16), "x"))


# ---------------------------------------------------------------- conflict copies and strays

@pytest.mark.parametrize("tool", TOOLS)
def test_each_tools_conflict_copies_of_our_files_are_recognised(tool: str) -> None:
    ours = {"0123456789abcdef0123456789abcdef.fvj", "00000003-0123456789abcdef0123456789abcdef.fvh",
            "index.fve"}
    for leaf in sorted(ours):
        copy = conflict_copy_name(tool, leaf, "DESKTOP7", 1_764_590_000.0)
        assert original_of(copy, lambda n: n in ours) == leaf, copy
    assert original_of(conflict_copy_name(tool, "holiday.jpg", "X", 0.0), lambda n: n in ours) is None


def test_strays_are_left_alone_and_never_break_opening(made) -> None:
    path, _face, code, _dev = made
    (path / ".stfolder").mkdir()
    (path / "journal" / "notes.txt").write_text("mine")
    (path / "headers" / ".syncthing.tmp").write_bytes(b"\x00" * 10)
    (path / "README.md").write_text("my vault")
    folder = scan(path)
    assert {p.name for p in folder.strays} >= {"notes.txt", ".syncthing.tmp", "README.md"}
    vault = _open_code(path, code)
    vault.compact()
    vault.gc(grace_seconds=0)
    assert (path / "journal" / "notes.txt").read_text() == "mine" and (path / "README.md").exists()


def test_a_symlink_or_a_fifo_in_place_of_a_journal_is_refused(made, tmp_path: Path) -> None:
    path, _face, code, _dev = made
    journal = _journal(path)
    real = tmp_path / "elsewhere.fvj"
    shutil.move(journal, real)
    journal.symlink_to(real)
    with pytest.raises(IntegrityError, match="symbolic link"):
        _open_code(path, code)
    journal.unlink()
    os.mkfifo(journal)
    with pytest.raises(IntegrityError, match="not a regular file"):
        _open_code(path, code)


# ---------------------------------------------------------------- epochs

def test_a_fork_of_epochs_merges_and_keeps_both_sides(made, tmp_path: Path) -> None:
    path, face, code, device = made
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    a = _open_code(path, code, device)
    b = _open_code(copy, code, DeviceRef(os.urandom(16), "desktop"))
    code_a, code_b = new_recovery_code(), new_recovery_code()
    a.change_slots([s for s in a.header.slots if s.kind is Kind.FACE],
                   [SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code_a)), TEST_PARAMS)], mode=Mode.FACE, revoke=True)
    a.add_bytes("from-a.txt", b"a")
    b.change_slots([s for s in b.header.slots if s.kind is Kind.FACE],
                   [SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code_b)), TEST_PARAMS)], mode=Mode.FACE, revoke=True)
    b.add_bytes("from-b.txt", b"b")
    for src, dst in ((copy, path), (path, copy)):
        for sub in ("headers", "journal", "objects"):
            for p in (src / sub).iterdir():
                if not (dst / sub / p.name).exists():
                    shutil.copy2(p, dst / sub / p.name)
    probe = Factors(FaceFactor((at_angle(face, 20, np.random.default_rng(3)),), MODEL_A))
    merged = open_vault(path, probe, device=device)
    assert merged.forked
    assert [e.name for e in merged.entries()] == ["a.txt", "b.txt", "from-a.txt", "from-b.txt"]
    merged.add_bytes("after.txt", b"c")  # the next write merges the fork
    assert not merged.forked and len(read_headers_at(path).tips) == 1
    with pytest.raises(NotRecognisedError):  # both new codes exist, the old one is revoked
        _open_code(path, code)
    assert _open_code(path, code_a).read_bytes("from-b.txt") == b"b"
    assert _open_code(path, code_b).read_bytes("after.txt") == b"c"


def test_an_old_header_and_a_revoked_code_open_nothing_written_after(made, tmp_path: Path) -> None:
    """The attacker kept a copy of the old header and the old recovery code, and can read
    the live folder from another machine."""
    path, _face, code, device = made
    old_headers = tmp_path / "stolen-headers"
    shutil.copytree(path / "headers", old_headers)
    vault = _open_code(path, code, device)
    new_code = new_recovery_code()
    vault.change_slots([s for s in vault.header.slots if s.kind is Kind.FACE],
                       [SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(new_code)), TEST_PARAMS)],
                       mode=Mode.FACE, revoke=True)
    vault.add_bytes("after.txt", b"written after the revocation")
    vault.add_bytes("a.txt", b"edited after", overwrite=True)
    with pytest.raises(NotRecognisedError):
        _open_code(path, code)
    # the old header back in the live folder: it is not the current epoch (a later header names it)
    for h in old_headers.iterdir():
        shutil.copy2(h, path / "headers" / h.name)
    with pytest.raises(NotRecognisedError):
        _open_code(path, code)
    # the live folder with only the old header (the new one hidden from this reader)
    thief = tmp_path / "thief-view"
    shutil.copytree(path, thief)
    shutil.rmtree(thief / "headers")
    shutil.copytree(old_headers, thief / "headers")
    seen = _open_code(thief, code)
    assert sorted(e.name for e in seen.entries()) == ["a.txt", "b.txt"]
    assert seen.read_bytes("a.txt") == b"one"  # the version from before; the edit stays sealed
    assert seen.state.pending == 2


# ---------------------------------------------------------------- record encodings

def _records(n: int):
    from facevault.core.records import DEL, MV, PUT, Record

    out = [Record(os.urandom(16).hex(), PUT, f"dir/f{i}.txt", (os.urandom(16).hex(),) if i % 3 else (), i,
                  os.urandom(16).hex(), i + 1, 1.7e9 + i, "laptop", os.urandom(16).hex(), os.urandom(16).hex(),
                  i, 1.6e9, f"{i % 3:08d}-" + "ab" * 16) for i in range(n)]
    out.append(Record(os.urandom(16).hex(), DEL, "gone.txt", (out[0].version,), 9, "c" * 32, 9, 1.0, "x"))
    out.append(Record(os.urandom(16).hex(), MV, "dir/f1.txt", (), 10, "c" * 32, 10, 2.0, "x", os.urandom(16).hex(),
                      os.urandom(16).hex(), 0, 0.0, "00000007-" + "cd" * 16, out[1].version))
    return out


def test_packed_snapshot_records_round_trip_and_refuse_malformed_columns() -> None:
    import copy
    import json

    from facevault.core.records import from_packed, to_packed

    recs = _records(50)
    doc = json.loads(json.dumps(to_packed(recs)))
    assert list(from_packed(copy.deepcopy(doc))) == recs
    assert from_packed(json.loads(json.dumps(to_packed([])))) == ()
    for field, bad in (("version", doc["version"][:-1] + "G"), ("version", doc["version"][:-2]),
                       ("op", "p" * 51 + "x"), ("name", doc["name"] + "\x00extra"), ("lamport", [-1] * 52),
                       ("time", [float("inf")] * 52), ("labels", ["nonsense"]), ("key_epoch", [99] * 52),
                       ("device", " " * len(doc["device"])), ("n", "52")):
        broken = copy.deepcopy(doc)
        broken[field] = bad
        with pytest.raises(IntegrityError):
            from_packed(broken)


def test_journal_rows_are_checked_as_strictly_as_one_row() -> None:
    import copy

    from facevault.core.records import from_row, from_rows, to_row

    recs = _records(20)
    rows = [to_row(r) for r in recs]
    assert from_rows(copy.deepcopy(rows)) == recs == [from_row(r) for r in copy.deepcopy(rows)]
    for index, value in ((0, "Z" * 32), (1, "put?"), (2, ""), (2, "a\x00b"), (4, -3), (7, float("nan")),
                         (9, "short"), (13, "not-an-epoch")):
        broken = copy.deepcopy(rows)
        broken[3][index] = value
        with pytest.raises(IntegrityError):
            from_rows(broken)
        with pytest.raises(IntegrityError):
            from_row(broken[3])


def test_a_journal_rewritten_in_place_is_read_whole_again(made) -> None:
    """An open vault re-reads only what was appended to a journal it read before. A sync
    tool may rewrite a conflict copy in place (Dropbox names them by the day only), and a
    new file may get a removed file's inode number: neither may be parsed from the old
    offset (that read another file's bytes mid-frame: "a record ... was modified")."""
    path, _face, code, _dev = made
    here = _open_code(path, code)
    b_dev, c_dev = DeviceRef(os.urandom(16), "b"), DeviceRef(os.urandom(16), "c")
    _open_code(path, code, b_dev).add_bytes("b1.txt", b"x")
    other = _open_code(path, code, c_dev)
    for i in range(3):
        other.add_bytes(f"c{i}.txt", b"y" * i)
    jb, jc = path / "journal" / f"{b_dev.id.hex()}.fvj", path / "journal" / f"{c_dev.id.hex()}.fvj"
    copy = jb.with_name(conflict_copy_name("dropbox", jb.name, "desktop", 0.0))
    copy.write_bytes(jb.read_bytes())
    assert here.refresh()
    inode = copy.stat().st_ino
    longer = jc.read_bytes()
    assert len(longer) > copy.stat().st_size
    with open(copy, "r+b") as f:  # same inode, a different journal that is longer
        f.write(longer)
    assert copy.stat().st_ino == inode
    assert here.refresh()
    names = {e.name for e in here.entries()}
    assert {"b1.txt", "c0.txt", "c1.txt", "c2.txt"} <= names
