"""An unlock reads the vault's epoch headers once (the CLI and the GUI both go through
services.unlock.LockedVault), counted with an audit hook on open()."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.vaults import create, offer
from tests.helpers.vectors import at_angle

_WATCHED: list[str] = []
_OPENS: list[str] = []


def _hook(event: str, args: tuple) -> None:
    if event == "open" and _WATCHED and str(args[0]) in _WATCHED:
        _OPENS.append(str(args[0]))


sys.addaudithook(_hook)  # audit hooks cannot be removed: it only counts while _WATCHED is set


@pytest.fixture
def header_opens(tmp_path: Path) -> Iterator[list[str]]:
    """Counts opens of the vault's header files (watched once the test made the vault)."""
    _OPENS.clear()
    yield _OPENS
    _WATCHED.clear()


def _watch(vault: Path) -> None:
    _WATCHED[:] = [str(p) for p in (vault / "headers").glob("*.fvh")]
    assert _WATCHED
    _OPENS.clear()


def test_a_face_unlock_reads_the_header_once(tmp_path: Path, face: np.ndarray, rng, header_opens) -> None:
    from facevault.services.unlock import LockedVault

    create(tmp_path / "v", face, mode="face+passphrase", passphrase="long enough")
    _watch(tmp_path / "v")
    locked = LockedVault.read(tmp_path / "v")
    assert locked.needs_passphrase  # what to ask for comes from the same read
    unlocked = locked.open(offer(faces=[at_angle(face, 20, rng)], passphrase="long enough"))
    unlocked.vault.entries()
    assert len(header_opens) == 1


def test_a_cli_unlock_reads_the_header_once(tmp_path: Path, face: np.ndarray, header_opens,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from facevault.cli.main import main

    created = create(tmp_path / "v", face)
    created.vault.add_bytes("a.txt", b"1")
    _watch(tmp_path / "v")
    assert main(["ls", str(tmp_path / "v"), "--recovery-code", created.recovery_code]) == 0
    assert "a.txt" in capsys.readouterr().out
    assert len(header_opens) == 1
