"""facevault.paths in a PyInstaller build: models and manifest come from the bundle.

The frozen branch is decided by sys.frozen and sys._MEIPASS, which PyInstaller's
bootloader sets; here they are set by hand, so this runs in every test run (fast).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from facevault import paths


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    bundle = tmp_path / "_internal"
    (bundle / "models").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.delenv("FACEVAULT_MODELS_DIR", raising=False)
    monkeypatch.delenv("FACEVAULT_MANIFEST", raising=False)
    return bundle


def test_not_frozen_has_no_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert paths.bundle_root() is None


def test_frozen_uses_bundle_models(frozen: Path) -> None:
    assert paths.bundle_root() == frozen
    assert paths.models_dir() == frozen / "models"
    assert paths.manifest_path() == frozen / "models" / "manifest.json"


def test_env_overrides_win_over_bundle(frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACEVAULT_MODELS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("FACEVAULT_MANIFEST", str(tmp_path / "mine" / "m.json"))
    assert paths.models_dir() == tmp_path / "mine"
    assert paths.manifest_path() == tmp_path / "mine" / "m.json"


def test_frozen_without_meipass_is_not_a_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # other freezers (cx_Freeze, py2exe) set sys.frozen but lay files out differently
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert paths.bundle_root() is None
