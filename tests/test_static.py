"""Checks on the source itself: the layer contracts (import-linter, configured in
pyproject.toml) and the type check (mypy, configured there too) both pass; every module
says what it is, guards `__all__` and stays short; library hints never name a front end's
controls; no `Any` in a public signature below the front ends; the CLI starts light."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "facevault"
BIN = Path(sys.executable).parent
MODULES = sorted(PKG.rglob("*.py"))
MAX_LINES = 450
LIBRARY = ("core", "vision", "services", "modelstore")


def _tool(name: str) -> str:
    exe = BIN / name
    if exe.is_file():
        return str(exe)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (setup.sh installs the dev extra, which has it)")
    return found


def test_layer_contracts_hold() -> None:
    out = subprocess.run([_tool("lint-imports"), "--config", str(ROOT / "pyproject.toml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_types_check() -> None:
    env = {**os.environ, "MYPY_CACHE_DIR": str(ROOT / ".mypy_cache")}
    out = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=1200,
                         env=env)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]


def test_the_checker_sees_a_broken_layer(tmp_path: Path) -> None:
    """The contracts can fail: a core module importing a service breaks the layers."""
    pkg = tmp_path / "facevault"
    shutil.copytree(PKG, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "core" / "evil.py").write_text('"""x"""\nimport facevault.services.unlock\n')
    out = subprocess.run([_tool("lint-imports"), "--config", str(ROOT / "pyproject.toml")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode != 0 and "facevault.core.evil" in out.stdout


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_module_opens_with_a_docstring() -> None:
    missing = [_rel(p) for p in MODULES if ast.get_docstring(_tree(p)) is None]
    assert missing == []


def test_no_product_module_is_longer_than_the_limit() -> None:
    long = {_rel(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _all_names(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    return None


def _defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If):  # platform branches
            for sub in node.body + node.orelse:
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
    return names


@pytest.mark.parametrize("path", [p for p in MODULES if p.name not in ("__main__.py",)],
                         ids=lambda p: _rel(p))
def test_all_is_guarded(path: Path) -> None:
    """Every module declares __all__; each name exists, once; every public class or function
    it defines is listed (packages' __init__ may re-export)."""
    tree = _tree(path)
    names = _all_names(tree)
    if path.name == "__init__.py" and names is None and len(tree.body) <= 1:
        return  # a package that is only its docstring
    assert names is not None, f"{_rel(path)} has no __all__"
    assert [n for n, c in Counter(names).items() if c > 1] == []
    defined = _defined(tree)
    assert [n for n in names if n not in defined] == []
    public = {node.name for node in tree.body
              if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")}
    assert sorted(public - set(names)) == []


def _hint_literals(path: Path) -> list[str]:
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "hint" and isinstance(kw.value, (ast.Constant, ast.JoinedStr)):
                    out.append(ast.unparse(kw.value))
    return out


def test_library_hints_name_no_front_end_control() -> None:
    """Hints raised below the front ends are front-end-free: no CLI flag, no command (those
    are errors.Hint members, worded by the CLI and the GUI)."""
    bad = []
    for path in MODULES:
        if path.relative_to(PKG).parts[0] not in LIBRARY:
            continue
        for text in _hint_literals(path):
            if " --" in text or "`facevault" in text or "'--" in text or '"--' in text:
                bad.append(f"{_rel(path)}: {text}")
    assert bad == []


def _annotations(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    args = fn.args
    every = args.posonlyargs + args.args + args.kwonlyargs
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.annotation for a in every if a.annotation is not None] + (
        [fn.returns] if fn.returns is not None else [])


def test_no_any_in_public_signatures_below_the_front_ends() -> None:
    bad = []
    for path in MODULES:
        if path.relative_to(PKG).parts[0] not in LIBRARY:
            continue
        tree = _tree(path)
        scopes: list[ast.AST] = [tree] + [n for n in tree.body if isinstance(n, ast.ClassDef)
                                          and not n.name.startswith("_")]
        for scope in scopes:
            for fn in getattr(scope, "body", []):
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if fn.name.startswith("_") and not fn.name.startswith("__"):
                    continue
                for ann in _annotations(fn):
                    if any(isinstance(n, ast.Name) and n.id == "Any" for n in ast.walk(ann)):
                        bad.append(f"{_rel(path)}:{fn.lineno} {fn.name}")
    assert bad == []


def test_hypothesis_strategies_live_in_one_module() -> None:
    own = {"strategies.py", Path(__file__).name}
    needles = ("hypothesis import strategies", "strategies as st")
    bad = [_rel(p) for p in (ROOT / "tests").rglob("*.py")
           if p.name not in own and any(n in p.read_text() for n in needles)]
    assert bad == []


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
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
