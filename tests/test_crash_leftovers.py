"""What a crash leaves, and who cleans it: a `get` killed with SIGKILL half-way leaves an
owner-only `.fvtmp-*.part` beside the output, and the next write into that folder removes
it; a writer that is alive keeps its partial file; the desktop app's Open copies of a
crashed session are swept at the next start, a live session's are not."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from facevault.core import fsutil
from facevault.services.desktop import PrivateCopies
from tests.helpers.vaults import create


def _face() -> np.ndarray:
    v = np.random.default_rng(5).standard_normal(512)
    return v / np.linalg.norm(v)


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(fsutil.TEMP_PREFIX)]


def test_a_killed_get_leaves_an_owner_only_partial_that_the_next_write_removes(tmp_path: Path) -> None:
    created = create(tmp_path / "v", _face())
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20) * 256)  # 256 MiB: long enough to kill half-way
    for _ in created.vault.add_file(big, "big.bin"):
        pass
    created.vault.close()
    big.unlink()
    code = tmp_path / "code.txt"
    code.write_text(created.recovery_code)
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "facevault", "get", str(tmp_path / "v"), "big.bin", "-o", str(out / "big.bin"),
           "--recovery-code-from", str(code)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = [p for p in _partials(out) if p.name.endswith(fsutil.PARTIAL_SUFFIX)]
        if parts and parts[0].stat().st_size > (8 << 20):
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _partials(out)
    assert left and not (out / "big.bin").exists()
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)  # decrypted bytes, owner-only

    fsutil.write_private(out / "other.txt", b"next write into the folder")
    assert _partials(out) == []


def test_a_live_writers_partial_is_never_swept(tmp_path: Path) -> None:
    with fsutil.atomic_write(tmp_path / "slow.txt") as out:
        out.write(b"half")
        assert fsutil.sweep_partials(tmp_path) == 0  # its lock is held: a live writer
        assert len(_partials(tmp_path)) == 1
    assert (tmp_path / "slow.txt").read_bytes() == b"half" and _partials(tmp_path) == []


_SESSION = """
import sys, time
from pathlib import Path
from facevault.services.desktop import PrivateCopies
copies = PrivateCopies(Path(sys.argv[1]))
target = copies.target("secret.txt")
target.write_bytes(b"decrypted")
print(target, flush=True)
time.sleep(600)
"""


def test_open_copies_of_a_crashed_session_are_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    base = tmp_path / "runtime"
    crashed = subprocess.Popen([sys.executable, "-c", _SESSION, str(base)], stdout=subprocess.PIPE, text=True)
    live = subprocess.Popen([sys.executable, "-c", _SESSION, str(base)], stdout=subprocess.PIPE, text=True)
    try:
        assert crashed.stdout is not None and live.stdout is not None
        crashed_file, live_file = Path(crashed.stdout.readline().strip()), Path(live.stdout.readline().strip())
        assert stat.S_IMODE(base.stat().st_mode) == 0o700
        crashed.kill()
        crashed.wait()
        assert crashed_file.exists()
        assert PrivateCopies(base).sweep() == 1
        assert not crashed_file.exists() and live_file.read_bytes() == b"decrypted"
    finally:
        live.kill()
        live.wait()


def test_without_a_runtime_dir_open_copies_go_to_the_cache_dir_not_tmp(monkeypatch, tmp_path: Path) -> None:
    import warnings

    from facevault import paths

    monkeypatch.delenv("FACEVAULT_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("FACEVAULT_CACHE_DIR", str(tmp_path / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # platformdirs warns when it falls back to /tmp
        where = paths.runtime_dir()
    if sys.platform.startswith("linux"):
        assert where == tmp_path / "cache" / "runtime"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert paths.runtime_dir() == tmp_path / "facevault"
