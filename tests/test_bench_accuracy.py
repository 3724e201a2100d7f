"""bench accuracy: trial construction, the fast decoder against the app's IronMask decoder,
the baseline figures, and the CLI on a handful of real LFW identities (skipped without data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facevault.bench import accuracy as acc
from facevault.bench.trials import impostor_columns
from facevault.core import ironmask

LFW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw-dev"


def _synthetic(ids: int = 12, per: int = 4, angle_deg: float = 20.0, seed: int = 0) -> acc.ImageSet:
    """Identities as random unit centres; each image is its centre moved by `angle_deg`."""
    rng = np.random.default_rng(seed)
    rows, names = [], []
    for k in range(ids):
        c = rng.standard_normal(512)
        c /= np.linalg.norm(c)
        for _ in range(per):
            n = rng.standard_normal(512)
            n -= (n @ c) * c
            n /= np.linalg.norm(n)
            th = np.radians(angle_deg)
            rows.append(np.cos(th) * c + np.sin(th) * n)
            names.append(f"id{k:02d}")
    paths = tuple(Path(f"{n}/{n}_{i:04d}.jpg") for i, n in enumerate(names))
    v = np.stack(rows)
    return acc.ImageSet(paths, tuple(names), v, np.ones(len(v), bool), np.ones(len(v), bool))


def test_folder_trials_are_seeded_and_disjoint() -> None:
    images = _synthetic(ids=6, per=5)
    t1 = acc.folder_trials(images, enroll_k=2, probe_m=1, seed=3)
    t2 = acc.folder_trials(images, enroll_k=2, probe_m=1, seed=3)
    t3 = acc.folder_trials(images, enroll_k=2, probe_m=1, seed=4)
    assert t1 == t2 and t1.enroll != t3.enroll
    assert len(t1.enroll) == 6
    for e, groups in zip(t1.enroll, t1.genuine):
        assert len(groups) == 3
        probes = {i for g in groups for i in g}
        assert not probes & set(e)
        assert {images.identities[i] for i in probes | set(e)} == {images.identities[e[0]]}
    # K + M larger than any identity: no trial at all
    assert acc.folder_trials(images, enroll_k=5, probe_m=1).enroll == ()


def test_fast_decoder_agrees_with_app_and_separates() -> None:
    images = _synthetic(ids=12, per=4, angle_deg=12.0)
    trials = acc.folder_trials(images, enroll_k=1, probe_m=1, seed=0)
    setting = acc.Setting("t", 512, 16)
    gen, imp = acc.plain_scores(images, trials)
    r = acc.evaluate_setting(setting, images, trials, pool=2, spot_checks=3, plain=(gen, imp))
    assert r.spot_checks > 0 and r.spot_mismatches == 0
    assert r.genuine_trials == 36 and r.impostor_trials == 12 * 44
    assert r.tar == 1.0  # 24 degrees apart at most: always decodes at 512/16
    assert r.far == 0.0 and r.far_upper_95 == pytest.approx(1 - 0.05 ** (1 / r.impostor_trials))


def test_far_counts_collisions_and_list_decoding_only_adds() -> None:
    # far-apart probes: 512/4 decodes much more loosely; impostors are random so still 0
    images = _synthetic(ids=8, per=4, angle_deg=40.0, seed=1)
    trials = acc.folder_trials(images, enroll_k=1, probe_m=1, seed=0)
    plain = acc.evaluate_setting(acc.Setting("p", 512, 16), images, trials, pool=1, spot_checks=2)
    listed = acc.evaluate_setting(acc.Setting("l", 512, 16, candidates=8), images, trials, pool=1,
                                  spot_checks=2)
    assert listed.spot_mismatches == 0 and plain.spot_mismatches == 0
    assert listed.genuine_accepts >= plain.genuine_accepts
    assert 0.0 < plain.tar < 1.0  # ~57 degrees between images: a partial decode rate


def test_candidates_from_projection_matches_decode_candidates() -> None:
    rng = np.random.default_rng(5)
    t = rng.standard_normal(64)
    params = ironmask.IronMaskParams(64, 6)
    helper, _ = ironmask.enroll(t, params)
    probe = t + 0.8 * rng.standard_normal(64) / 8
    y = helper.matrix.astype(np.float64) @ (probe / np.linalg.norm(probe))
    assert ironmask.candidates_from_projection(y, 6, 5) == ironmask.decode_candidates(helper, probe, 5)


def test_baseline_tar_at_far() -> None:
    gen = np.array([0.9, 0.8, 0.5, 0.2])
    imp = np.array([0.1, 0.3, 0.6, 0.0] + [0.0] * 996)
    b = acc.baseline(gen, imp)
    assert b["tar_at_far"]["0"] == 0.5  # above 0.6
    assert b["tar_at_far"]["1e-3"] == 0.75  # one impostor may pass: above 0.3
    assert acc.tar_at_far(gen, imp, 1e-5) == 0.5


def test_fusion_downweights_outliers() -> None:
    images = _synthetic(ids=1, per=5, angle_deg=10.0)
    v = images.vectors.copy()
    v[4] = -v[0]  # an outlier (another face picked)
    images = acc.ImageSet(images.paths, images.identities, v, images.found, images.gate_ok)
    centre = v[:4].mean(axis=0)
    centre /= np.linalg.norm(centre)
    q = acc.fuse_embeddings(images, range(5), "quality")
    m = acc.fuse_embeddings(images, range(5), "mean")
    assert q @ centre > m @ centre


@pytest.mark.skipif(not (LFW / "images").is_dir(), reason="needs /work/shared/data/lfw-dev")
def test_cli_on_real_identities(tmp_path: Path) -> None:
    from facevault.cli.main import main

    data = tmp_path / "faces"
    names = sorted(p.name for p in (LFW / "images").iterdir() if len(list(p.iterdir())) >= 4)[:5]
    for n in names:
        (data / n).mkdir(parents=True)
        for f in sorted((LFW / "images" / n).iterdir())[:4]:
            (data / n / f.name).symlink_to(f)
    out = tmp_path / "a.json"
    assert main(["bench", "accuracy", "--data", str(data), "--enroll", "2", "--probe", "1",
                 "--preset", "tolerant", "--dim", "512", "--alpha", "8", "--json", str(out),
                 "--report", str(tmp_path / "rep"), "--write-far", str(tmp_path / "far.json")]) == 0
    d = json.loads(out.read_text())
    assert isinstance(d["no_face"], list)
    assert set(d["baseline"]["tar_at_far"]) == {"1e-3", "1e-4", "1e-5", "0"}
    assert [s["name"] for s in d["settings"]] == ["512/8", "tolerant"]
    for s in d["settings"]:
        assert {"name", "dim", "alpha", "bits", "tar", "far", "genuine_trials", "impostor_trials"} <= set(s)
        assert s["genuine_trials"] == 10 and s["impostor_trials"] == 5 * 16
        assert s["spot_mismatches"] == 0
    assert (tmp_path / "rep" / "accuracy.md").read_text().count("|") > 20
    assert (tmp_path / "rep" / "accuracy-det.png").stat().st_size > 1000
    from facevault.services import threat

    measured = threat.load_measured(tmp_path / "far.json")
    assert set(measured) == {"tolerant"} and measured["tolerant"].measured
    assert 0 < measured["tolerant"].far <= 1.0


def test_attacks_small_scale() -> None:
    from facevault.bench import attacks

    rng = np.random.default_rng(0)
    t = rng.standard_normal((2, 32))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    lin = attacks.subspace_attack("linear", 128, 4, t, guessed=(1,), starts=4)[0]
    assert lin.successes == lin.trials and lin.subspace_energy == pytest.approx(1.0)
    mix = attacks.subspace_attack("mix25", 128, 4, t, guessed=(1,), starts=4)[0]
    assert mix.subspace_energy < 0.9
    clean = attacks.multisketch_attack(48, 4, 2, 0.0, 47, trials=3)
    assert clean.oracle_successes == 3 and clean.log2_trials == pytest.approx(-clean.log2_p_rows)
    rows = attacks.dictionary_rows([{"name": "x", "bits": 100.0, "far": 0.0, "far_upper_95": 1e-6},
                                    {"name": "y", "bits": 90.0, "far": 1e-4, "far_upper_95": 2e-4}], 0.5)
    assert rows[0].seconds == pytest.approx(0.5e6) and rows[1].log2_guesses == pytest.approx(13.2877, abs=1e-3)


PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos" / "id01"


@pytest.mark.skipif(not PHOTOS.is_dir(), reason="needs /work/shared/data/photos")
def test_speed_end_to_end(tmp_path: Path) -> None:
    from facevault.bench.speed import end_to_end_lines, run_end_to_end

    r = run_end_to_end(str(PHOTOS), enroll_frames=2, unlock_frames=1, repeats=1, throughput_mib=4,
                       workdir=tmp_path)
    assert r.enroll_kdf_calls == 0  # face and recovery slots need no key stretching (format 2)
    assert r.enroll_s >= r.enroll_pipeline_s and r.unlock_s >= r.unlock_pipeline_s
    assert r.enroll_ratio > 0.5 and r.unlock_ratio > 0.5
    assert r.throughput["add_mib_s"] > 0
    assert "unlock" in "\n".join(end_to_end_lines(r))
    assert list(tmp_path.iterdir()) == []


def test_generated_part_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    from facevault.bench import report

    doc = tmp_path / "B.md"
    doc.write_text("# Head\n\nhand-written\n")
    report._write_generated(doc, "table one")
    report._write_generated(doc, "table two")
    text = doc.read_text()
    assert text.startswith("# Head\n\nhand-written\n")
    assert "table two" in text and "table one" not in text
    assert text.count(report.GENERATED_START) == 1 and text.count(report.GENERATED_END) == 1


@pytest.mark.skipif(not (LFW / "images").is_dir(), reason="needs /work/shared/data/lfw-dev")
def test_pairs_protocol_on_a_small_pairs_file(tmp_path: Path) -> None:
    """--pairs: one enrollment per same-person pair, impostors from every other identity,
    and the pairs-only FAR 0 figure of the published protocol."""
    from facevault.cli.main import main

    rows = (LFW / "pairsDevTest.txt").read_text().splitlines()[1:]
    same = [r for r in rows if len(r.split()) == 3][:3]
    diff = [r for r in rows if len(r.split()) == 4][:3]
    names = {r.split()[0] for r in same} | {r.split()[0] for r in diff} | {r.split()[2] for r in diff}
    data = tmp_path / "faces"
    for n in names:
        (data / n).mkdir(parents=True)
        for f in (LFW / "images" / n).iterdir():
            (data / n / f.name).symlink_to(f)
    pairs = tmp_path / "pairsDevTest.txt"
    pairs.write_text("1\t3\n" + "\n".join(same + diff) + "\n")
    out = tmp_path / "p.json"
    assert main(["bench", "accuracy", "--data", str(data), "--pairs", str(pairs), "--preset", "default",
                 "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    s = d["settings"][0]
    assert s["genuine_trials"] == 3
    images = sum(1 for _ in data.glob("*/*.jpg"))
    own = {r.split()[0]: sum(1 for _ in (data / r.split()[0]).iterdir()) for r in same}
    assert s["impostor_trials"] == sum(images - own[r.split()[0]] for r in same)
    assert 0.0 <= d["baseline"]["tar_at_far0_pair_impostors"] <= 1.0


def test_markdown_and_plot_from_a_report(tmp_path: Path) -> None:
    from facevault.bench import report

    images = _synthetic(ids=6, per=3, angle_deg=15.0)
    trials = acc.folder_trials(images, enroll_k=1, probe_m=1)
    r = acc.run_accuracy(images, trials, [acc.Setting("d", 512, 16)], enroll_k=1, probe_m=1, pool=1)
    r.baseline["tar_at_far0_pair_impostors"] = 0.5
    text = report.markdown(r, "T")
    assert "| d | 512 | 16 |" in text and "published protocol): 50.00%." in text
    assert report.write_report(r, tmp_path)[1].stat().st_size > 1000


def test_capped_impostors_are_the_same_for_baseline_and_settings() -> None:
    images = _synthetic(ids=10, per=3, angle_deg=15.0)
    base = acc.folder_trials(images, enroll_k=1, probe_m=1, seed=0)
    capped = acc.Trials(base.enroll, base.enroll_ids, base.genuine, base.impostor_groups,
                        base.impostor_ids, max_impostors_per_enrollment=7)
    cols = [impostor_columns(capped, e, 0) for e in range(len(capped.enroll))]
    assert all(c.size == 7 for c in cols)
    assert all(np.array_equal(c, impostor_columns(capped, e, 0)) for e, c in enumerate(cols))
    _, imp = acc.plain_scores(images, capped)
    r = acc.evaluate_setting(acc.Setting("d", 512, 16), images, capped, pool=3, spot_checks=1)
    assert imp.size == r.impostor_trials == 7 * len(capped.enroll)


def test_assisted_attack_counts() -> None:
    from facevault.bench import attacks

    rng = np.random.default_rng(3)
    t = rng.standard_normal((2, 32))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    near = t[:, None, :] + 0.05 * rng.standard_normal((2, 6, 32))  # "impostors" almost equal to t
    far = rng.standard_normal((2, 20, 32))
    imp = [np.concatenate([near[i], far[i]]) for i in range(2)]
    imp = [x / np.linalg.norm(x, axis=1, keepdims=True) for x in imp]
    r = attacks.assisted_attack("mix50", 128, 4, t, imp, faces=4, iterations=2)
    assert r.enrollments == 2 and r.pool == 26 and r.faces_per_enrollment == 4
    assert r.plain_hits == 8  # the near-copies decode outright
    assert r.refit_hits >= 6 and r.refit_far_lower == r.refit_hits / 52
