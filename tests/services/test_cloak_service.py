"""services.cloak in process: a photo with as many faces as the detector looks for is
reported (others may be left uncloaked), output names never collide with what exists, and a
stand-in of the same person is never chosen."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
GROUP = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data")) / "photos" / "multi-face" \
    / "selfie-many-people.jpg"


@pytest.mark.skipif(not GROUP.is_file(), reason="the shared photos are not beside the repository")
@pytest.mark.skipif(not (REPO / "models" / "fr_feature.onnx").is_file(), reason="models not installed")
def test_a_photo_at_the_face_limit_says_there_may_be_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facevault.services import cloak
    from facevault.services.progress import drive

    monkeypatch.setattr(cloak, "MAX_FACES", 2)  # the photo shows 3
    with cloak.CloakTools() as tools:
        report = drive(cloak.cloak_file(GROUP, tmp_path / "out.png", tools, strength="low"))
    assert len(report.faces) == 2 and report.maybe_more
    assert report.as_dict()["maybe_more_faces"] is True


def test_free_output_takes_the_next_free_name(tmp_path: Path) -> None:
    from facevault.services.cloak import default_output, free_output

    src = tmp_path / "a.jpeg"
    src.write_bytes(b"x")
    assert default_output(src) == tmp_path / "a-cloaked.jpeg"
    assert default_output(tmp_path / "b.webp") == tmp_path / "b-cloaked.png"
    (tmp_path / "a-cloaked.jpeg").write_bytes(b"")
    (tmp_path / "a-cloaked-2.jpeg").symlink_to(tmp_path / "nowhere")
    assert free_output(src) == tmp_path / "a-cloaked-3.jpeg"


def test_a_stand_in_of_the_same_person_is_never_chosen() -> None:
    from facevault.services.cloak import OWN_MODEL_THRESHOLD, choose_stand_in

    face = np.zeros(4)
    face[0] = 1.0
    same = np.array([0.9, np.sqrt(1 - 0.81), 0, 0])
    near = np.array([0.2, 0, np.sqrt(1 - 0.04), 0])
    far = np.array([-0.5, 0, 0, np.sqrt(0.75)])
    assert same @ face >= OWN_MODEL_THRESHOLD
    chosen = choose_stand_in(face, np.stack([same, near, far]))
    assert chosen is not None and np.allclose(chosen, near)
    assert choose_stand_in(face, np.stack([same])) is None
    assert choose_stand_in(face, np.zeros((0, 4))) is None
