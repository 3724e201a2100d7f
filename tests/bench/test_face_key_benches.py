"""The ranking and policy benchmarks on synthetic identities (the lfw-dev runs are in
docs/BENCHMARKS.md): the plain helper finds its owner, the hidden ones do not; the policy
replay agrees with the decoder it replays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facevault.bench.images import ImageSet
from facevault.bench.policy import far_upper, run_policy
from facevault.bench.ranking import ranking_scores, run_ranking, wilson


def _images(people: int, per: int, angle: float, seed: int = 0) -> ImageSet:
    rng = np.random.default_rng(seed)
    rows, ids, paths = [], [], []
    for p in range(people):
        t = rng.standard_normal(512)
        t /= np.linalg.norm(t)
        for k in range(per):
            n = rng.standard_normal(512)
            n -= n @ t * t
            n /= np.linalg.norm(n)
            th = np.radians(angle)
            rows.append(np.cos(th) * t + np.sin(th) * n)
            ids.append(f"p{p:03d}")
            paths.append(Path(f"p{p:03d}/{k}.jpg"))
    v = np.stack(rows)
    ok = np.ones(len(rows), dtype=bool)
    return ImageSet(tuple(paths), tuple(ids), v, ok, ok)


def test_the_plain_helper_finds_its_owner_and_the_hidden_ones_do_not() -> None:
    images = _images(people=300, per=3, angle=25)
    rows = {r.mode: r for r in run_ranking(images, owners=30, presets=("default",))}
    assert rows["face"].rank1 >= 27 and rows["face"].opened >= 27
    for mode in ("face+device", "face+passphrase"):
        assert rows[mode].rank1 <= 3 and rows[mode].median_rank > 50  # like chance: 1/300


def test_the_score_is_the_cosine_for_a_face_that_decodes() -> None:
    from facevault.core import ironmask

    rng = np.random.default_rng(3)
    t = rng.standard_normal(512)
    t /= np.linalg.norm(t)
    helper, _c = ironmask.enroll(t, ironmask.PRESETS["default"])
    s = ranking_scores(helper.matrix, t[None, :], helper.params.alpha)
    assert abs(float(s[0]) - 1.0) < 1e-5


def test_the_policy_replay_counts_what_the_decoder_accepts() -> None:
    images = _images(people=60, per=6, angle=30, seed=1)
    (row,) = run_policy(images, alphas=[11], enroll_k=3, probe_m=1)
    assert row.genuine == 60 * 3 and row.tar > 0.9
    assert row.impostor == 60 * (59 * 6) and row.impostor_accepts == 0
    assert row.far_upper == far_upper(0, row.impostor) == 3 / row.impostor
    low, high = wilson(5, 10)
    assert 0.2 < low < 0.5 < high < 0.8
