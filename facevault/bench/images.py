"""Embedding a folder of face photos for the benchmarks with the app's own FacePipeline
(the same landmarker, alignment and embedder; quality gates reported, not enforced).

Embeddings are kept in memory for the run. Only when asked (`--embedding-cache DIR`, or
FACEVAULT_BENCH_CACHE) are they also kept on disk, in DIR, per image, keyed by the
embedder model's sha256, its constants and each image's sha256: plaintext face
embeddings, so for benchmark photos only, and never by default (FaceVault itself stores no
embedding anywhere).

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime through facevault.vision.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from facevault.core import fsutil

__all__ = ["ImageEmbedder", "ImageSet", "load_images", "fuse_embeddings", "bench_cache_root"]

_CACHE_VERSION = "lfw-v2"


def bench_cache_root() -> Path | None:
    """The opt-in on-disk embedding cache (FACEVAULT_BENCH_CACHE), or None."""
    value = os.environ.get("FACEVAULT_BENCH_CACHE")
    return Path(value).expanduser() if value else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ImageEmbedder:
    """Image -> (embedding, gate code or None, face found) with an on-disk cache."""

    def __init__(self, colour_order: str | None, cache_root: Path | None) -> None:
        from dataclasses import replace

        from facevault import modelstore
        from facevault.vision.embedder import ArcFaceEmbedder, EmbedderConstants
        from facevault.vision.landmarks import FaceLandmarker
        from facevault.vision.pipeline import FacePipeline
        from facevault.vision.quality import QualityGates

        entry = modelstore.embedder_entry()
        constants = EmbedderConstants.from_record(entry.preprocessing, entry.name)
        if colour_order is not None:
            constants = replace(constants, colour_order=colour_order)
        self.colour_order = constants.colour_order
        self.embedder = ArcFaceEmbedder(entry.path, constants, threads=2)
        self.landmarker = FaceLandmarker(modelstore.model_path("landmarker"), video=False)
        self.pipeline = FacePipeline(self.landmarker, self.embedder, QualityGates.off())
        key = json.dumps([_CACHE_VERSION, _sha256(entry.path), asdict(constants)], sort_keys=True,
                         default=str)
        root = cache_root if cache_root is not None else bench_cache_root()
        self.cache: Path | None = None
        self._memory: dict[str, tuple[np.ndarray, str | None, bool]] = {}
        if root is not None:
            self.cache = fsutil.private_folder(root / hashlib.sha256(key.encode()).hexdigest()[:24])

    def close(self) -> None:
        self.landmarker.close()

    def get(self, path: Path) -> tuple[np.ndarray, str | None, bool]:
        digest = _sha256(path)
        if digest in self._memory:
            return self._memory[digest]
        if self.cache is None:
            self._memory[digest] = self._compute(path)
            return self._memory[digest]
        vec_file, meta_file = self.cache / f"{digest}.npy", self.cache / f"{digest}.json"
        if vec_file.is_file() and meta_file.is_file():
            meta = json.loads(meta_file.read_text())
            return np.load(vec_file, allow_pickle=False), meta["code"], meta["found"]
        vec, code, found = self._compute(path)
        buf = io.BytesIO()
        np.save(buf, vec.astype(np.float32), allow_pickle=False)
        fsutil.write_private(vec_file, buf.getvalue(), replace=True)
        fsutil.write_private(meta_file, json.dumps({"code": code, "found": found}).encode(), replace=True)
        return vec, code, found

    def _compute(self, path: Path) -> tuple[np.ndarray, str | None, bool]:
        """The app's own pipeline with the gates off; a centre crop when no face is found
        (deep-funneled LFW: the face is centred)."""
        from facevault.vision.imaging import resize
        from facevault.vision.sources import Frame, decode_image

        rgb = decode_image(path)
        obs = self.pipeline.process(Frame(rgb, 0, 0, str(path)))
        if obs.ok and obs.embedding is not None:
            return obs.embedding, obs.gate_code, True
        h, w = rgb.shape[:2]
        c = rgb[h // 4 : h - h // 4, w // 4 : w - w // 4]
        crop = resize(c, (self.embedder.size, self.embedder.size))
        return self.embedder.embed(crop), obs.code or "no_face", obs.code != "no_face"


@dataclass(frozen=True)
class ImageSet:
    """All images of a dataset folder, embedded. Row i of `vectors` is `paths[i]`."""

    paths: tuple[Path, ...]
    identities: tuple[str, ...]
    vectors: np.ndarray = field(repr=False)  # (N, 512) float64 unit rows
    found: np.ndarray = field(repr=False)  # (N,) bool: a face was detected
    gate_ok: np.ndarray = field(repr=False)  # (N,) bool: the default quality gates pass

    @property
    def no_face(self) -> list[str]:
        return [str(p) for p, f in zip(self.paths, self.found) if not f]


def load_images(
    data_dir: Path,
    *,
    cache_root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageSet:
    """Embed every image under data_dir (or data_dir/images), one folder per identity."""
    root = data_dir / "images" if (data_dir / "images").is_dir() else data_dir
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
    files = sorted(p for p in root.glob("*/*") if p.suffix.lower() in exts and p.is_file())
    embedder = ImageEmbedder(None, cache_root)
    vecs, found, gate_ok = [], [], []
    try:
        for i, path in enumerate(files):
            v, code, ok = embedder.get(path)
            vecs.append(np.asarray(v, dtype=np.float64))
            found.append(bool(ok))
            gate_ok.append(code is None)
            if progress is not None:
                progress(i + 1, len(files))
    finally:
        embedder.close()
    mat = np.stack(vecs) if vecs else np.zeros((0, 512))
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    return ImageSet(tuple(files), tuple(p.parent.name for p in files), mat,
                    np.array(found, dtype=bool), np.array(gate_ok, dtype=bool))


def fuse_embeddings(images: ImageSet, indices: Sequence[int], mode: str = "quality") -> np.ndarray:
    """Unit template from several images. "mean": plain mean. "quality": weights from the
    detector (no face 0.1, gates fail 0.5, pass 1.0) times agreement with the others
    (cosine to the leave-one-out mean, clipped to [0.05, 1]) so an outlier photo counts less."""
    x = images.vectors[list(indices)]
    if len(indices) == 1 or mode == "mean":
        w = np.ones(len(indices))
    elif mode == "quality":
        det = np.where(~images.found[list(indices)], 0.1, np.where(images.gate_ok[list(indices)], 1.0, 0.5))
        total = x.sum(axis=0)
        loo = total[None, :] - x
        loo /= np.maximum(np.linalg.norm(loo, axis=1, keepdims=True), 1e-12)
        agree = np.clip((x * loo).sum(axis=1), 0.05, 1.0)
        w = det * agree
    else:
        raise ValueError(f"unknown fusion mode {mode!r}")
    t = (w[:, None] * x).sum(axis=0)
    out: np.ndarray = t / np.linalg.norm(t)
    return out
