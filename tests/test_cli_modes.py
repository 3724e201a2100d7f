"""Two-factor vaults through the CLI on real photos and models: face+passphrase, changing the
mode, `slots --explain`, and face+device with pairing between two real Secret Services
(two keyrings standing for two machines)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facevault.cli.main import main
from tests.helpers import secret_service
from tests.helpers.media import shared_data_dir

PHOTOS = shared_data_dir() / "photos"
PASS = "tulip-orbit-canyon-mild"

pytestmark = [
    pytest.mark.skipif(not PHOTOS.is_dir(), reason=f"real photos not found at {PHOTOS} (set FACEVAULT_TEST_DATA)"),
    pytest.mark.slow,
]


def _folder(tmp: Path, name: str, photos: list[Path]) -> str:
    folder = tmp / name
    folder.mkdir()
    for p in photos:
        (folder / p.name).symlink_to(p)
    return str(folder)


def run_cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "facevault", *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("modes")
    a = sorted((PHOTOS / "id01").glob("*.jpg"))
    b = sorted((PHOTOS / "id02").glob("*.jpg"))
    pw = tmp / "pass.txt"
    pw.write_text(PASS + "\n")
    wrong = tmp / "wrong.txt"
    wrong.write_text(PASS + "x\n")
    return {"tmp": tmp, "enroll_a": _folder(tmp, "enroll_a", a[:5]), "probe_a": _folder(tmp, "probe_a", a[5:]),
            "probe_b": _folder(tmp, "probe_b", b[5:]), "pass": str(pw), "wrong": str(wrong)}


def test_face_plus_passphrase_and_mode_changes(faces, tmp_path: Path, capsys) -> None:
    v, code = tmp_path / "v", tmp_path / "code.txt"
    assert main(["init", str(v), "--face", faces["enroll_a"], "--mode", "face+passphrase",
                 "--passphrase-file", faces["pass"], "--recovery-code-file", str(code),
                 "--kdf-seconds", "0.1"]) == 0
    (tmp_path / "f.txt").write_text("plans\n")
    assert main(["add", str(v), str(tmp_path / "f.txt"), "--face", faces["probe_a"],
                 "--passphrase-file", faces["pass"]]) == 0
    capsys.readouterr()
    assert main(["ls", str(v), "--face", faces["probe_a"]]) == 2  # no terminal to ask on: usage
    assert "passphrase" in capsys.readouterr().err
    assert main(["ls", str(v), "--face", faces["probe_a"], "--passphrase-file", faces["wrong"]]) == 1
    assert main(["ls", str(v), "--face", faces["probe_b"], "--passphrase-file", faces["pass"]]) == 1
    assert main(["ls", str(v), "--recovery-code", code.read_text().strip()]) == 0
    capsys.readouterr()
    assert main(["slots", str(v)]) == 0
    assert "mode face+passphrase" in capsys.readouterr().out
    assert main(["slots", str(v), "--explain", "--passphrase-bits", "52"]) == 0
    out = capsys.readouterr().out
    assert "mode face+passphrase" in out and "clear photo of you" in out and "52 bits" in out
    # Back to face only (the codeword from this unlock is re-used: no new capture).
    assert main(["mode", str(v), "face", "--face", faces["probe_a"], "--passphrase-file", faces["pass"]]) == 0
    assert main(["ls", str(v), "--face", faces["probe_a"]]) == 0
    capsys.readouterr()
    assert main(["slots", str(v), "--explain"]) == 0
    assert "can open it" in capsys.readouterr().out
    # And to face+passphrase again from face only: a new epoch, every file re-encrypted
    assert main(["mode", str(v), "face+passphrase", "--face", faces["probe_a"],
                 "--new-passphrase-file", faces["pass"]]) == 0
    assert "re-encrypted" in capsys.readouterr().err
    assert main(["ls", str(v), "--face", faces["probe_a"]]) == 2
    assert main(["ls", str(v), "--recovery-code", code.read_text().strip()]) == 0
    assert main(["get", str(v), "f.txt", "-o", str(tmp_path / "out.txt"), "--face", faces["probe_a"],
                 "--passphrase-file", faces["pass"]]) == 0
    assert (tmp_path / "out.txt").read_text() == "plans\n"


def test_face_plus_device_and_pairing_between_two_keyrings(faces, tmp_path: Path) -> None:
    reason = secret_service.available()
    if reason:
        pytest.skip(f"no Secret Service can be started here: {reason}")
    v = tmp_path / "v"
    with secret_service.running_secret_service() as env_a, secret_service.running_secret_service() as env_b:
        a, b = dict(os.environ, **env_a), dict(os.environ, **env_b)
        res = run_cli("init", v, "--face", faces["enroll_a"], "--mode", "face+device",
                      "--recovery-code-file", tmp_path / "code.txt", "--kdf-seconds", "0.1", env=a)
        assert res.returncode == 0, res.stderr
        assert run_cli("ls", v, "--face", faces["probe_a"], env=a).returncode == 0  # face + this keyring
        res = run_cli("ls", v, "--device", env=a)  # the device alone
        assert res.returncode == 1 and "face" in res.stderr, res.stderr
        assert run_cli("ls", v, "--face", faces["probe_a"], env=b).returncode == 1  # face on an unpaired machine
        res = run_cli("device", "pair", v, "--face", faces["probe_a"], "--code-file", tmp_path / "pair.txt",
                      "--qr", tmp_path / "pair.svg", env=a)
        assert res.returncode == 0, res.stderr
        assert (tmp_path / "pair.svg").read_text().startswith("<?xml")
        assert oct((tmp_path / "pair.txt").stat().st_mode & 0o777) == "0o600"
        on_b = tmp_path / "synced"
        shutil.copytree(v, on_b)
        res = run_cli("device", "import", on_b, "--code-file", tmp_path / "pair.txt", "--face", faces["probe_b"], env=b)
        assert res.returncode == 1, res.stderr  # someone else's face with the code
        res = run_cli("device", "import", on_b, "--code-file", tmp_path / "pair.txt", "--face", faces["probe_a"], env=b)
        assert res.returncode == 0, res.stderr
        assert run_cli("ls", on_b, "--face", faces["probe_a"], env=b).returncode == 0
        assert run_cli("ls", on_b, "--face", faces["probe_a"], env=a).returncode == 0
        res = run_cli("device", "import", on_b, "--code-file", tmp_path / "pair.txt", "--face", faces["probe_a"], env=b)
        assert res.returncode == 1 and "no pairing waiting" in res.stderr  # one use only
        res = run_cli("device", "remove", on_b, "--face", faces["probe_a"], env=b)  # B removes itself
        assert res.returncode == 0, res.stderr
        assert run_cli("ls", on_b, "--face", faces["probe_a"], env=b).returncode == 1
        assert run_cli("ls", on_b, "--face", faces["probe_a"], env=a).returncode == 0
        res = run_cli("slots", on_b, "--explain", env=a)
        assert res.returncode == 0 and "mode face+device" in res.stdout and "out of reach" in res.stdout
