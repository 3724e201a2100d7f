"""Version-1 vaults keep working: upgraded in place with every file (and the files of a sync
tool's conflict copy of index.fve), the ways in the offer holds made again as version-2
slots and the others kept until a revocation; crash-safe (kill -9 at every write leaves the
old or the new format, never neither); two devices that upgrade the same copy before
syncing end with one vault."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facevault.core import facekey
from facevault.core.factors import FaceFactor, Factors, RecoveryFactor
from facevault.core.folder import is_v1, is_v2
from facevault.core.kdf import TEST_PARAMS
from facevault.core.kinds import Kind
from facevault.core.recovery import new_recovery_code
from facevault.core.upgrade import open_upgraded
from facevault.core.v1.sealing import SlotPlan as V1Plan
from facevault.core.v1.vault import create_vault as create_v1
from facevault.core.v1.vault import open_vault as open_v1
from facevault.core.vault import DeviceRef, open_vault
from facevault.errors import NotRecognisedError
from tests.helpers.vectors import at_angle, unit

REPO = Path(__file__).resolve().parents[2]


def _make_v1(path: Path, seed: int = 1) -> tuple[np.ndarray, str]:
    rng = np.random.default_rng(seed)
    face = unit(rng.standard_normal(512))
    code = new_recovery_code()
    v = create_v1(path, [V1Plan(Kind.FACE, Factors(facekey.enroll(face)), TEST_PARAMS),
                         V1Plan(Kind.RECOVERY, Factors(RecoveryFactor(code)), TEST_PARAMS)])
    v.add_bytes("a.txt", b"one")
    v.add_bytes("b.txt", b"two")
    v.close()
    return face, code


def _probe(face: np.ndarray) -> Factors:
    return Factors(FaceFactor((at_angle(face, 20, np.random.default_rng(9)),)))


def _device() -> DeviceRef:
    return DeviceRef(os.urandom(16), "laptop")


def test_upgrade_keeps_every_file_and_the_index_conflict_copy(tmp_path: Path) -> None:
    path, other = tmp_path / "v", tmp_path / "other"
    face, code = _make_v1(path)
    shutil.copytree(path, other)
    before = {p.name for p in (other / "objects").iterdir()}
    w = open_v1(other, Factors(RecoveryFactor(code)))  # the other device, before the sync
    w.add_bytes("d.txt", b"four")
    w.add_bytes("b.txt", b"two, edited there", overwrite=True)
    w.close()
    v = open_v1(path, Factors(RecoveryFactor(code)))
    v.add_bytes("c.txt", b"three")
    v.add_bytes("a.txt", b"one, edited", overwrite=True)
    v.close()
    # the sync tool brought the other device's objects, and kept its index as a conflict copy
    for obj in (other / "objects").iterdir():
        if obj.name not in before:  # new there (a deletion here stays a deletion)
            shutil.copy2(obj, path / "objects" / obj.name)
    shutil.copy2(other / "index.fve", path / "index.sync-conflict-20261201-101010-ABCDEFG.fve")
    vault = open_upgraded(path, _probe(face), device=_device())
    assert is_v2(path) and not (path / "vault.fvh").exists() and not list(path.glob("index*"))
    names = sorted(e.name for e in vault.entries())
    assert [n for n in names if "conflict" not in n] == ["a.txt", "b.txt", "c.txt", "d.txt"]
    (copy,) = [e for e in vault.entries() if e.conflict]  # b.txt edited on both sides
    assert copy.original == "b.txt" and vault.read_bytes(copy.name) == b"two, edited there"
    assert vault.read_bytes("b.txt") == b"two"  # this device's index wins the name
    assert vault.read_bytes("a.txt") == b"one, edited" and vault.read_bytes("d.txt") == b"four"
    assert [s.kind for s in vault.header.slots] == [Kind.FACE]  # the face that opened it, made again
    assert [s.kind for s in vault.header.legacy_slots] == [Kind.RECOVERY]  # kept until a revocation
    again = open_vault(path, Factors(RecoveryFactor(code)), device=_device())  # through the bridge
    assert again.opened.legacy and again.read_bytes("c.txt") == b"three"


def test_a_failed_unlock_leaves_the_version_1_vault_untouched(tmp_path: Path) -> None:
    path = tmp_path / "v"
    _make_v1(path)
    before = {p.name: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    with pytest.raises(NotRecognisedError):
        open_upgraded(path, _probe(unit(np.ones(512))), device=_device())
    assert {p.name: p.read_bytes() for p in path.rglob("*") if p.is_file()} == before


_CHILD = r"""
import os, signal, sys
from pathlib import Path
from facevault.core import fsutil, journal, epochs, upgrade
from facevault.core.factors import Factors, RecoveryFactor
from facevault.core.vault import DeviceRef
limit = int(sys.argv[2]); calls = [0]
def wrap(mod, name):
    real = getattr(mod, name)
    def killer(*a, **k):
        calls[0] += 1
        if calls[0] > limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    setattr(mod, name, killer)
for mod, name in ((fsutil, "fsync_file"), (fsutil, "remove_quietly"), (upgrade, "write_snapshot"),
                  (epochs, "parse_header")):
    wrap(mod, name)
code = sys.stdin.read().strip()
upgrade.open_upgraded(Path(sys.argv[1]), Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "x"))
print("done")
"""


def test_kill_9_at_any_point_leaves_the_old_or_the_new_format(tmp_path: Path) -> None:
    template = tmp_path / "template"
    _face, code = _make_v1(template)
    outcomes = set()
    for limit in range(0, 30):
        path = tmp_path / f"v{limit}"
        shutil.copytree(template, path)
        res = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(limit)], input=code,
                             capture_output=True, text=True, cwd=REPO, timeout=120)
        if is_v1(path):
            opened = open_v1(path, Factors(RecoveryFactor(code)))
            outcomes.add("v1")
        else:
            assert is_v2(path), (limit, sorted(p.name for p in path.iterdir()))
            opened = open_vault(path, Factors(RecoveryFactor(code)), device=_device())
            outcomes.add("v2")
        assert sorted(e.name for e in opened.entries()) == ["a.txt", "b.txt"], limit
        assert opened.read_bytes("b.txt") == b"two"
        if "done" in res.stdout:
            break
    assert outcomes == {"v1", "v2"} and limit >= 3, limit
    assert "done" in res.stdout  # the last run was not killed: every step was covered


def test_two_devices_upgrading_one_copy_end_with_one_vault(tmp_path: Path) -> None:
    a = tmp_path / "a"
    face, code = _make_v1(a)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    va = open_upgraded(a, _probe(face), device=_device())
    vb = open_upgraded(b, Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "desktop"))
    va.add_bytes("from-a.txt", b"a")
    vb.add_bytes("from-b.txt", b"b")
    # a sync tool brings them together: the same epoch-0 header name on both sides becomes a
    # conflict copy; journals, snapshots and objects are all distinct files
    for src, dst in ((b, a), (a, b)):
        for sub in ("headers", "journal", "snapshots", "objects"):
            for p in (src / sub).iterdir():
                target = dst / sub / p.name
                if not target.exists():
                    shutil.copy2(p, target)
                elif target.read_bytes() != p.read_bytes() and sub == "headers":
                    shutil.copy2(p, dst / sub / f"{p.stem}.sync-conflict-20261201-120000-ABCDEFG{p.suffix}")
    merged = open_vault(a, _probe(face), device=_device())
    assert [e.name for e in merged.entries()] == ["a.txt", "b.txt", "from-a.txt", "from-b.txt"]
    merged.add_bytes("c.txt", b"c")  # merges the two epoch-0 headers
    assert [e.name for e in open_vault(a, Factors(RecoveryFactor(code)), device=_device()).entries()] == \
        ["a.txt", "b.txt", "c.txt", "from-a.txt", "from-b.txt"]


def test_a_kept_version_1_slot_is_made_version_2_when_it_opens_the_vault(tmp_path: Path) -> None:
    from facevault.services.trust import PinStore
    from facevault.services.unlock import LockedVault

    path = tmp_path / "v"
    face, code = _make_v1(path)
    open_upgraded(path, _probe(face), device=_device()).close()
    assert [s.kind for s in open_vault(path, _probe(face), device=_device()).header.legacy_slots] == [Kind.RECOVERY]
    unlocked = LockedVault.read(path, PinStore(tmp_path / "pins")).open(Factors(RecoveryFactor(code)))
    header = unlocked.vault.header
    assert header.legacy_slots == () and sorted(s.kind for s in header.slots) == [Kind.FACE, Kind.RECOVERY]
    again = open_vault(path, Factors(RecoveryFactor(code)), device=_device())
    assert not again.opened.legacy and again.read_bytes("a.txt") == b"one"
