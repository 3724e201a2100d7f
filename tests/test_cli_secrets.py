"""Codes and passphrases never need the command line: typed at a no-echo prompt on a real
terminal (a pty), read from a file or standard input; the old argv form still works and
warns."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from facevault.cli.main import main
from tests.helpers.vaults import create


@pytest.fixture()
def vault(tmp_path: Path) -> tuple[Path, str]:
    v = np.random.default_rng(11).standard_normal(512)
    created = create(tmp_path / "v", v / np.linalg.norm(v))
    created.vault.add_bytes("a.txt", b"x")
    created.vault.close()
    return tmp_path / "v", created.recovery_code


def _read_until(fd: int, wanted: bytes, seconds: float = 30.0) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_the_recovery_code_is_asked_for_on_a_terminal_and_not_echoed(vault: tuple[Path, str]) -> None:
    path, code = vault
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with the pty as its controlling terminal
        os.execv(sys.executable, [sys.executable, "-m", "facevault", "ls", str(path), "--ask-recovery-code"])
    try:
        before = _read_until(fd, b"Recovery code: ")
        assert b"Recovery code: " in before, before
        os.write(fd, code.encode() + b"\n")
        after = _read_until(fd, b"a.txt")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, after
    assert b"a.txt" in after
    assert code.encode() not in before + after  # nothing echoed


def test_the_argv_form_still_works_and_warns(vault: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, code = vault
    assert main(["ls", str(path), "--recovery-code", code]) == 0
    err = capsys.readouterr().err
    assert "warning: --recovery-code puts the secret on the command line" in err
    assert "--ask-recovery-code" in err


def test_a_code_file_gives_no_warning(vault: tuple[Path, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path, code = vault
    (tmp_path / "code").write_text(code + "\n")
    assert main(["ls", str(path), "--recovery-code-from", str(tmp_path / "code")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_two_ways_at_once_is_a_usage_error(vault: tuple[Path, str], tmp_path: Path) -> None:
    path, code = vault
    (tmp_path / "code").write_text(code)
    assert main(["ls", str(path), "--recovery-code", code, "--recovery-code-from", str(tmp_path / "code")]) == 2


def test_pairing_import_asks_without_a_terminal_it_says_how(vault: tuple[Path, str],
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    path, _code = vault
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["device", "import", str(path), "--face", "camera:0"]) == 2
    err = capsys.readouterr().err
    assert "--code-file" in err
