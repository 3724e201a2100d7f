"""`facevault bench guided` on one person: both enrollment methods run on the same stream
and every held-out photo is an attempt for each."""

from __future__ import annotations

from pathlib import Path

import pytest

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos"


@pytest.mark.skipif(not PHOTOS.is_dir(), reason="needs ../shared/data/photos")
def test_one_person_one_order() -> None:
    from facevault.bench.guided import report_lines, run_guided

    report = run_guided(PHOTOS, orders=1, max_people=1)
    assert report.people == 1 and report.trials >= 2
    assert 0 <= report.both_ok <= min(report.first_ok, report.guided_ok) <= report.trials
    assert any("guided poses" in line for line in report_lines(report))
