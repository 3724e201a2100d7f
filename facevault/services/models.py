"""The face models, loaded once for a desktop session, and what FaceVault ships.

`Models.warm()` may run in a worker at start-up; `Models.parts()` gives the capture loop's
parts with a pipeline factory that shares the loaded embedder and makes a fresh landmarker
per capture (MediaPipe's video mode keeps per-stream state). `presets()` and `about_info()`
describe the security presets and the shipped models without loading anything heavy.

May import: stdlib, facevault.core, facevault.modelstore, facevault.vision (lazily),
facevault.services.capture, facevault.errors.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from facevault.core.modelref import ModelRef
from facevault.errors import FaceVaultError
from facevault.services.capture import CaptureParts

if TYPE_CHECKING:
    from facevault.modelstore.manifest import ModelEntry
    from facevault.vision.antispoof import PassiveLiveness
    from facevault.vision.embedder import ArcFaceEmbedder
    from facevault.vision.pipeline import FacePipeline
    from facevault.vision.quality import QualityGates

__all__ = ["Models", "face_pipeline", "passive_liveness", "model_ref", "current_model",
           "PresetInfo", "presets", "ModelInfo", "about_info"]


def face_pipeline(video: bool, *, gates: QualityGates | None = None, threads: int = 2) -> FacePipeline:
    """A FacePipeline on the model store's landmarker and default embedder (ModelError when
    one is missing or corrupt)."""
    from facevault import modelstore
    from facevault.vision.embedder import ArcFaceEmbedder
    from facevault.vision.landmarks import FaceLandmarker
    from facevault.vision.pipeline import FacePipeline
    from facevault.vision.quality import QualityGates

    embedder = ArcFaceEmbedder.from_entry(modelstore.embedder_entry(), threads=threads)
    landmarker = FaceLandmarker(modelstore.model_path("landmarker"), video=video)
    return FacePipeline(landmarker, embedder, gates if gates is not None else QualityGates())


def passive_liveness(*, threads: int = 1) -> PassiveLiveness:
    """The manifest's passive anti-spoof model (vision.antispoof)."""
    from facevault import modelstore, paths
    from facevault.errors import ModelError
    from facevault.vision.antispoof import PassiveLiveness, prep_from_manifest

    entry = next((m for m in modelstore.load_manifest().models if m.role == "liveness"), None)
    if entry is None:
        raise ModelError("The model manifest names no liveness model.")
    path = modelstore.model_path(entry.name)
    return PassiveLiveness(path, prep_from_manifest(entry, paths.manifest_path()), threads=threads)


def model_ref(entry: ModelEntry) -> ModelRef:
    """The reference a face slot records for an embedder entry: its name, and a digest of
    the file's sha256 and the preprocessing constants (a different file, or the same file
    fed differently, makes different embeddings)."""
    import json
    from dataclasses import asdict

    from facevault.vision.embedder import EmbedderConstants

    constants = EmbedderConstants.from_record(entry.preprocessing, entry.name)
    return ModelRef.of(entry.name[:64], entry.sha256, json.dumps(asdict(constants), sort_keys=True))


def current_model() -> ModelRef:
    """The reference of the embedder this computer uses now (ModelError when none)."""
    from facevault import modelstore

    return model_ref(modelstore.embedder_entry())


class Models:
    """The face models of one session, loaded once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._embedder: ArcFaceEmbedder | None = None
        self._landmarker_path: Path | None = None
        self._model: ModelRef | None = None

    @property
    def ready(self) -> bool:
        return self._embedder is not None

    def warm(self) -> None:
        with self._lock:
            if self._embedder is not None:
                return
            from facevault import modelstore
            from facevault.vision.embedder import ArcFaceEmbedder
            import facevault.vision.landmarks  # noqa: F401 - imports mediapipe now, not later

            self._landmarker_path = modelstore.model_path("landmarker")
            entry = modelstore.embedder_entry()
            self._embedder = ArcFaceEmbedder.from_entry(entry, threads=1)

    def pipeline(self, video: bool) -> FacePipeline:
        self.warm()
        from facevault.vision.landmarks import FaceLandmarker
        from facevault.vision.pipeline import FacePipeline

        assert self._landmarker_path is not None and self._embedder is not None
        return FacePipeline(FaceLandmarker(self._landmarker_path, video=video), self._embedder)

    @property
    def model(self) -> ModelRef:
        """The embedder's reference (read from the model store, without loading it)."""
        with self._lock:
            if self._model is None:
                self._model = current_model()
            return self._model

    def parts(self) -> CaptureParts:
        return CaptureParts(pipelines=self.pipeline, model=self.model)


@dataclass(frozen=True)
class PresetInfo:
    name: str
    bits: float


def presets() -> list[PresetInfo]:
    """The IronMask security presets, default first."""
    from facevault.core import ironmask

    names = sorted(ironmask.PRESETS, key=lambda n: (n != ironmask.DEFAULT_PRESET, n))
    return [PresetInfo(n, float(ironmask.PRESETS[n].bits)) for n in names]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    role: str
    licence: str
    source: str


def about_info() -> tuple[list[tuple[str, str]], list[ModelInfo]]:
    """Versions of FaceVault and its main libraries (without importing them) and the
    shipped models with their licences, from the manifest."""
    from importlib import metadata

    from facevault import __version__, modelstore

    versions = [("FaceVault", __version__), ("Python", sys.version.split()[0])]
    for label, dist in (("PySide6 (Qt)", "PySide6-Essentials"), ("MediaPipe", "mediapipe"),
                        ("ONNX Runtime", "onnxruntime"), ("OpenCV", "opencv-contrib-python"),
                        ("NumPy", "numpy"), ("cryptography", "cryptography"),
                        ("argon2-cffi", "argon2-cffi"), ("keyring", "keyring")):
        try:
            versions.append((label, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            versions.append((label, "not installed"))
    try:
        entries = modelstore.load_manifest().models
    except FaceVaultError:
        entries = ()
    models = []
    for m in entries:
        src = m.source
        where = f"{src.kind}: {src.package} {src.version}" if src is not None else "registered by you"
        models.append(ModelInfo(m.name, m.role, m.licence, where))
    return versions, models
