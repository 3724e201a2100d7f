"""README's table "What FaceVault writes where, with which permissions", checked: each row
is produced by the real code path and every file and folder it made is compared with the
permissions the row states. A row nobody checks fails the test, so the table cannot drift."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facevault.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"
NOT_CHECKED = {
    "device secrets": "held by the OS keyring, which sets its own permissions",
    "the installed app": "checked by the packaging tests (tests/packaging)",
}


def _table() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### What FaceVault writes where, with which permissions", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("what", "---"):
            rows[cells[0]] = cells[2]
    return rows


def _expected(permissions: str) -> tuple[int | None, int | None]:
    """(folder mode, file mode) from a cell like '0700 folders, 0600 files' or '0600'."""
    folder = re.search(r"(0[0-7]{3}) folders?", permissions)
    file = re.search(r"(0[0-7]{3}) files?", permissions)
    if folder or file:
        return (int(folder.group(1), 8) if folder else None, int(file.group(1), 8) if file else None)
    single = re.match(r"(0[0-7]{3})", permissions)
    assert single, permissions
    return int(single.group(1), 8), int(single.group(1), 8)


def _face(seed: int = 4) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(512)
    return v / np.linalg.norm(v)


def _under(root: Path) -> list[Path]:
    found = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        found += [Path(dirpath) / n for n in dirnames + filenames]
    return found


# Each producer makes the row's files in `tmp` and returns the paths to check: the folder
# and files it created (a folder is checked against the folder mode, a file the file mode).

def vault_folder(tmp: Path) -> list[Path]:
    from tests.helpers.vaults import create

    created = create(tmp / "v", _face())
    created.vault.add_bytes("a.txt", b"x")
    created.vault.compact()
    created.vault.close()
    return [p for p in _under(tmp / "v") if p.is_dir()]


def vault_files(tmp: Path) -> list[Path]:
    vault_folder(tmp)
    return [p for p in _under(tmp / "v") if p.is_file()]


def _vault_and_code(tmp: Path) -> tuple[Path, Path]:
    from tests.helpers.vaults import create

    created = create(tmp / "v", _face())
    created.vault.add_bytes("a.txt", b"secret")
    created.vault.close()
    code = tmp / "code.txt"
    code.write_text(created.recovery_code)
    return tmp / "v", code


def taken_out(tmp: Path) -> list[Path]:
    vault, code = _vault_and_code(tmp)
    assert main(["get", str(vault), "a.txt", "-o", str(tmp / "got.txt"), "--recovery-code-from", str(code)]) == 0
    return [tmp / "got.txt"]


def opened_by_the_app(tmp: Path) -> list[Path]:
    from facevault.services.desktop import PrivateCopies
    from tests.helpers.vaults import offer, unlock

    vault, code = _vault_and_code(tmp)
    opened = unlock(vault, offer(code=code.read_text()))
    copies = PrivateCopies(tmp / "runtime")
    target = copies.target("a.txt")
    for _ in opened.extract("a.txt", target, overwrite=True):
        pass
    return _under(tmp / "runtime")


def saved_codes(tmp: Path) -> list[Path]:
    from facevault.cli.output import show_recovery_code

    show_recovery_code("ABCDE-FGHJK", tmp / "code.txt", what="a test")
    return [tmp / "code.txt"]


def single_files(tmp: Path) -> list[Path]:
    from facevault.services import files

    ident, _code = files.new_identity(_face())
    files.write_identity(tmp / "me.fvid", ident)
    (tmp / "plain.txt").write_bytes(b"hello")
    for _ in files.encrypt_to(tmp / "plain.txt", tmp / "x.fvf", ident):
        pass
    return [tmp / "me.fvid", tmp / "x.fvf"]


def remembered(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    data = tmp / "data"
    monkeypatch.setenv("FACEVAULT_DATA_DIR", str(data))
    vault, code = _vault_and_code(tmp)
    assert main(["ls", str(vault), "--recovery-code-from", str(code)]) == 0
    return _under(data)


def settings(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    from facevault.services.settings import Settings, SettingsStore

    monkeypatch.setenv("FACEVAULT_CONFIG_DIR", str(tmp / "config"))
    SettingsStore().save(Settings())
    return _under(tmp / "config")


def verified_models(tmp: Path) -> list[Path]:
    from facevault.modelstore import check
    from facevault.modelstore.manifest import ModelEntry

    model = tmp / "models" / "m.onnx"
    model.parent.mkdir()
    model.write_bytes(b"not really a model")
    entry = next(e for e in check.all_entries())
    fake = ModelEntry(**{**entry.__dict__, "path": model})  # type: ignore[arg-type]
    check._cache_store(fake, 18, model.stat().st_mtime_ns)
    return _under(tmp / "models" / ".cache")


def models(tmp: Path) -> list[Path]:
    from facevault import modelstore, paths

    found = [p for p in paths.models_dir().iterdir() if p.suffix in (".onnx", ".task")]
    if not found:
        pytest.skip("no models installed (setup.sh installs them)")
    del modelstore
    return found


def bench_embeddings(tmp: Path) -> list[Path]:
    from facevault.bench.images import ImageEmbedder

    photos = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "id01"
    if not photos.is_dir():
        pytest.skip("needs ../shared/data/photos")
    embedder = ImageEmbedder(None, tmp / "cache")
    try:
        embedder.get(sorted(photos.glob("*.jpg"))[0])
    finally:
        embedder.close()
    return _under(tmp / "cache")


def cloaked_photos(tmp: Path) -> list[Path]:
    import shutil

    from facevault import paths

    photo = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "id01" / "img1.jpg"
    if not photo.is_file() or not (paths.models_dir() / "fr_feature.onnx").is_file():
        pytest.skip("needs ../shared/data/photos and the models")
    shutil.copyfile(photo, tmp / "me.jpg")
    assert main(["cloak", str(tmp / "me.jpg"), "--strength", "low"]) == 0
    return [tmp / "me-cloaked.jpg"]


PRODUCERS: dict[str, Callable[..., list[Path]]] = {
    "vault folder": vault_folder,
    "vault files": vault_files,
    "files you take out": taken_out,
    "files the app opens": opened_by_the_app,
    "recovery and pairing codes you save": saved_codes,
    "single encrypted files and identities": single_files,
    "cloaked photos": cloaked_photos,
    "what this computer remembers of each vault": remembered,
    "settings, recent vaults, registered models": settings,
    "which model files were verified (sizes and sha256, to skip re-hashing)": verified_models,
    "models": models,
    "benchmark embeddings": bench_embeddings,
}


def test_every_row_is_checked_or_says_why_not() -> None:
    rows = set(_table())
    assert rows == set(PRODUCERS) | set(NOT_CHECKED), rows ^ (set(PRODUCERS) | set(NOT_CHECKED))


@pytest.mark.parametrize("row", sorted(PRODUCERS))
def test_the_row_holds(row: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder_mode, file_mode = _expected(_table()[row])
    producer = PRODUCERS[row]
    takes_patch = "monkeypatch" in producer.__code__.co_varnames[: producer.__code__.co_argcount]
    made = producer(tmp_path, monkeypatch) if takes_patch else producer(tmp_path)
    assert made, row
    for path in made:
        st = path.lstat()
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            if folder_mode is not None:
                assert mode == folder_mode, f"{path}: {oct(mode)}, README says {oct(folder_mode)}"
        elif file_mode is not None:
            assert mode == file_mode, f"{path}: {oct(mode)}, README says {oct(file_mode)}"
