"""The vault CLI end to end with real photos from ../shared/data/photos and the real models.

Enroll with several photos of one person, unlock with other photos of that person, refuse a
different person; recovery code; re-enroll revokes the old face; tampering, truncation,
foreign files, a killed `add`, lock contention, a copied vault under another HOME, the
device slot through a real Secret Service, single-file encrypt/decrypt, exit codes.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facevault.cli.main import main
from tests.helpers import secret_service
from tests.helpers.media import shared_data_dir

REPO = Path(__file__).resolve().parent.parent
PHOTOS = shared_data_dir() / "photos"

pytestmark = [
    pytest.mark.skipif(not PHOTOS.is_dir(), reason=f"real photos not found at {PHOTOS} (set FACEVAULT_TEST_DATA)"),
    pytest.mark.slow,
]


def _photos(ident: str) -> list[Path]:
    return sorted((PHOTOS / ident).glob("*.jpg"), key=lambda p: p.name)


def _folder(tmp: Path, name: str, photos: list[Path]) -> str:
    folder = tmp / name
    folder.mkdir()
    for p in photos:
        (folder / p.name).symlink_to(p)
    return str(folder)


def _snapshot(vault: Path) -> dict[str, str]:
    return {
        str(p.relative_to(vault)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(vault.rglob("*")) if p.is_file() and p.name != ".lock"
    }


def run_cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facevault", *map(str, args)],
        capture_output=True, text=True, env=env or dict(os.environ), timeout=300,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("cli")
    a = _photos("id01")
    b = _photos("id02")
    w = {
        "tmp": tmp,
        "enroll_a": _folder(tmp, "enroll_a", a[:5]),
        "probe_a": _folder(tmp, "probe_a", a[5:]),
        "enroll_b": _folder(tmp, "enroll_b", b[:5]),
        "probe_b": _folder(tmp, "probe_b", b[5:]),
        "vault": tmp / "vault",
        "code_file": tmp / "code.txt",
    }
    assert main(["init", str(w["vault"]), "--face", w["enroll_a"], "--recovery-code-file", str(w["code_file"])]) == 0
    (tmp / "secret.txt").write_text("the plans\n")
    assert main(["add", str(w["vault"]), str(tmp / "secret.txt"), "--face", w["probe_a"]]) == 0
    return w


def code_of(world) -> str:
    return world["code_file"].read_text().strip()


def test_init_writes_an_owner_only_recovery_code(world) -> None:
    mode = world["code_file"].stat().st_mode & 0o777
    assert mode == 0o600
    assert len(code_of(world).replace("-", "")) >= 24


def test_same_person_opens_and_gets_the_file(world, capsys) -> None:
    out = world["tmp"] / "got.txt"
    assert main(["get", str(world["vault"]), "secret.txt", "-o", str(out), "--face", world["probe_a"]]) == 0
    assert out.read_text() == "the plans\n"
    assert main(["ls", str(world["vault"]), "--face", world["probe_a"]]) == 0
    assert "secret.txt" in capsys.readouterr().out


def test_a_different_person_is_refused_and_nothing_changes(world, capsys) -> None:
    before = _snapshot(world["vault"])
    rc = main(["add", str(world["vault"]), str(world["tmp"] / "secret.txt"), "--overwrite", "--face", world["probe_b"]])
    assert rc == 1
    assert "not recognised" in capsys.readouterr().err
    assert _snapshot(world["vault"]) == before


def test_recovery_code_and_mistyped_code(world, capsys) -> None:
    assert main(["ls", str(world["vault"]), "--recovery-code", code_of(world).lower()]) == 0
    code = code_of(world)
    typo = code[:3] + ("X" if code[3] != "X" else "Y") + code[4:]
    assert main(["ls", str(world["vault"]), "--recovery-code", typo]) == 1
    assert "mistyped" in capsys.readouterr().err.lower()


def test_get_never_escapes_the_output_folder_nor_clobbers(world) -> None:
    from facevault.core import kdf
    from tests.helpers.vaults import offer, unlock

    opened = unlock(world["vault"], offer(code=code_of(world)))
    opened.add_bytes("../../escape.txt", b"x")
    outdir = world["tmp"] / "outdir"
    outdir.mkdir()
    assert main(["get", str(world["vault"]), "../../escape.txt", "-o", str(outdir), "--recovery-code", code_of(world)]) == 0
    assert (outdir / "escape.txt").read_bytes() == b"x"
    assert not (world["tmp"] / "escape.txt").exists() and not (world["tmp"].parent / "escape.txt").exists()
    existing = world["tmp"] / "exists.txt"
    existing.write_text("keep me")
    assert main(["get", str(world["vault"]), "secret.txt", "-o", str(existing), "--recovery-code", code_of(world)]) == 2  # the output exists: a usage mistake
    assert existing.read_text() == "keep me"
    assert kdf  # imported for the vault's parameters


def test_exit_codes_for_bad_input(world, tmp_path: Path, capsys) -> None:
    blank = tmp_path / "blank.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(blank), np.full((480, 640, 3), 128, np.uint8))
    assert main(["ls", str(world["vault"]), "--face", str(blank)]) == 4
    assert main(["ls", str(world["vault"]), "--face", str(tmp_path / "nope.jpg")]) == 4
    assert main(["ls", str(world["vault"]), "--face", "camera:9"]) == 4
    assert main(["ls", str(world["vault"])]) == 2
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "vault.fvh").write_bytes(b"PK\x03\x04 not a vault at all")
    assert main(["ls", str(foreign), "--recovery-code", code_of(world)]) == 3
    assert main(["ls", str(tmp_path / "missing"), "--recovery-code", code_of(world)]) == 2  # no vault there: a usage mistake
    err = capsys.readouterr().err
    assert "Traceback" not in err


def _only(folder: Path, pattern: str) -> str:
    """The biggest file matching `pattern` (devices of earlier tests wrote journals too)."""
    found = max(folder.glob(pattern), key=lambda p: p.stat().st_size)
    return str(found.relative_to(folder))


def test_tampering_and_truncation_are_detected(world, tmp_path: Path) -> None:
    import shutil

    for pattern in ("headers/*.fvh", "journal/*.fvj"):  # snapshots: tests/core
        copy = tmp_path / f"copy-{pattern.split('/')[0]}"
        shutil.copytree(world["vault"], copy)
        target = _only(copy, pattern)
        data = bytearray((copy / target).read_bytes())
        data[len(data) // 2] ^= 0x40
        (copy / target).write_bytes(bytes(data))
        before = _snapshot(copy)
        assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 3, target
        assert _snapshot(copy) == before
        if pattern.startswith("journal"):
            continue  # a journal cut short looks like an older one: refused once this computer saw more
        (copy / target).write_bytes(bytes(data[: len(data) // 3]))
        assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 3, target


def test_a_journal_cut_short_after_this_computer_read_it_is_a_rollback(world, tmp_path: Path,
                                                                        capsys) -> None:
    import shutil

    copy = tmp_path / "v"
    shutil.copytree(world["vault"], copy)
    assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 0
    journal = copy / _only(copy, "journal/*.fvj")
    journal.write_bytes(journal.read_bytes()[:-10])  # the last record is torn off
    capsys.readouterr()
    assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 3
    assert "rolled back" in capsys.readouterr().err


def test_lock_contention_is_a_clear_error(world, capsys) -> None:
    from tests.helpers.vaults import offer, unlock

    opened = unlock(world["vault"], offer(code=code_of(world)))
    proc_env = dict(os.environ)
    with opened.lock():
        res = run_cli("rm", world["vault"], "secret.txt", "--recovery-code", code_of(world), env=proc_env)
    assert res.returncode == 5, res.stderr
    assert "in use" in res.stderr.lower() or "busy" in res.stderr.lower()


def test_killed_add_leaves_the_previous_state(world, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "v"
    shutil.copytree(world["vault"], copy)
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(400 * 1024 * 1024)
    proc = subprocess.Popen(
        [sys.executable, "-m", "facevault", "add", str(copy), str(big), "--recovery-code", code_of(world)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in copy.rglob(".fvtmp-*") if p.is_file()]
        if any(p.stat().st_size > 20_000_000 for p in partial):
            break  # the object is half written
        time.sleep(0.02)
    assert proc.poll() is None, "add finished before it could be killed; make the file bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    res = run_cli("ls", copy, "--recovery-code", code_of(world))
    assert res.returncode == 0, res.stderr
    assert "secret.txt" in res.stdout and "big.bin" not in res.stdout


def test_copied_vault_opens_under_another_home(world, tmp_path: Path) -> None:
    import shutil

    moved = tmp_path / "elsewhere" / "my vault"
    shutil.copytree(world["vault"], moved)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    env.pop("FACEVAULT_DATA_DIR")  # another computer: its own device id and pins
    res = run_cli("get", moved, "secret.txt", "-o", tmp_path / "o.txt", "--face", world["probe_a"], env=env)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o.txt").read_text() == "the plans\n"


def test_reenroll_revokes_the_old_face(world, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "v"
    shutil.copytree(world["vault"], copy)
    # The "new capture" is another person's photos so that the old face can be told apart.
    assert main(["reenroll", str(copy), "--face", world["probe_a"], "--new-face", world["enroll_b"]]) == 0
    assert main(["ls", str(copy), "--face", world["probe_a"]]) == 1
    assert main(["ls", str(copy), "--face", world["probe_b"]]) == 0
    assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 0
    assert main(["reenroll", str(copy), "--face", world["probe_b"], "--new-face", world["enroll_a"],
                 "--rotate-key"]) == 0
    assert main(["ls", str(copy), "--face", world["probe_b"]]) == 1
    # re-enrolling revokes the face, not the recovery code; a new code revokes the old one
    assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 0
    code2 = tmp_path / "code2.txt"
    assert main(["recovery", "regenerate", str(copy), "--face", world["probe_a"],
                 "--recovery-code-file", str(code2)]) == 0
    assert main(["ls", str(copy), "--recovery-code", code_of(world)]) == 1
    assert main(["get", str(copy), "secret.txt", "-o", str(tmp_path / "r.txt"),
                 "--recovery-code", code2.read_text().strip()]) == 0
    assert (tmp_path / "r.txt").read_text() == "the plans\n"


def test_single_file_encrypt_decrypt(world, tmp_path: Path) -> None:
    src = tmp_path / "doc.bin"
    src.write_bytes(os.urandom(300_000))
    enc = tmp_path / "doc.fv"
    code = tmp_path / "doc-code.txt"
    assert main(["encrypt", str(src), "-o", str(enc), "--face", world["enroll_a"], "--recovery-code-file", str(code)]) == 0
    assert main(["decrypt", str(enc), "-o", str(tmp_path / "d1"), "--face", world["probe_a"]]) == 0
    assert (tmp_path / "d1").read_bytes() == src.read_bytes()
    assert main(["decrypt", str(enc), "-o", str(tmp_path / "d2"), "--face", world["probe_b"]]) == 1
    assert not (tmp_path / "d2").exists()
    assert main(["decrypt", str(enc), "-o", str(tmp_path / "d3"), "--recovery-code", code.read_text().strip()]) == 0


def test_device_slot_with_a_real_secret_service(world, tmp_path: Path) -> None:
    import shutil

    reason = secret_service.available()
    if reason:
        pytest.skip(f"no Secret Service can be started here: {reason}")
    copy = tmp_path / "v"
    shutil.copytree(world["vault"], copy)
    with secret_service.running_secret_service() as ss_env:
        env = dict(os.environ, **ss_env)
        res = run_cli("device", "enable", copy, "--recovery-code", code_of(world), env=env)
        assert res.returncode == 0, res.stderr
        res = run_cli("ls", copy, "--device", env=env)
        assert res.returncode == 0 and "secret.txt" in res.stdout, res.stderr
        res = run_cli("slots", copy, env=env)
        assert "device" in res.stdout
        res = run_cli("device", "disable", copy, "--device", env=env)
        assert res.returncode == 0, res.stderr
        res = run_cli("ls", copy, "--device", env=env)
        assert res.returncode == 1
    env_no_keyring = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    res = run_cli("ls", copy, "--device", env=env_no_keyring)
    assert res.returncode == 5 and "keyring" in res.stderr.lower()


def test_liveness_refuses_stills_and_a_video_of_one_photo(world, tmp_path: Path, capsys) -> None:
    from tests.helpers.media import make_video

    probe = sorted(Path(world["probe_a"]).iterdir())[0]
    assert main(["ls", str(world["vault"]), "--face", str(probe), "--liveness"]) == 2
    assert "live" in capsys.readouterr().err.lower()
    # a still photo never passes a challenge, even when non-live input is allowed
    assert main(["ls", str(world["vault"]), "--face", str(probe), "--liveness", "--allow-still"]) == 1
    video = tmp_path / "still.avi"
    make_video([probe.resolve()] * 60, video, fps=15)
    assert main(["ls", str(world["vault"]), "--face", str(video), "--liveness"]) == 2  # needs --allow-still
    before = _snapshot(world["vault"])
    assert main(["ls", str(world["vault"]), "--face", str(video), "--liveness", "--allow-still"]) == 1
    assert "blink" in capsys.readouterr().err.lower()
    assert _snapshot(world["vault"]) == before
    # the same video without --liveness is plain face input and opens the vault
    assert main(["ls", str(world["vault"]), "--face", str(video)]) == 0


def test_files_encrypted_to_one_identity_carry_one_sketch(world, tmp_path: Path, capsys) -> None:
    from facevault.core.identity import read_header_v2
    from facevault.core.kinds import Kind

    ident = tmp_path / "me.fvid"
    code = tmp_path / "id-code.txt"
    assert main(["identity", "new", "--face", world["enroll_b"], "-o", str(ident),
                 "--recovery-code-file", str(code), "--label", "B"]) == 0
    assert main(["identity", "show", str(ident)]) == 0
    assert "fingerprint" in capsys.readouterr().out
    helpers = set()
    for i in range(3):
        src = tmp_path / f"doc{i}.txt"
        src.write_bytes(os.urandom(1000 + i))
        assert main(["encrypt", str(src), "-o", str(tmp_path / f"doc{i}.fvf"), "--to", str(ident)]) == 0  # no face
        with open(tmp_path / f"doc{i}.fvf", "rb") as f:
            f.read(16)
            header = read_header_v2(f)
        (face,) = [s for s in header.slots if s.kind is Kind.FACE]
        helpers.add(Kind.FACE.spec.helper(face.public))
    assert len(helpers) == 1  # three files, one sketch
    out = tmp_path / "back.txt"
    assert main(["decrypt", str(tmp_path / "doc1.fvf"), "-o", str(out), "--face", world["probe_b"]]) == 0
    assert out.read_bytes() == (tmp_path / "doc1.txt").read_bytes()
    assert main(["decrypt", str(tmp_path / "doc2.fvf"), "-o", str(tmp_path / "x"), "--face", world["probe_a"]]) == 1
    assert main(["decrypt", str(tmp_path / "doc2.fvf"), "-o", str(tmp_path / "y"),
                 "--recovery-code", code.read_text().strip()]) == 0
    # a second enrollment from the same photos is refused (it would be the same template)
    capsys.readouterr()
    assert main(["identity", "new", "--face", world["enroll_b"], "-o", str(tmp_path / "again.fvid")]) == 2
    assert "same template" in capsys.readouterr().err


def test_a_version_1_single_file_still_decrypts(world, tmp_path: Path) -> None:
    from facevault.core import facekey
    from facevault.core.factors import Factors, RecoveryFactor
    from facevault.core.kdf import TEST_PARAMS
    from facevault.core.kinds import Kind
    from facevault.core.recovery import new_recovery_code
    from facevault.core.v1.fileformat import seal_file
    from facevault.core.v1.sealing import SlotPlan

    code = new_recovery_code()
    src, enc = tmp_path / "old.txt", tmp_path / "old.fvf"
    src.write_text("written by FaceVault 1\n")
    plans = [SlotPlan(Kind.FACE, Factors(facekey.enroll(__import__("numpy").ones(512) / 512 ** 0.5)), TEST_PARAMS),
             SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code)), TEST_PARAMS)]
    with open(src, "rb") as fin, open(enc, "wb") as fout:
        for _ in seal_file(fin, fout, plans):
            pass
    assert main(["decrypt", str(enc), "-o", str(tmp_path / "new.txt"), "--recovery-code", code]) == 0
    assert (tmp_path / "new.txt").read_text() == "written by FaceVault 1\n"
