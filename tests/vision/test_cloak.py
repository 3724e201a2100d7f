"""The first photo cloak on a real photo: re-detected after cloaking, FaceVault's own model
no longer matches the person's other photo; a random mask of the same size does not do it;
the change stays inside its budget and its face region."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from facevault.vision.cloak import CloakSettings, cloak_face

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FACEVAULT_TEST_DATA", REPO.parent / "shared" / "data"))
PERSON = DATA / "lfw-dev" / "images" / "Abdullah_Gul"

pytestmark = [
    pytest.mark.skipif(not PERSON.is_dir(), reason="the shared LFW photos are not beside the repository"),
    pytest.mark.skipif(not (REPO / "models" / "fr_feature.onnx").is_file(), reason="models not installed"),
]


@dataclass(frozen=True)
class _Frame:
    rgb: np.ndarray
    timestamp_ms: int = 0
    origin: str = "test"


def _read(path: Path) -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="module")
def tools():
    from facevault import modelstore
    from facevault.services.models import face_pipeline
    from facevault.vision.backward import CosineGradient
    from facevault.vision.quality import QualityGates

    pipe = face_pipeline(False, gates=QualityGates.off(), threads=2)
    yield pipe, CosineGradient.from_entry(modelstore.embedder_entry())
    pipe.close()


def _embed(pipe, rgb: np.ndarray):
    obs = pipe.process(_Frame(rgb))
    assert obs.ok, obs.reason
    return obs


def test_cloaked_photo_no_longer_matches_the_persons_other_photo(tools) -> None:
    pipe, grad = tools
    photo, other = _read(PERSON / "Abdullah_Gul_0013.jpg"), _read(PERSON / "Abdullah_Gul_0014.jpg")
    obs, ref = _embed(pipe, photo), _embed(pipe, other).embedding
    before = float(obs.embedding @ ref)
    assert before > 0.6  # the same person, clearly

    from facevault.vision.align import ARCFACE_TEMPLATE, five_points, similarity_transform
    from facevault.vision.cloak import draw_into

    m, _r = similarity_transform(five_points(obs.landmarks), ARCFACE_TEMPLATE)
    signs = np.random.default_rng(3).choice([-6.0, 6.0], size=(112, 112, 3)).astype(np.float32)
    noisy = np.clip(np.round(photo + draw_into(photo.shape, signs, m)), 0, 255).astype(np.uint8)
    after_noise = float(_embed(pipe, noisy).embedding @ ref)

    cloaked = photo.copy()
    steps = list(cloak_face(cloaked, obs.landmarks, obs.embedding, grad, CloakSettings(seed=1)))
    assert steps[-1] == 1.0 and len(steps) == CloakSettings().iterations
    after = float(_embed(pipe, cloaked).embedding @ ref)
    print(f"\ncosine to the other photo: original {before:.3f}, random mask {after_noise:.3f}, cloak {after:.3f}")
    assert after_noise > before - 0.1  # a mask of the same size without the gradient does little
    assert after < before - 0.3

    change = np.abs(cloaked.astype(np.int16) - photo.astype(np.int16))
    assert change.max() <= 7  # eps 6 in the crop, plus bilinear drawing and rounding
    assert change[:15].max() == 0 and change[-15:].max() == 0  # nothing outside the face region
