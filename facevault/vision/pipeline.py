"""Face pipeline: frame -> landmarks -> five points -> aligned crop -> gates -> embedding.

Role: wire an injected FaceLandmarker and ArcFaceEmbedder into `FacePipeline.process`,
which never raises for a bad frame (it returns ok=False with a code and a plain reason)
and raises only for model errors. `fuse` averages good observations into a Template. The
loop over frames is services.capture; the benchmarks run this same pipeline with
`QualityGates.off()` (every detected face embedded, the failing gate reported).

May import: stdlib, numpy, facevault.errors, facevault.vision.*; cv2/mediapipe/onnxruntime
only through the modules it builds. (services.models builds one from the model store.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from facevault.errors import NoUsableFaceError
from facevault.vision.align import ARCFACE_TEMPLATE, five_points, similarity_transform, warp
from facevault.vision.quality import QualityGates, Verdict, assess, choose_face, measure

if TYPE_CHECKING:
    from facevault.vision.embedder import ArcFaceEmbedder
    from facevault.vision.landmarks import FaceLandmarker

__all__ = [
    "FrameLike",
    "FaceObservation",
    "FacePipeline",
    "StageTimes",
    "Template",
    "fuse",
]

log = logging.getLogger(__name__)


class FrameLike(Protocol):
    """Anything shaped like facevault.vision.sources.Frame."""

    @property
    def rgb(self) -> np.ndarray: ...
    @property
    def timestamp_ms(self) -> int: ...
    @property
    def origin(self) -> str: ...


@dataclass(frozen=True)
class StageTimes:
    """Milliseconds spent in each stage of one process() call (0 for stages not reached)."""

    landmarks_ms: float = 0.0
    align_ms: float = 0.0
    embed_ms: float = 0.0


@dataclass(frozen=True)
class FaceObservation:
    """One processed frame (see docs/ARCHITECTURE.md).

    embedding: (512,) float32 unit L2 norm, None when not ok.
    box: (x, y, w, h) frame pixels of the chosen face. landmarks: (478, 3) float32 pixels.
    aligned: (112, 112, 3) uint8 RGB crop that was embedded (None when no face chosen).
    gate_code: the quality gate that failed; with gates not enforced the observation is
    still ok and this says which gate would have refused it.
    """

    origin: str
    ok: bool
    reason: str | None
    code: str | None
    embedding: np.ndarray | None = field(default=None, repr=False)
    box: tuple[int, int, int, int] | None = None
    landmarks: np.ndarray | None = field(default=None, repr=False)
    blendshapes: dict[str, float] | None = field(default=None, repr=False)
    quality: float = 0.0
    aligned: np.ndarray | None = field(default=None, repr=False)
    times: StageTimes = StageTimes()
    gate_code: str | None = None


@dataclass(frozen=True)
class Template:
    """Fused embedding: (512,) float32 unit vector and how many observations made it."""

    embedding: np.ndarray = field(repr=False)
    count: int


class FacePipeline:
    """Landmarker + embedder + gates. A context manager; close() closes the landmarker."""

    def __init__(
        self,
        landmarker: FaceLandmarker,
        embedder: ArcFaceEmbedder,
        gates: QualityGates = QualityGates(),
    ) -> None:
        self.landmarker = landmarker
        self.embedder = embedder
        self.gates = gates

    def close(self) -> None:
        self.landmarker.close()

    def __enter__(self) -> FacePipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def process(self, frame: FrameLike) -> FaceObservation:
        """One frame -> one observation. Never raises for a bad frame."""
        origin = str(getattr(frame, "origin", "?"))
        rgb = getattr(frame, "rgb", None)
        if (
            not isinstance(rgb, np.ndarray)
            or rgb.dtype != np.uint8
            or rgb.ndim != 3
            or rgb.shape[2] != 3
            or min(rgb.shape[:2]) < 16
        ):
            return FaceObservation(origin, False, "The picture could not be read.", "decode_error")
        t0 = time.perf_counter()
        faces = self.landmarker.detect(rgb, int(getattr(frame, "timestamp_ms", 0)))
        t1 = time.perf_counter()
        face, refusal = choose_face(faces, self.gates)
        if face is None:
            assert refusal is not None
            return FaceObservation(
                origin, False, refusal.reason, refusal.code,
                times=StageTimes(landmarks_ms=(t1 - t0) * 1e3), gate_code=refusal.code,
            )
        advisory = refusal.advisory if refusal is not None else None
        five = five_points(face.landmarks)
        try:
            m, residual = similarity_transform(five, ARCFACE_TEMPLATE)
        except ValueError:
            return self._fail(origin, face, Verdict.fail("pose"), None, t0, t1, t1)
        aligned = warp(rgb, m, self.embedder.size)
        t2 = time.perf_counter()
        verdict = assess(measure(face, aligned, five, residual), self.gates)
        if not verdict.ok:
            return self._fail(origin, face, verdict, aligned, t0, t1, t2)
        embedding = self.embedder.embed(aligned)
        t3 = time.perf_counter()
        return FaceObservation(
            origin, True, None, None, embedding, face.box, face.landmarks, face.blendshapes,
            verdict.quality, aligned,
            StageTimes((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3),
            gate_code=advisory or verdict.advisory,
        )

    @staticmethod
    def _fail(
        origin: str, face: Any, verdict: Verdict, aligned: np.ndarray | None,
        t0: float, t1: float, t2: float,
    ) -> FaceObservation:
        return FaceObservation(
            origin, False, verdict.reason, verdict.code, None, face.box, face.landmarks,
            face.blendshapes, 0.0, aligned, StageTimes((t1 - t0) * 1e3, (t2 - t1) * 1e3, 0.0),
            gate_code=verdict.code,
        )


def fuse(
    observations: Iterable[FaceObservation], weights: Sequence[float] | None = None
) -> Template:
    """Weighted mean of the good observations' unit embeddings, renormalised.

    weights default to each observation's quality. Raises NoUsableFaceError if none is ok.
    """
    obs = list(observations)
    if weights is not None and len(weights) != len(obs):
        raise ValueError("weights must match observations one to one")
    w_all = [o.quality for o in obs] if weights is None else list(weights)
    vecs, ws = [], []
    for o, w in zip(obs, w_all):
        if o.ok and o.embedding is not None:
            vecs.append(np.asarray(o.embedding, np.float64))
            ws.append(max(float(w), 1e-6))
    if not vecs:
        raise NoUsableFaceError(
            "No usable face in the input.",
            hint="Face the camera alone, close enough, in even light, and hold still.",
        )
    mean = np.average(np.stack(vecs), axis=0, weights=np.asarray(ws))
    norm = np.linalg.norm(mean)
    if norm < 1e-9:
        raise NoUsableFaceError("The face observations cancel out; try again.")
    return Template((mean / norm).astype(np.float32), len(vecs))
