"""`facevault bench cloak` end to end on a few real LFW pairs (own model only: the held-out
model is an optional extra), and its measures on known inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facevault.bench.cloak import _impostor_quantile, ssim_psnr

REPO = Path(__file__).resolve().parents[2]
LFW = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data")) / "lfw-dev"


def test_ssim_and_psnr_on_known_images() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert ssim_psnr(a, a) == (pytest.approx(1.0), pytest.approx(1.0), 99.0)
    b = np.clip(a.astype(int) + rng.choice([-8, 8], a.shape), 0, 255).astype(np.uint8)
    luma, rgb, psnr = ssim_psnr(a, b)
    assert 0.5 < luma < 1.0 and 0.5 < rgb < 1.0
    assert 29 < psnr < 31  # MSE 64 (less where clipped): about 30.1 dB


def test_the_far_threshold_is_the_impostor_quantile() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(300, 16))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    ids = [str(i // 3) for i in range(300)]
    thr, n = _impostor_quantile(v, ids, 1e-2, distance=False)
    scores = v @ v.T
    iu = np.triu_indices(300, 1)
    imp = scores[iu][np.array(ids)[iu[0]] != np.array(ids)[iu[1]]]
    assert n == imp.size and abs(np.mean(imp > thr) - 1e-2) < 1e-3


@pytest.mark.skipif(not (LFW / "pairsDevTest.txt").is_file(), reason="the shared LFW photos are not beside the repository")
@pytest.mark.skipif(not (REPO / "models" / "fr_feature.onnx").is_file(), reason="models not installed")
def test_bench_cloak_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "cloak.json"
    r = subprocess.run([sys.executable, "-m", "facevault", "bench", "cloak", "--data", str(LFW), "--limit", "2",
                        "--threshold-photos", "40", "--no-heldout", "--examples", str(tmp_path / "ex"),
                        "--json", str(out)], capture_output=True, text=True, timeout=900, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "face-region SSIM" in r.stdout and "own model: verification fails" in r.stdout
    d = json.loads(out.read_text())["default"]
    assert d["pairs"] == 2 and d["heldout_model"] is None
    assert 0.9 < d["face_ssim_median"] < 1.0
    v = d["variants"]
    assert v["png"]["ironmask_opens"] == 0 and v["png"]["own_verification_fails"] == 2
    assert v["original"]["own_cosine_median"] > v["png"]["own_cosine_median"] + 0.4
    assert len(list((tmp_path / "ex").glob("*.png"))) == 2


def test_the_held_out_model_is_checked_before_it_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facevault.bench import heldout
    from facevault.errors import ModelError

    fake = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="sha256"):
        heldout._checked(str(fake))
    monkeypatch.setattr(heldout, "available", lambda: False)
    with pytest.raises(ModelError, match="not installed") as err:
        heldout.HeldOutModel()
    assert "face-recognition-models" in (err.value.hint or "")


def test_flip_sees_no_difference_in_the_same_picture_and_more_in_a_larger_change() -> None:
    from facevault.bench.cloak import flip_error

    pytest.importorskip("flip_evaluator")
    rng = np.random.default_rng(2)
    a = np.clip(rng.normal(120, 20, (96, 96, 3)), 0, 255).astype(np.uint8)
    assert flip_error(a, a) == pytest.approx(0.0, abs=1e-6)
    noise = rng.choice([-1.0, 1.0], a.shape)
    small, large = (np.clip(a + k * noise, 0, 255).astype(np.uint8) for k in (2, 8))
    assert 0 < flip_error(a, small) < flip_error(a, large)  # type: ignore[operator]
