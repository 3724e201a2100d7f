"""The attack figures FaceVault ships (resources/figures.json): the FAR and TAR measured by
`bench policy --write-far`, the helper-ranking attack measured by `bench ranking --json`,
and the reference machine the times are stated on, measured here:

- Argon2id seconds per (pass x MiB) at parallelism 2 (median of repeated DEFAULT_PARAMS runs);
- one guess at a face slot: a codeword decode of a 512x512 helper and one X25519 key check;
- face embeddings per second with the shipped model (aligned 112x112 crops, batch 32: an
  attacker embeds a face collection in batches; the landmark and alignment steps are left
  out, so this favours the attacker);
- a GPU-class machine's embedding rate: an assumption, stated as one.

May import: stdlib, numpy, facevault.core, facevault.modelstore, facevault.vision,
facevault.bench.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GPU_ASSUMPTION", "measure_reference", "compose"]

GPU_ASSUMPTION = (
    5000.0,
    "an ASSUMPTION of 5,000 faces/s: ResNet-50/100-class ArcFace models at 112x112 are commonly "
    "run at several thousand images per second on one data-centre GPU (not measured here)",
)


def _median(fn: Any, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_reference(repeats: int = 7) -> dict[str, Any]:
    from facevault import modelstore
    from facevault.core import facekey, ironmask, kdf
    from facevault.core.factors import Factors
    from facevault.core.kinds import Kind
    from facevault.core.slots import guess_seconds
    from facevault.vision.embedder import ArcFaceEmbedder

    p = kdf.DEFAULT_PARAMS
    argon = _median(lambda: kdf.measure(p), repeats) / (p.time_cost * p.memory_kib / 1024) * p.parallelism / 2
    rng = np.random.default_rng(1)
    t = rng.standard_normal(512)
    face = facekey.enroll(t / np.linalg.norm(t))
    slot = Kind.FACE.spec.make(Factors(face), kdf=kdf.NO_KDF)
    helper = ironmask.helper_from_bytes(face.helper)
    probe = t / np.linalg.norm(t)
    decode = _median(lambda: ironmask.decode(helper, probe), 200)
    guess = decode + guess_seconds(slot, 200)
    embedder = ArcFaceEmbedder.from_entry(modelstore.embedder_entry(), threads=os.cpu_count() or 2)
    crops = rng.integers(0, 255, (32, embedder.size, embedder.size, 3), dtype=np.uint8)
    embedder.embed_batch(crops)  # warm up
    batch = _median(lambda: embedder.embed_batch(crops), repeats)
    cpu = platform.processor() or platform.machine()
    return {
        "name": f"{os.cpu_count()}-core {cpu} machine ({platform.system()}), the one FaceVault is measured on",
        "argon2_seconds_per_pass_mib": argon,
        "guess_seconds": guess,
        "embed_per_second_cpu": 32 / batch,
        "embed_per_second_gpu": GPU_ASSUMPTION[0],
        "gpu_source": GPU_ASSUMPTION[1],
        "measured": time.strftime("%Y-%m-%d"),
    }


def compose(far_file: Path, ranking_file: Path, reference: dict[str, Any]) -> dict[str, Any]:
    far = json.loads(Path(far_file).read_text(encoding="utf-8"))
    rows = json.loads(Path(ranking_file).read_text(encoding="utf-8"))
    ranking: dict[str, Any] = {"source": "facevault bench ranking on lfw-dev, default preset: owners "
                                         "enrolled from up to 5 photos, one other photo of each in the gallery"}
    for r in rows:
        if r["preset"] == "default":
            ranking[r["mode"]] = {"rank1": r["rank1"], "owners": r["owners"], "gallery": r["gallery"],
                                  "median_rank": r["median_rank"]}
    return {"far": far, "ranking": ranking, "reference": reference}
