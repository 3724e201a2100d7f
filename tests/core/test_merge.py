"""The merge of vault records (facevault.core.merge) as a CRDT: every device that holds the
same records shows the same files whatever order they came in, nothing written is lost or
comes back, an edit beats a concurrent removal, concurrent edits keep both versions, and
the incremental View.apply gives exactly what a full merge gives."""

from __future__ import annotations

import random

from hypothesis import given, settings

from facevault.core.merge import conflict_name, merge
from tests.helpers.replicas import Replica, expected_live, run_script
from tests.strategies import replica_scripts


def _shown(view) -> dict[str, str]:
    return {name: e.version for name, e in view.entries.items()}


@settings(max_examples=150, deadline=None)
@given(replica_scripts)
def test_the_view_does_not_depend_on_the_order_records_arrive_in(script) -> None:
    _reps, written = run_script(script)
    expected = _shown(merge(written))
    shuffled = list(written)
    random.Random(len(script)).shuffle(shuffled)
    assert _shown(merge(shuffled)) == expected
    assert _shown(merge(shuffled + shuffled[: len(shuffled) // 2])) == expected  # duplicates


@settings(max_examples=150, deadline=None)
@given(replica_scripts)
def test_nothing_is_lost_or_resurrected(script) -> None:
    _reps, written = run_script(script)
    view = merge(written)
    live = {e.version for e in view.entries.values()}
    assert live == expected_live(written)
    for name, versions in view.heads.items():  # one entry under each name, the rest are copies
        assert view.entries[name].version == versions[0]
        assert len([e for e in view.entries.values() if e.original == name]) == len(versions)


@settings(max_examples=150, deadline=None)
@given(replica_scripts)
def test_devices_that_synced_everything_agree(script) -> None:
    reps, _written = run_script(script)
    for rep in reps:
        for other in reps:
            rep.receive(other)
    views = [_shown(rep.view()) for rep in reps]
    assert views[0] == views[1] == views[2]


@settings(max_examples=150, deadline=None)
@given(replica_scripts)
def test_apply_is_exactly_a_full_merge(script) -> None:
    _reps, written = run_script(script)
    view = merge([])
    applied = 0
    for i, r in enumerate(written):
        step = view.apply(r)
        full = merge(written[: i + 1])
        if step is not None:
            applied += 1
            assert _shown(step) == _shown(full)
            assert step.heads == full.heads and step.dead == full.dead
            assert set(step.records) == set(full.records)
        view = full
    assert applied >= len(written) // 2 or not written


def test_an_edit_beats_a_concurrent_removal() -> None:
    a, b = Replica("a" * 32, "laptop"), Replica("b" * 32, "desktop")
    a.put("report.pdf")
    b.receive(a)
    edit = a.put("report.pdf")  # laptop edits it ...
    b.remove("report.pdf")  # ... while the desktop removes the version it saw
    a.receive(b)
    view = a.view()
    assert list(view.entries) == ["report.pdf"] and view.entries["report.pdf"].version == edit.version


def test_two_concurrent_edits_keep_both_with_a_conflict_name() -> None:
    a, b = Replica("a" * 32, "laptop"), Replica("b" * 32, "desktop")
    a.put("report.pdf")
    b.receive(a)
    a.put("report.pdf", when=1_764_590_000.0)
    b.put("report.pdf", when=1_764_590_000.0)
    a.receive(b)
    b.receive(a)
    assert sorted(a.view().entries) == sorted(b.view().entries)
    names = sorted(a.view().entries)
    assert "report.pdf" in names and len(names) == 2
    (copy,) = [n for n in names if n != "report.pdf"]
    assert copy.startswith("report (conflict, ") and copy.endswith(", 2025-12-01).pdf")
    # writing the copy's name makes it a file of its own; the original stays
    a.put(copy)
    assert sorted(a.view().entries) == sorted([copy, "report.pdf"])
    assert not a.view().entries[copy].conflict


def test_conflict_names_keep_folders_and_extensions() -> None:
    assert conflict_name("a/b/notes.tar.gz", "lap top", 0.0) == "a/b/notes.tar (conflict, lap top, 1970-01-01).gz"
    assert conflict_name(".profile", "", 0.0) == ".profile (conflict, another device, 1970-01-01)"
    assert conflict_name("README", "x", 86400.0) == "README (conflict, x, 1970-01-02)"
