"""The shipped attack figures (resources/figures.json) cover every preset, say they were
measured, and are what both front ends read."""

from __future__ import annotations

from facevault.core import ironmask
from facevault.services import threat


def test_every_preset_has_a_measured_far_and_the_reference_is_complete() -> None:
    doc = threat.shipped()
    for name in ironmask.PRESETS:
        est = threat.far_estimate(name)
        assert est.measured and 0 < est.far < 1e-3 and 0.5 < est.tar <= 1.0
        assert "bench policy" in est.source
    ref = doc["reference"]
    assert ref["embed_per_second_cpu"] > 0 and ref["guess_seconds"] > 0 and ref["argon2_seconds_per_pass_mib"] > 0
    assert "ASSUMPTION" in ref["gpu_source"]
    assert doc["ranking"]["face"]["rank1"] > doc["ranking"]["face+passphrase"]["rank1"]


def test_kdf_cost_comes_from_the_stored_parameters() -> None:
    from facevault.core.kdf import DEFAULT_PARAMS, NO_KDF, KdfParams

    assert threat.kdf_seconds(NO_KDF) == 0.0
    one = threat.kdf_seconds(DEFAULT_PARAMS)
    double = threat.kdf_seconds(KdfParams(DEFAULT_PARAMS.time_cost * 2, DEFAULT_PARAMS.memory_kib,
                                          DEFAULT_PARAMS.parallelism))
    assert 0 < one and abs(double - 2 * one) < 1e-12  # the same answer under any load
