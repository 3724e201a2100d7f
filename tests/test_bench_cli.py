"""`facevault bench` and `facevault debug embed`: parser shape, LFW maths, and short real
runs on the shared photos (skipped when they are absent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facevault.bench.lfw import best_threshold, read_pairs, tar_at_far
from facevault.cli.main import build_parser, main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data"))
needs_data = pytest.mark.skipif(
    not (DATA / "photos").is_dir() or not (REPO / "models" / "fr_feature.onnx").is_file(),
    reason=f"shared photos ({DATA}) or models not available",
)


def test_bench_is_a_group_with_speed_and_lfw() -> None:
    parser = build_parser()
    args = parser.parse_args(["bench", "speed", "--source", "x.jpg", "--frames", "7"])
    assert args.bench_command == "speed" and args.frames == 7 and callable(args.func)
    args = parser.parse_args(["bench", "lfw", "--data", "d", "--pairs", "p.txt"])
    assert args.bench_command == "lfw" and args.pairs == Path("p.txt")
    args = parser.parse_args(["debug", "embed", "a.jpg", "b", "--json"])
    assert args.paths == ["a.jpg", "b"] and args.json


def test_importing_the_cli_stays_light() -> None:
    code = (
        "import sys, facevault.cli.main as m; m.build_parser(); "
        "print(sorted(k for k in ('cv2','mediapipe','onnxruntime') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_best_threshold_and_tar() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    same = np.array([0, 0, 0, 1, 1, 1], bool)
    t, acc = best_threshold(scores, same)
    assert acc == 1.0 and 0.3 < t < 0.6
    t, acc = best_threshold(np.array([0.1, 0.5, 0.4, 0.9]), np.array([0, 0, 1, 1], bool))
    assert acc == 0.75
    impostor = np.linspace(-0.3, 0.3, 10_000)
    genuine = np.array([0.2, 0.299, 0.31, 0.5])
    tar, thr = tar_at_far(genuine, impostor, 1e-3)
    assert (impostor >= thr).mean() <= 1e-3 and 0.29 < thr < 0.31 and tar == 0.5


def test_read_pairs(tmp_path: Path) -> None:
    f = tmp_path / "pairs.txt"
    f.write_text("2\nAbc_Def\t1\t3\nAbc_Def\t2\tGhi_Jkl\t11\n")
    pairs = read_pairs(f, tmp_path)
    assert pairs[0].same and pairs[0].b == tmp_path / "Abc_Def" / "Abc_Def_0003.jpg"
    assert not pairs[1].same and pairs[1].b.name == "Ghi_Jkl_0011.jpg"


@needs_data
def test_debug_embed_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = DATA / "photos" / "id05" / "img14.jpg"
    multi = DATA / "photos" / "multi-face" / "couple.jpg"
    assert main(["debug", "embed", str(photo), str(multi), "--json"]) == 0
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["ok"] for r in recs] == [True, False]
    v = np.array(recs[0]["embedding"])
    assert v.shape == (512,) and abs(np.linalg.norm(v) - 1) < 1e-5
    assert recs[1]["code"] == "several_faces" and recs[1]["embedding"] is None


@needs_data
def test_debug_embed_without_faces_exits_4(tmp_path: Path) -> None:
    import cv2

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    assert main(["debug", "embed", str(blank)]) == 4


@needs_data
def test_bench_speed_short_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "speed.json"
    rc = main(["bench", "speed", "--source", str(DATA / "photos" / "id06"), "--frames", "8",
               "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for word in ("decode", "landmarks", "align", "embed", "total", "plain", "ratio", "peak RSS"):
        assert word in text
    data = json.loads(out.read_text())
    assert data["frames"] == 8  # the 5-photo folder was looped
    assert data["ok_frames"] == 8 and data["plain_ok_frames"] == 8
    assert data["stages"]["total"]["p50_ms"] > 0 and data["ratio_p50"] > 0


@needs_data
def test_lfw_run_on_a_few_pairs_uses_the_cache(tmp_path: Path) -> None:
    from facevault.bench.lfw import run_lfw

    lfw = DATA / "lfw-dev"
    if not (lfw / "pairsDevTest.txt").is_file():
        pytest.skip("lfw-dev not available")
    lines = (lfw / "pairsDevTest.txt").read_text().splitlines()
    pairs = tmp_path / "pairsDevTest.txt"
    pairs.write_text("\n".join(["4", *lines[1:5], *lines[501:505]]) + "\n")
    cache = tmp_path / "cache"
    r1 = run_lfw(lfw, pairs, cache_root=cache)
    files = sorted(cache.rglob("*.npy"))
    assert len(files) == r1.images and r1.test_pairs == 8
    arr = np.load(files[0], allow_pickle=False)
    assert arr.dtype == np.float32 and arr.shape == (512,)
    r2 = run_lfw(lfw, pairs, cache_root=cache)
    assert r2.test_accuracy == r1.test_accuracy and r1.test_accuracy >= 0.75
