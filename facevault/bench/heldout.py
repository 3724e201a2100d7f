"""The held-out face model the photo cloak is judged on, and never made with: dlib's ResNet
face descriptor (128-D, trained on its own data, its own HOG detector and 5-point
alignment), from the PyPI packages `dlib-bin` and `face-recognition-models`.

Nothing in facevault.vision or facevault.services imports this module; the cloak's
crafting code must never use it (tests/vision/test_cloak.py checks the imports). It is an
optional benchmark extra: `pip install dlib-bin face-recognition-models` (the project's
`cloak-bench` extra). The two model files are checked by sha256 before they are loaded.

May import: stdlib, numpy; dlib and face_recognition_models lazily.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from facevault.errors import ModelError

__all__ = ["HeldOutModel", "available", "INSTALL_HINT", "NAME"]

NAME = "dlib ResNet face descriptor (dlib 20, face-recognition-models 0.3.0)"
INSTALL_HINT = "Install the benchmark extra: .venv/bin/pip install dlib-bin face-recognition-models"

_SHA256 = {
    "dlib_face_recognition_resnet_model_v1.dat":
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    "shape_predictor_5_face_landmarks.dat":
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}


def available() -> bool:
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
    except ImportError:
        return False
    return True


def _checked(path: str) -> str:
    p = Path(path)
    want = _SHA256[p.name]
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != want:
        raise ModelError(f"{p} does not have the expected sha256", hint=INSTALL_HINT)
    return str(p)


class HeldOutModel:
    """RGB photo -> the 128-D descriptor of its largest face (HOG detector, upsampled once),
    or None when dlib finds no face."""

    def __init__(self) -> None:
        if not available():
            raise ModelError("the held-out model (dlib) is not installed", hint=INSTALL_HINT)
        import dlib
        import face_recognition_models as frm

        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(_checked(frm.pose_predictor_five_point_model_location()))
        self._net = dlib.face_recognition_model_v1(_checked(frm.face_recognition_model_location()))
        self.model_digest = _SHA256["dlib_face_recognition_resnet_model_v1.dat"]

    def describe(self, rgb: np.ndarray) -> np.ndarray | None:
        img = np.ascontiguousarray(rgb, dtype=np.uint8)
        boxes = self._detector(img, 1)
        if len(boxes) == 0:
            return None
        box = max(boxes, key=lambda b: b.width() * b.height())
        shape = self._shape(img, box)
        return np.asarray(self._net.compute_face_descriptor(img, shape), dtype=np.float64)
