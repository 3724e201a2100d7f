"""`facevault cloak` on real photos with the real models: every face is cloaked and checked
again on the written file, the output holds pixels only (no EXIF), the original is never
touched, and bad input (no face, not an image, the input as output, an existing output)
gets a clear error, its exit code and no file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data"))
PHOTOS = DATA / "photos"

pytestmark = [
    pytest.mark.skipif(not PHOTOS.is_dir(), reason="the shared photos are not beside the repository"),
    pytest.mark.skipif(not (REPO / "models" / "fr_feature.onnx").is_file(), reason="models not installed"),
]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "facevault", "cloak", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_face_is_cloaked_checked_and_written_without_metadata(tmp_path: Path) -> None:
    import cv2

    src = tmp_path / "couple.jpg"
    shutil.copyfile(PHOTOS / "multi-face" / "couple.jpg", src)
    assert b"Exif" in src.read_bytes()[:70000]
    before = _digest(src)
    out = tmp_path / "shared.jpg"
    r = _run(src, "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(report["faces"]) == 2
    for face in report["faces"]:
        assert face["found_again"] and not face["opens_vault"] and face["protected"], face
        assert face["cosine_after"] < 0.3
    assert _digest(src) == before
    data = out.read_bytes()
    assert b"Exif" not in data and b"http://ns.adobe.com/xap" not in data
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    original = cv2.imread(str(src))
    cloaked = cv2.imread(str(out))
    assert cloaked.shape == original.shape  # full size, not the detector's copy
    changed = np.abs(cloaked.astype(int) - original.astype(int)).max(axis=2) > 12
    assert changed.any()
    for face in report["faces"]:  # the mask is on the faces; elsewhere only JPEG's re-encoding
        x, y, w, h = face["box"]
        changed[max(0, y - h // 4): y + h + h // 4, max(0, x - w // 4): x + w + w // 4] = False
    assert changed.mean() < 0.002


def test_a_photo_without_a_face_writes_nothing_and_exits_4(tmp_path: Path) -> None:
    import cv2

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((300, 400, 3), 180, np.uint8))
    r = _run(blank)
    assert r.returncode == 4, r.stderr
    assert "no face" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wall.png"]


def test_the_original_is_never_the_output_and_outputs_are_not_replaced(tmp_path: Path) -> None:
    src = tmp_path / "me.jpg"
    shutil.copyfile(PHOTOS / "id01" / "img1.jpg", src)
    before = _digest(src)
    r = _run(src, "-o", src, "--overwrite")
    assert r.returncode == 2 and "never overwritten" in r.stderr
    link = tmp_path / "link.jpg"
    link.symlink_to(src)
    r = _run(src, "-o", link, "--overwrite")
    assert r.returncode == 2
    taken = tmp_path / "me-cloaked.jpg"
    taken.write_bytes(b"keep me")
    r = _run(src)
    assert r.returncode == 2 and "already exists" in r.stderr
    assert taken.read_bytes() == b"keep me" and _digest(src) == before


def test_several_photos_go_on_past_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "a.jpg"
    shutil.copyfile(PHOTOS / "id01" / "img1.jpg", good)
    bad = tmp_path / "b.jpg"
    bad.write_bytes((PHOTOS / "id01" / "img1.jpg").read_bytes()[:300_000])  # a JPEG cut short
    folder = tmp_path / "out"
    folder.mkdir()
    r = _run(bad, good, "-o", folder, "--strength", "low", "--format", "png")
    assert r.returncode == 4, r.stderr
    assert "truncated" in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["a-cloaked.png"]


def test_a_missing_second_model_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    """An older models folder without the cloak's second face model: exit code 5, the
    message names the model and the command that installs it, no output file."""
    if not (REPO / "models" / "hse_faceres.onnx").is_file():
        pytest.skip("the cloak's second model is not installed")
    models = tmp_path / "models"
    models.mkdir()
    for f in ("manifest.json", "face_landmarker.task", "fr_feature.onnx", "fr_liveness.onnx"):
        (models / f).symlink_to(REPO / "models" / f)
    src = tmp_path / "p.jpg"
    shutil.copyfile(PHOTOS / "id01" / "img1.jpg", src)
    env = {**os.environ, "FACEVAULT_MODELS_DIR": str(models), "FACEVAULT_CONFIG_DIR": str(tmp_path / "cfg")}
    r = subprocess.run([sys.executable, "-m", "facevault", "cloak", str(src)], capture_output=True, text=True,
                       timeout=600, cwd=REPO, env=env)
    assert r.returncode == 5, r.stderr
    assert "hse_faceres" in r.stderr and "facevault models install" in r.stderr
    assert {p.name for p in tmp_path.iterdir()} - {"cfg"} == {"models", "p.jpg"}
