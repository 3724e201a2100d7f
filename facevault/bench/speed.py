"""Speed benchmark: per-stage latency of frame -> embedding, against a plain reference.

Role: push >= N frames from a source (looping it when shorter) through FacePipeline,
recording decode, landmarks, align(+gates), embed and total times; then push the same
decoded frames through `facevault.vision.reference.plain_reference`, a deliberately FaceVault-free loop (MediaPipe +
cv2 + onnxruntime called directly, as a script would) and report the p50 ratio. Also
peak RSS and the time from process start to the first processed frame.

May import: stdlib, numpy, facevault.*; cv2/mediapipe/onnxruntime lazily inside functions.
`plain_reference` must stay free of facevault code: it is the yardstick.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "StageStats",
    "SpeedReport",
    "process_age_s",
    "percentiles",
    "run_speed",
    "peak_rss_mb",
    "report_lines",
    "EndToEndReport",
    "run_end_to_end",
    "end_to_end_lines",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageStats:
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass(frozen=True)
class SpeedReport:
    source: str
    frames: int
    ok_frames: int
    frame_size: tuple[int, int]  # (width, height) of the first frame
    stages: dict[str, StageStats]  # decode, landmarks, align, embed, total
    plain: dict[str, StageStats]  # the reference: process (landmarks..embed), total
    ratio_p50: float  # p50(ours process) / p50(plain process)
    peak_rss_mb: float
    first_frame_s: float | None  # process start -> first processed frame
    plain_ok_frames: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentiles(values: list[float]) -> StageStats:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return StageStats(0.0, 0.0, 0.0)
    return StageStats(float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.mean()))


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), or None where unknown."""
    try:
        stat = Path("/proc/self/stat").read_text()
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_speed(
    source_spec: str,
    *,
    frames: int = 100,
    with_plain: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SpeedReport:
    """Time FacePipeline on >= `frames` frames of `source_spec` (looped if shorter)."""
    from facevault import modelstore
    from facevault.services.models import face_pipeline
    from facevault.vision.pipeline import FacePipeline
    from facevault.vision.sources import open_source

    stages: dict[str, list[float]] = {k: [] for k in ("decode", "landmarks", "align", "embed", "total")}
    kept: list[np.ndarray] = []
    first_frame_s: float | None = None
    ok = 0
    video = False
    notes: list[str] = []
    pipeline: FacePipeline | None = None
    try:
        while len(stages["total"]) < frames:
            before = len(stages["total"])
            with open_source(source_spec) as source:
                video = bool(source.is_stream)
                if pipeline is None:
                    pipeline = face_pipeline(video)
                it = iter(source)
                while len(stages["total"]) < frames:
                    t0 = time.perf_counter()
                    frame = next(it, None)
                    t1 = time.perf_counter()
                    if frame is None:
                        break
                    obs = pipeline.process(frame)
                    t2 = time.perf_counter()
                    if first_frame_s is None:
                        first_frame_s = process_age_s()
                    stages["decode"].append((t1 - t0) * 1e3)
                    stages["landmarks"].append(obs.times.landmarks_ms)
                    stages["align"].append(obs.times.align_ms)
                    stages["embed"].append(obs.times.embed_ms)
                    stages["total"].append((t2 - t0) * 1e3)
                    ok += obs.ok
                    if len(kept) < frames:
                        kept.append(frame.rgb)
                    if progress is not None:
                        progress(len(stages["total"]), frames)
            if len(stages["total"]) == before:
                break  # the source yields nothing: do not loop forever
            if source.is_live:
                break
    finally:
        if pipeline is not None:
            pipeline.close()
    if not kept:
        notes.append("the source gave no frames")
    ours_process = [l + a + e for l, a, e in zip(stages["landmarks"], stages["align"], stages["embed"])]
    plain_stats: dict[str, StageStats] = {}
    ratio = float("nan")
    plain_ok = 0
    if with_plain and kept:
        entry = modelstore.embedder_entry()
        prep = entry.preprocessing
        from facevault.vision import reference

        times, plain_ok = reference.plain_reference(
            kept, modelstore.model_path("landmarker"), entry.path, video=video,
            mean=float(prep.mean), std=float(prep.std),  # type: ignore[union-attr,arg-type]
            input_name=str(prep.input_name), output_name=str(prep.output_name),  # type: ignore[union-attr]
        )
        plain_stats["process"] = percentiles(times)
        ours = percentiles(ours_process)
        if plain_stats["process"].p50_ms > 0:
            ratio = ours.p50_ms / plain_stats["process"].p50_ms
    stats = {k: percentiles(v) for k, v in stages.items()}
    stats["process"] = percentiles(ours_process)
    h, w = kept[0].shape[:2] if kept else (0, 0)
    return SpeedReport(
        source=source_spec, frames=len(stages["total"]), ok_frames=ok, frame_size=(w, h),
        stages=stats, plain=plain_stats, ratio_p50=ratio, peak_rss_mb=peak_rss_mb(),
        first_frame_s=first_frame_s, plain_ok_frames=plain_ok, notes=notes,
    )


def report_lines(r: SpeedReport) -> list[str]:
    lines = [f"source {r.source}: {r.frames} frames {r.frame_size[0]}x{r.frame_size[1]}, "
             f"{r.ok_frames} with a usable face"]
    lines.append(f"{'stage':<10}{'p50 ms':>9}{'p95 ms':>9}")
    for k in ("decode", "landmarks", "align", "embed", "process", "total"):
        s = r.stages[k]
        lines.append(f"{k:<10}{s.p50_ms:>9.2f}{s.p95_ms:>9.2f}")
    if "process" in r.plain:
        s = r.plain["process"]
        lines.append(f"{'plain':<10}{s.p50_ms:>9.2f}{s.p95_ms:>9.2f}   "
                     f"(reference script, {r.plain_ok_frames} faces)")
        lines.append(f"ratio p50 ours/plain (landmarks..embedding): {r.ratio_p50:.2f}")
    lines.append(f"peak RSS {r.peak_rss_mb:.0f} MB")
    if r.first_frame_s is not None:
        lines.append(f"process start -> first processed frame: {r.first_frame_s:.2f} s")
    lines.extend(f"note: {n}" for n in r.notes)
    return lines


# ----------------------------------------------------------------------------- end to end


@dataclass(frozen=True)
class EndToEndReport:
    """Medians (seconds) of enroll (frames -> new vault) and unlock (frames -> open vault),
    their unavoidable parts (the pipeline on the same frames, the Argon2id calls) and the
    ratio of the whole to those parts; vault throughput against raw AEAD from bench vault."""

    source: str
    repeats: int
    enroll_frames: int  # good frames fused per enrollment
    unlock_frames: int  # good frames offered per unlock
    kdf_s: float  # one Argon2id derivation at DEFAULT_PARAMS
    enroll_s: float
    enroll_pipeline_s: float
    enroll_kdf_calls: int  # slots sealed by vaults.create (face + recovery)
    enroll_ratio: float  # enroll_s / (pipeline + kdf_calls * kdf_s)
    unlock_s: float
    unlock_pipeline_s: float
    unlock_ratio: float  # unlock_s / pipeline (a face slot has no key stretching)
    throughput: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Still:
    """A decoded frame kept in memory so every repeat sees the same pixels."""

    def __init__(self, rgb: np.ndarray, origin: str) -> None:
        self.rgb, self.origin, self.timestamp_ms = rgb, origin, 0


def run_end_to_end(
    source_spec: str,
    *,
    enroll_frames: int = 5,
    unlock_frames: int = 3,
    repeats: int = 5,
    throughput_mib: int = 256,
    workdir: Path | None = None,
) -> EndToEndReport:
    """Time the user-visible operations on frames of `source_spec` (decoded once, up front).

    enroll: process frames until `enroll_frames` are good, fuse them, services.enroll.create_vault.
    unlock: process frames until `unlock_frames` are good, read the header and open the vault
    with their embeddings (services.unlock.LockedVault).
    The pipeline is created once (as the app keeps it loaded); Argon2id runs at DEFAULT_PARAMS.
    """
    import statistics
    import tempfile

    from facevault.bench.vault import run_vault_bench
    from facevault.core import kdf
    from facevault.core.factors import FaceFactor, Factors
    from facevault.services.enroll import create_vault
    from facevault.services.models import face_pipeline
    from facevault.services.trust import PinStore
    from facevault.services.unlock import LockedVault
    from facevault.vision.pipeline import FacePipeline, fuse
    from facevault.vision.sources import open_source

    frames: list[_Still] = []
    with open_source(source_spec) as source:
        for frame in source:
            frames.append(_Still(np.array(frame.rgb, copy=True), str(getattr(frame, "origin", "?"))))
            if len(frames) >= 4 * (enroll_frames + unlock_frames) or source.is_live and len(frames) >= 60:
                break
    if not frames:
        raise ValueError(f"{source_spec} gave no frames")
    notes: list[str] = []
    kdf_s = statistics.median(kdf.measure(kdf.DEFAULT_PARAMS) for _ in range(max(1, min(repeats, 3))))

    def good(pipeline: FacePipeline, want: int, start: int) -> tuple[list[Any], float]:
        obs: list[Any] = []
        spent, k = 0.0, start
        while len(obs) < want and k < start + len(frames):
            t0 = time.perf_counter()
            o = pipeline.process(frames[k % len(frames)])
            spent += time.perf_counter() - t0
            if o.ok:
                obs.append(o)
            k += 1
        return obs, spent

    enroll_t, enroll_p, unlock_t, unlock_p = [], [], [], []
    kdf_calls = 0
    pipeline = face_pipeline(False)
    try:
        with tempfile.TemporaryDirectory(dir=workdir, prefix="fv-speed-") as tmp_name:
            tmp = Path(tmp_name)
            for r in range(repeats):
                t0 = time.perf_counter()
                obs, p_s = good(pipeline, enroll_frames, 0)
                if len(obs) < enroll_frames:
                    raise ValueError(f"{source_spec}: only {len(obs)} usable faces for enrollment")
                pins = PinStore(tmp / "pins")  # a benchmark's vaults are never pinned for real
                created = create_vault(tmp / f"v{r}", fuse(obs).embedding, kdf=kdf.DEFAULT_PARAMS,
                                       pins=pins)
                enroll_t.append(time.perf_counter() - t0)
                enroll_p.append(p_s)
                kdf_calls = sum(1 for s in _slots(tmp / f"v{r}") if s.kdf.stretches)
                del created
                t0 = time.perf_counter()
                obs, p_s = good(pipeline, unlock_frames, enroll_frames)
                if len(obs) < unlock_frames:
                    raise ValueError(f"{source_spec}: only {len(obs)} usable faces for unlock")
                LockedVault.read(tmp / f"v{r}", pins).open(Factors(FaceFactor(tuple(o.embedding for o in obs))))
                unlock_t.append(time.perf_counter() - t0)
                unlock_p.append(p_s)
    finally:
        pipeline.close()
    if len(frames) < enroll_frames + unlock_frames:
        notes.append("fewer frames than enroll + unlock: unlock reused enrollment frames")
    e, ep, u, up = (statistics.median(x) for x in (enroll_t, enroll_p, unlock_t, unlock_p))
    vault = run_vault_bench(size_mib=throughput_mib, repeats=1, workdir=workdir)
    return EndToEndReport(
        source=source_spec, repeats=repeats, enroll_frames=enroll_frames, unlock_frames=unlock_frames,
        kdf_s=kdf_s, enroll_s=e, enroll_pipeline_s=ep, enroll_kdf_calls=kdf_calls,
        enroll_ratio=e / (ep + kdf_calls * kdf_s), unlock_s=u, unlock_pipeline_s=up,
        unlock_ratio=u / up, throughput=vault["throughput"], notes=notes,
    )


def _slots(path: Path) -> list[Any]:
    """The slots of the vault at `path` (those that stretch cost one Argon2id call each)."""
    from facevault.core import vault as vault_mod

    return list(vault_mod.read_headers_at(Path(path)).best.slots)


def end_to_end_lines(r: EndToEndReport) -> list[str]:
    t = r.throughput
    return [
        f"end to end on {r.source} (medians of {r.repeats}; Argon2id {r.kdf_s * 1000:.0f} ms per call)",
        f"enroll  {r.enroll_frames} frames -> new vault   {r.enroll_s * 1000:8.0f} ms  "
        f"(pipeline {r.enroll_pipeline_s * 1000:.0f} ms + {r.enroll_kdf_calls} KDF calls; ratio {r.enroll_ratio:.2f})",
        f"unlock  {r.unlock_frames} frames -> open vault  {r.unlock_s * 1000:8.0f} ms  "
        f"(pipeline {r.unlock_pipeline_s * 1000:.0f} ms, no KDF call; ratio {r.unlock_ratio:.2f})",
        f"vault throughput on {t['size_mib']} MiB: add {t['add_mib_s']:.0f} MiB/s ({t['add_ratio']:.0%} of raw "
        f"AEAD {t['raw_aead_mib_s']:.0f} MiB/s), get {t['get_mib_s']:.0f} MiB/s ({t['get_ratio']:.0%})",
    ] + [f"note: {n}" for n in r.notes]
