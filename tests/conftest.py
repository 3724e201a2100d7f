"""Test-wide settings.

OpenBLAS threads fight for the two cores of these machines (a 300-decode IronMask test went
from 0.06 s to 5 s); one BLAS thread per process keeps the suite fast and steady. This must
run before numpy is imported, which is why it sits at the top of the root conftest.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# FaceVault keeps per-user state (this device's id, the pins of the vaults it opened) in its
# data dir. Tests never touch the real one: a fresh one per session, and per test below.
import tempfile  # noqa: E402

os.environ["FACEVAULT_DATA_DIR"] = tempfile.mkdtemp(prefix="facevault-test-data-")
os.environ["FACEVAULT_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="facevault-test-runtime-")
# The benchmarks keep no embedding on disk unless asked; the tests ask, for the shared
# benchmark photos only, so that their CLI runs in subprocesses embed each photo once.
os.environ.setdefault("FACEVAULT_BENCH_CACHE", tempfile.mkdtemp(prefix="facevault-test-embeddings-"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is a computer of its own: its own device id and pins."""
    monkeypatch.setenv("FACEVAULT_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("FACEVAULT_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime") / "facevault"))
