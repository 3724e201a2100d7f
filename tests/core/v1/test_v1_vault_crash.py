"""Crash safety, the write lock and full disks for facevault.core.v1.vault.

Crashes are real: a child process is killed with SIGKILL or leaves with os._exit (no
cleanup, no finally blocks) at a chosen point, then this process opens the vault.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from facevault.core import fsutil
from facevault.core.v1 import slots
from facevault.core.kdf import TEST_PARAMS
from facevault.core.kinds import Kind
from facevault.core.v1.slots import Slot
from facevault.core.v1.vault import (
    OBJECTS_DIR,
    PENDING_INDEX_NAME,
    OpenVault,
    _create_vault_from_parts as create_vault,
    _open_vault_with_key as open_vault,
)
from facevault.core.v1.header import HEADER_NAME
from facevault.errors import IntegrityError, StorageError, VaultBusyError

KEY = bytes(range(32))
NEW_KEY = bytes(range(100, 132))
PRELUDE = """
import os, sys
from pathlib import Path
from facevault.core import fsutil
from facevault.core.v1 import slots, vault as vault_mod
from facevault.core.kinds import Kind
from facevault.core.kdf import TEST_PARAMS
path, key = Path(sys.argv[1]), bytes.fromhex(sys.argv[2])
v = vault_mod._open_vault_with_key(path, key)
"""


@pytest.fixture(scope="module")
def slot() -> Slot:
    return slots.seal_slot(Kind.RECOVERY, KEY, b"recovery secret", kdf=TEST_PARAMS)


@pytest.fixture
def vault(tmp_path: Path, slot: Slot) -> OpenVault:
    v = create_vault(tmp_path / "v", KEY, [slot])
    v.add_bytes("before", b"previous contents")
    return v


def child(vault: OpenVault, body: str, **kwargs) -> subprocess.Popen:
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code, str(vault.path), KEY.hex()],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **kwargs)


def run_child(vault: OpenVault, body: str) -> int:
    proc = child(vault, body)
    proc.communicate(timeout=60)
    return proc.returncode


def state(path: Path, key: bytes = KEY) -> dict[str, bytes]:
    v = open_vault(path, key)
    return {e.name: v.read_bytes(e.name) for e in v.entries()}


def debris(path: Path) -> list[str]:
    return sorted(p.name for p in path.rglob(f"{fsutil.TEMP_PREFIX}*"))


def object_count(path: Path) -> int:
    return len([p for p in (path / OBJECTS_DIR).iterdir() if p.suffix == ".fvo"])


# -- crashes -------------------------------------------------------------------------------


def test_killed_in_the_middle_of_writing_an_object(vault: OpenVault, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    proc = child(vault, f"""
        for i, p in enumerate(v.add_file(Path({str(big)!r}))):
            if i == 3:
                print("mid", flush=True)
                sys.stdin.readline()
    """)
    assert proc.stdout.readline().strip() == "mid"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert state(vault.path) == {"before": b"previous contents"}
    assert len(debris(vault.path)) == 1  # the half-written object, never renamed
    vault.add_bytes("after", b"x")  # the kernel released the dead writer's lock
    assert vault.gc(grace_seconds=0) == 1
    assert debris(vault.path) == []
    assert state(vault.path) == {"after": b"x", "before": b"previous contents"}


def test_killed_between_object_and_index(vault: OpenVault) -> None:
    code = run_child(vault, """
        vault_mod.OpenVault._write_index = lambda self, *a, **k: os._exit(9)
        v.add_bytes("lost", b"never committed")
    """)
    assert code == 9
    assert state(vault.path) == {"before": b"previous contents"}
    assert object_count(vault.path) == 2  # one orphan
    assert vault.gc(grace_seconds=0) == 1
    assert object_count(vault.path) == 1
    assert state(vault.path) == {"before": b"previous contents"}


def test_killed_while_replacing_an_entry_keeps_the_old_version(vault: OpenVault) -> None:
    code = run_child(vault, """
        vault_mod.OpenVault._write_index = lambda self, *a, **k: os._exit(9)
        v.add_bytes("before", b"new version", overwrite=True)
    """)
    assert code == 9
    assert state(vault.path) == {"before": b"previous contents"}


def test_killed_during_rotation_before_the_header_keeps_the_old_key(vault: OpenVault) -> None:
    code = run_child(vault, f"""
        real = fsutil.atomic_write
        def crash_on_header(target, **kw):
            if target.name == {HEADER_NAME!r}:
                os._exit(9)
            return real(target, **kw)
        fsutil.atomic_write = crash_on_header
        new = bytes.fromhex({NEW_KEY.hex()!r})
        s = slots.seal_slot(Kind.RECOVERY, new, b"n", kdf=TEST_PARAMS)
        list(v._rotate_from_parts(new, [s]))
    """)
    assert code == 9
    assert (vault.path / PENDING_INDEX_NAME).exists()
    assert state(vault.path) == {"before": b"previous contents"}
    with pytest.raises(IntegrityError):
        open_vault(vault.path, NEW_KEY)
    assert vault.gc(grace_seconds=0) == 2  # the re-encrypted object and the pending index
    assert not (vault.path / PENDING_INDEX_NAME).exists()
    assert state(vault.path) == {"before": b"previous contents"}


def test_killed_during_rotation_after_the_header_opens_with_the_new_key(vault: OpenVault) -> None:
    code = run_child(vault, f"""
        vault_mod.OpenVault._replace = lambda self, *a: os._exit(9)
        new = bytes.fromhex({NEW_KEY.hex()!r})
        s = slots.seal_slot(Kind.RECOVERY, new, b"n", kdf=TEST_PARAMS)
        list(v._rotate_from_parts(new, [s]))
    """)
    assert code == 9
    with pytest.raises(IntegrityError):
        open_vault(vault.path, KEY)
    assert state(vault.path, NEW_KEY) == {"before": b"previous contents"}
    reopened = open_vault(vault.path, NEW_KEY)
    reopened.add_bytes("after", b"y")  # the next writer finishes the rename
    assert not (vault.path / PENDING_INDEX_NAME).exists()
    assert object_count(vault.path) == 3  # old object still there until gc
    assert reopened.gc(grace_seconds=0) == 1
    assert state(vault.path, NEW_KEY) == {"after": b"y", "before": b"previous contents"}


def test_a_stopped_generator_leaves_the_previous_state(vault: OpenVault, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1024 * 1024))
    gen = vault.add_file(big)
    next(gen)
    next(gen)
    gen.close()  # the user pressed Cancel
    assert debris(vault.path) == []
    assert state(vault.path) == {"before": b"previous contents"}
    vault.add_bytes("lock released", b"")
    gen = vault.extract("before", tmp_path / "out")
    next(gen)
    gen.close()
    assert not (tmp_path / "out").exists() and debris(tmp_path) == []


# -- the lock ------------------------------------------------------------------------------


def test_second_process_gets_vault_busy_at_once(vault: OpenVault, tmp_path: Path) -> None:
    proc = child(vault, """
        with v.lock():
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(VaultBusyError, match="busy"):
            vault.add_bytes("x", b"x")
        src = tmp_path / "f"
        src.write_bytes(b"f")
        with pytest.raises(VaultBusyError):
            next(vault.add_file(src))
        for attempt in (lambda: vault.remove("before"), lambda: vault.gc(),
                        lambda: vault.replace_slots(list(vault.header.slots))):
            with pytest.raises(VaultBusyError):
                attempt()
        assert vault.read_bytes("before") == b"previous contents"  # readers need no lock
        assert state(vault.path) == {"before": b"previous contents"}
    finally:
        proc.communicate("\n", timeout=30)
    assert proc.returncode == 0
    vault.add_bytes("x", b"x")
    assert sorted(state(vault.path)) == ["before", "x"]


def test_second_open_vault_in_the_same_process_is_busy(vault: OpenVault) -> None:
    other = open_vault(vault.path, KEY)
    with vault.lock():
        vault.add_bytes("inside", b"re-entrant")  # the holder may nest
        with pytest.raises(VaultBusyError):
            other.add_bytes("x", b"x")
    other.add_bytes("x", b"x")
    assert sorted(state(vault.path)) == ["before", "inside", "x"]


# -- full disk -----------------------------------------------------------------------------


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_writing_an_object(vault: OpenVault, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    before = sorted(p.name for p in vault.path.rglob("*"))
    monkeypatch.setattr(fsutil, "write_all", _enospc)
    with pytest.raises(StorageError, match="disk full"):
        vault.add_bytes("new", b"data" * 1000)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(300_000))
    with pytest.raises(StorageError, match="disk full"):
        list(vault.add_file(big))
    monkeypatch.undo()
    assert sorted(p.name for p in vault.path.rglob("*")) == before
    assert state(vault.path) == {"before": b"previous contents"}


def test_disk_full_while_writing_the_index_removes_the_new_object(
        vault: OpenVault, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(p.name for p in vault.path.rglob("*"))
    real, calls = fsutil.fsync_file, []

    def fail_second(fobj) -> None:  # first fsync: the object; second: the index
        calls.append(1)
        if len(calls) == 2:
            _enospc()
        real(fobj)

    monkeypatch.setattr(fsutil, "fsync_file", fail_second)
    with pytest.raises(StorageError, match="disk full"):
        vault.add_bytes("new", b"data")
    assert len(calls) == 2
    monkeypatch.undo()
    assert sorted(p.name for p in vault.path.rglob("*")) == before
    assert state(vault.path) == {"before": b"previous contents"}


def test_disk_full_while_extracting(vault: OpenVault, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept").write_bytes(b"old")
    monkeypatch.setattr(fsutil, "write_all", _enospc)
    with pytest.raises(StorageError, match="disk full"):
        list(vault.extract("before", out / "new"))
    with pytest.raises(StorageError, match="disk full"):
        list(vault.extract("before", out / "kept", overwrite=True))
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == ["kept"]
    assert (out / "kept").read_bytes() == b"old"


def test_disk_full_during_rotation_keeps_the_old_key(vault: OpenVault,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    vault.add_bytes("second", b"2" * 70_000)
    before = sorted(p.name for p in vault.path.rglob("*"))
    real, calls = fsutil.fsync_file, []

    def fail_on_header(fobj) -> None:  # objects x2, pending index, then the header
        calls.append(1)
        if len(calls) == 4:
            _enospc()
        real(fobj)

    monkeypatch.setattr(fsutil, "fsync_file", fail_on_header)
    new_slot = slots.seal_slot(Kind.RECOVERY, NEW_KEY, b"n", kdf=TEST_PARAMS)
    with pytest.raises(StorageError, match="disk full"):
        list(vault._rotate_from_parts(NEW_KEY, [new_slot]))
    monkeypatch.undo()
    assert sorted(p.name for p in vault.path.rglob("*")) == before
    assert state(vault.path) == {"before": b"previous contents", "second": b"2" * 70_000}
