"""The package layers of docs/ARCHITECTURE.md, checked on the source instead of by memory."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "facevault"

QT = {"PySide6", "PyQt5", "PyQt6", "shiboken6"}
VISION_LIBS = {"cv2", "mediapipe", "onnxruntime"}
FORBIDDEN = {
    "core": QT | VISION_LIBS | {"keyring", "platformdirs", "facevault.vision", "facevault.services",
                                "facevault.cli", "facevault.gui", "facevault.modelstore", "pickle"},
    "vision": QT | {"keyring", "facevault.services", "facevault.cli", "facevault.gui", "pickle"},
    "services": QT | {"facevault.cli", "facevault.gui", "pickle"},
    "cli": QT | {"facevault.gui.widgets", "pickle"},
    "modelstore.py": QT | VISION_LIBS | {"pickle"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violations(part: str) -> list[str]:
    target = PKG / part
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    bad = []
    for file in files:
        for name in _imports(file):
            for banned in FORBIDDEN[part]:
                if name == banned or name.startswith(banned + "."):
                    bad.append(f"{file.relative_to(PKG.parent)} imports {name}")
    return bad


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_layer_imports(part: str) -> None:
    if not (PKG / part).exists():
        pytest.skip(f"facevault/{part} does not exist yet")
    assert _violations(part) == []


def test_only_gui_imports_qt() -> None:
    bad = []
    for file in PKG.rglob("*.py"):
        if "gui" in file.relative_to(PKG).parts:
            continue
        if any(n.split(".")[0] in QT for n in _imports(file)):
            bad.append(str(file))
    assert bad == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import cv2\nfrom PySide6.QtWidgets import QWidget\n")
    assert {"cv2", "PySide6.QtWidgets", "PySide6.QtWidgets.QWidget"} <= _imports(sample)


def test_cli_start_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; import facevault.cli.main as m; m.build_parser();"
        "heavy = [n for n in ('cv2','mediapipe','onnxruntime','PySide6','keyring') if n in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_test_files_have_unique_basenames() -> None:
    """pytest's default import mode stops the whole run when two test files share a name."""
    from collections import Counter

    names = Counter(p.name for p in (PKG.parent / "tests").rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
