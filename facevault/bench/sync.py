"""`facevault bench sync`: what a synced vault costs to open as it grows, and how long a
change takes to reach the other computer through Syncthing.

Open time: vaults of N entries (a snapshot of N records, written as a compaction would) and
R journal records after it (real adds and overwrites) are opened in a fresh process each
time: the median time to open and list them, the part of it that is the slot unlock (the
"KDF": a recovery slot, one X25519 exchange), what is beyond it, and the process's peak
memory. The recovery code goes to the child on stdin, never on a command line.

Propagation: two Syncthing instances on 127.0.0.1 (facevault.bench.syncthing, their own
file watchers on, as on a desktop); a file added on one device is timed until the other
device's vault lists it.

May import: stdlib, facevault.core, facevault.bench.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["OpenPoint", "build_vault", "measure_open", "run_open_bench", "measure_propagation",
           "format_report", "as_json"]


@dataclass(frozen=True)
class OpenPoint:
    entries: int
    journal_records: int
    open_ms: float  # median: read headers, unlock, read journals and snapshots, list
    unlock_ms: float  # of which the slot unlock
    beyond_kdf_ms: float
    list_ms: float
    peak_rss_mib: float
    repeats: int


def build_vault(path: Path, entries: int, journal_records: int) -> str:
    """A vault at `path` holding `entries` files in a snapshot and `journal_records` more
    records in this device's journal; returns its recovery code."""
    from facevault.core.factors import Factors, RecoveryFactor
    from facevault.core.journal import Snapshot, write_snapshot
    from facevault.core.kdf import NO_KDF
    from facevault.core.kinds import Kind
    from facevault.core.recovery import new_recovery_code
    from facevault.core.records import PUT, Record
    from facevault.core.sealing import SlotPlan
    from facevault.core.vault import DeviceRef, create_vault

    code = new_recovery_code()
    bulk = DeviceRef(os.urandom(16), "bulk")
    vault = create_vault(path, [SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(code)), NO_KDF)],
                         mode=None, device=bulk)
    now = time.time()
    label = vault.epoch.label
    records = tuple(Record(os.urandom(16).hex(), PUT, f"folder{i // 1000:03d}/file{i:06d}.dat", (), 1,
                           bulk.id.hex(), i + 1, now, bulk.name, os.urandom(16).hex(),
                           os.urandom(16).hex(), 1000 + i, now, label) for i in range(entries))
    snap = Snapshot(bulk.id, vault.epoch, {bulk.id.hex(): entries}, 1, records, frozenset())
    (path / "snapshots").mkdir(mode=0o700, exist_ok=True)
    write_snapshot(path / "snapshots" / f"{bulk.id.hex()}.fvs", vault.vault_id, snap,
                   vault._k.key)  # noqa: SLF001 - a benchmark builds the folder a compaction would
    vault.close()
    from facevault.core import vault as vault_mod
    from facevault.core.vault import open_vault

    writer = open_vault(path, Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "laptop"))
    saved, vault_mod.COMPACT_AFTER = vault_mod.COMPACT_AFTER, journal_records + 1  # keep them all in the journal
    try:
        _write(writer, entries, journal_records)
    finally:
        vault_mod.COMPACT_AFTER = saved
    writer.close()
    return code


def _write(writer: object, entries: int, journal_records: int) -> None:
    for i in range(journal_records):
        name = f"folder{(i % max(entries, 1)) // 1000:03d}/file{i % max(entries, 1):06d}.dat" \
            if entries and i % 2 == 0 else f"new/file{i:06d}.dat"
        writer.add_bytes(name, b"x", overwrite=True)  # type: ignore[attr-defined]


_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from facevault.core import epochs, vault as V
from facevault.core.factors import Factors, RecoveryFactor
code = sys.stdin.readline().strip()
path = Path(sys.argv[1])
t_import = time.perf_counter()
spent = {}
real = V.unlock_headers
def timed(*a, **k):
    s = time.perf_counter(); out = real(*a, **k); spent["unlock"] = time.perf_counter() - s; return out
V.unlock_headers = timed
s = time.perf_counter()
vault = V.open_vault(path, Factors(RecoveryFactor(code)), device=V.DeviceRef(os.urandom(16), "bench"))
t_open = time.perf_counter() - s
s = time.perf_counter()
n = len(vault.entries())
t_list = time.perf_counter() - s
print(json.dumps({"open": t_open + t_list, "unlock": spent["unlock"], "list": t_list, "entries": n,
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure_open(path: Path, code: str, repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        res = subprocess.run([sys.executable, "-c", _CHILD, str(path)], input=code + "\n",
                             capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"the open benchmark failed: {res.stderr[-2000:]}")
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in ("open", "unlock", "list", "rss_kib")}
    med["entries"] = runs[0]["entries"]
    return med


def run_open_bench(sizes: list[tuple[int, int]], repeats: int, workdir: Path | None) -> list[OpenPoint]:
    points = []
    with tempfile.TemporaryDirectory(dir=workdir, prefix="fv-bench-sync-") as tmp:
        for entries, records in sizes:
            path = Path(tmp) / f"v-{entries}-{records}"
            code = build_vault(path, entries, records)
            m = measure_open(path, code, repeats)
            points.append(OpenPoint(entries, records, m["open"] * 1000, m["unlock"] * 1000,
                                    (m["open"] - m["unlock"]) * 1000, m["list"] * 1000,
                                    m["rss_kib"] / 1024, repeats))
            shutil.rmtree(path)
    return points


def measure_propagation(adds: int, workdir: Path | None) -> dict[str, float]:
    """Seconds from an add on one device until the other device's vault lists the file,
    through a real Syncthing pair with its file watchers on."""
    from facevault.bench import syncthing
    from facevault.core.factors import Factors, RecoveryFactor
    from facevault.core.vault import DeviceRef, open_vault

    reason = syncthing.available()
    if reason:
        raise RuntimeError(reason)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="fv-bench-st-") as tmp_name:
        tmp = Path(tmp_name)
        a, b = tmp / "a" / "vault", tmp / "b" / "vault"
        a.parent.mkdir()
        b.parent.mkdir()
        code = build_vault(a, 100, 10)
        shutil.copytree(a, b)
        times = []
        with syncthing.running_pair(tmp, a, b, watch=True) as pair:
            pair.wait_in_sync()
            va = open_vault(a, Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "laptop"))
            vb = open_vault(b, Factors(RecoveryFactor(code)), device=DeviceRef(os.urandom(16), "desktop"))
            for i in range(adds):
                name = f"propagation-{i}.txt"
                t0 = time.monotonic()
                va.add_bytes(name, os.urandom(1000))
                while vb.state.view.shown_as(name) is None:
                    if time.monotonic() - t0 > 120:
                        raise TimeoutError("the file did not reach the other device in 120 s")
                    time.sleep(0.02)
                    vb.refresh()
                times.append(time.monotonic() - t0)
    return {"adds": adds, "median_s": statistics.median(times), "max_s": max(times),
            "min_s": min(times)}


def format_report(points: list[OpenPoint], propagation: dict[str, float] | None) -> str:
    lines = ["open and list a synced vault (fresh process each time; medians):",
             f"{'entries':>9} {'journal':>8} {'open+list':>10} {'unlock':>8} {'beyond KDF':>11} "
             f"{'list':>7} {'peak RSS':>9}"]
    for p in points:
        lines.append(f"{p.entries:>9} {p.journal_records:>8} {p.open_ms:>8.1f}ms {p.unlock_ms:>6.1f}ms "
                     f"{p.beyond_kdf_ms:>9.1f}ms {p.list_ms:>5.1f}ms {p.peak_rss_mib:>6.1f}MiB")
    if propagation is not None:
        lines.append(f"add on one device -> listed on the other through Syncthing (its watcher on): "
                     f"median {propagation['median_s']:.2f} s, min {propagation['min_s']:.2f} s, "
                     f"max {propagation['max_s']:.2f} s over {int(propagation['adds'])} adds")
    return "\n".join(lines)


def as_json(points: list[OpenPoint], propagation: dict[str, float] | None) -> str:
    return json.dumps({"open": [asdict(p) for p in points], "propagation": propagation}, indent=2)
