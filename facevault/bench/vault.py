"""`facevault bench vault`: unlock latency, vault throughput against raw AEAD, and the
per-preset attack-cost table. Prints medians and ratios measured in one run.

May import: numpy, cryptography, facevault.core, facevault.services (no cv2/Qt: the peak
RSS it reports is the vault's own).
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["run_vault_bench", "preset_table", "format_report", "PresetRow", "peak_rss_mib"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class PresetRow:
    name: str
    dim: int
    alpha: int
    bits: float
    kdf_seconds: float  # one Argon2id derivation at the default cost, measured here
    brute_force_log2_seconds: float  # log2(2^bits * kdf_seconds)
    dictionary: dict[str, float]  # FAR -> expected seconds of the false-accept attack (1/FAR guesses)


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def preset_table(kdf_seconds: float, fars: Sequence[float] = (1e-3, 1e-4, 1e-5)) -> list[PresetRow]:
    from facevault.core import ironmask

    rows = []
    for name, params in ironmask.PRESETS.items():
        rows.append(PresetRow(
            name=name, dim=params.dim, alpha=params.alpha, bits=params.bits, kdf_seconds=kdf_seconds,
            brute_force_log2_seconds=params.bits + float(np.log2(kdf_seconds)),
            dictionary={f"{far:g}": kdf_seconds / far for far in fars},
        ))
    return rows


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(512)
    return v / np.linalg.norm(v)


def _probe(t: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    n = rng.standard_normal(t.shape[0])
    n -= n @ t * t
    n /= np.linalg.norm(n)
    th = np.radians(degrees)
    out: np.ndarray = np.cos(th) * t + np.sin(th) * n
    return out


def _raw_aead_seconds(size: int) -> float:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    aead = ChaCha20Poly1305(os.urandom(32))
    chunk = os.urandom(64 * 1024)
    n = size // len(chunk)
    t0 = time.perf_counter()
    for i in range(n):
        aead.encrypt(i.to_bytes(12, "big"), chunk, None)
    return time.perf_counter() - t0


def _raw_file_seconds(src: Path, dst: Path) -> float:
    """Raw AEAD file to file with the same I/O as the vault (64 KiB reads, one write per
    chunk, fsync at the end): what the disk and the cipher allow together."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    aead = ChaCha20Poly1305(os.urandom(32))
    t0 = time.perf_counter()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        i = 0
        while chunk := fin.read(64 * 1024):
            fout.write(aead.encrypt(i.to_bytes(12, "big"), chunk, None))
            i += 1
        fout.flush()
        os.fsync(fout.fileno())
    seconds = time.perf_counter() - t0
    dst.unlink()
    return seconds


def _child_throughput(path: str, src: str, out: str, conn: Any) -> None:
    """Runs in a fresh process so its peak RSS is the vault's add+get alone. The recovery
    code comes through the pipe (never a command line); the timing starts after the unlock."""
    from facevault.core import vault as vault_mod
    from facevault.core.factors import Factors, RecoveryFactor

    code = conn.recv()
    opened = vault_mod.open_vault(Path(path), Factors(RecoveryFactor(code)),
                                  device=vault_mod.DeviceRef(os.urandom(16), "bench"))
    t0 = time.perf_counter()
    for _ in opened.add_file(Path(src), "big.bin"):
        pass
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in opened.extract("big.bin", Path(out)):
        pass
    get_s = time.perf_counter() - t0
    conn.send((add_s, get_s, peak_rss_mib()))
    conn.close()


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM (Linux) belongs to the current address
    space, so a spawned child does not inherit its parent's peak as ru_maxrss does."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_random_file(path: Path, size: int) -> None:
    block = os.urandom(4 * MIB)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)


def run_vault_bench(*, size_mib: int = 1024, repeats: int = 5, workdir: Path | None = None,
                    fars: Sequence[float] = (1e-3, 1e-4, 1e-5)) -> dict[str, Any]:
    from facevault.core import kdf
    from facevault.core.factors import FaceFactor, Factors
    from facevault.services.enroll import create_vault
    from facevault.services.trust import PinStore
    from facevault.services.unlock import LockedVault

    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "big"))
    result: dict[str, Any] = {}
    kdf_seconds = _median_time(lambda: kdf.derive_key(b"x" * 32, b"s" * 16, kdf.DEFAULT_PARAMS), repeats)
    result["kdf"] = {**asdict(kdf.DEFAULT_PARAMS), "median_seconds": kdf_seconds}
    with tempfile.TemporaryDirectory(dir=workdir, prefix="fv-bench-") as tmp_name:
        tmp = Path(tmp_name)
        face = _unit(rng)
        pins = PinStore(tmp / "pins")  # a benchmark's vaults are never pinned for real
        code = create_vault(tmp / "v", face, kdf=kdf.DEFAULT_PARAMS, pins=pins).recovery_code
        probes = Factors(FaceFactor(tuple(_probe(face, 25, rng) for _ in range(3))))
        unlock_s = _median_time(lambda: LockedVault.read(tmp / "v", pins).open(probes), repeats)
        result["unlock"] = {"median_seconds": unlock_s, "probes": 3, "note": "3 probe embeddings -> open vault"}

        size = size_mib * MIB
        src = tmp / "big.bin"
        _write_random_file(src, size)
        raw_s = _raw_aead_seconds(size)
        raw_file_s = _raw_file_seconds(src, tmp / "raw.out")
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child_throughput,
                           args=(str(tmp / "v"), str(src), str(tmp / "out.bin"), child))
        proc.start()
        parent.send(code)
        add_s, get_s, child_peak = parent.recv()
        proc.join()
        result["throughput"] = {
            "size_mib": size_mib,
            "raw_aead_mib_s": size_mib / raw_s,
            "raw_aead_file_mib_s": size_mib / raw_file_s,
            "add_mib_s": size_mib / add_s,
            "get_mib_s": size_mib / get_s,
            "add_ratio": raw_s / add_s,
            "get_ratio": raw_s / get_s,
            "add_ratio_file": raw_file_s / add_s,
            "get_ratio_file": raw_file_s / get_s,
            "peak_rss_mib": child_peak,
        }
    result["presets"] = [asdict(r) for r in preset_table(kdf_seconds, fars)]
    return result


def format_report(r: dict[str, Any]) -> str:
    k, u, t = r["kdf"], r["unlock"], r["throughput"]
    lines = [
        f"KDF Argon2id t={k['time_cost']} m={k['memory_kib'] // 1024} MiB p={k['parallelism']}: "
        f"median {k['median_seconds'] * 1000:.0f} ms per derivation",
        f"unlock (3 probe embeddings -> open vault): median {u['median_seconds'] * 1000:.0f} ms "
        f"(one KDF call + {max(0.0, u['median_seconds'] - k['median_seconds']) * 1000:.0f} ms)",
        f"throughput on {t['size_mib']} MiB: raw ChaCha20-Poly1305 {t['raw_aead_mib_s']:.0f} MiB/s; "
        f"add {t['add_mib_s']:.0f} MiB/s ({t['add_ratio']:.0%} of raw); "
        f"get {t['get_mib_s']:.0f} MiB/s ({t['get_ratio']:.0%} of raw)",
        f"  raw AEAD file to file with the same I/O and fsync: {t['raw_aead_file_mib_s']:.0f} MiB/s; "
        f"add {t['add_ratio_file']:.0%}, get {t['get_ratio_file']:.0%} of that",
        f"peak RSS of a process doing only add+get of {t['size_mib']} MiB: {t['peak_rss_mib']:.0f} MiB",
        "",
        f"{'preset':9} {'C(n,a)':>9} {'bits':>6} {'brute force':>18}  dictionary attack (1/FAR guesses x KDF)",
    ]
    for p in r["presets"]:
        dict_txt = ", ".join(f"FAR {far}: {_human(sec)}" for far, sec in p["dictionary"].items())
        lines.append(
            f"{p['name']:9} {'C(%d,%d)' % (p['dim'], p['alpha']):>9} {p['bits']:6.1f} "
            f"{'2^%.0f s' % p['brute_force_log2_seconds']:>18}  {dict_txt}"
        )
    return "\n".join(lines)


def _human(seconds: float) -> str:
    for unit, size in (("years", 3.15e7), ("days", 86400), ("hours", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"
