"""`facevault bench ...`: benchmarks that print numbers (speed, lfw; more may be added).

The `bench` group is one subparser; each benchmark registers its own action. Other
modules may add actions by defining `register_bench(bench_subparsers)` and being listed
in BENCH_MODULES (missing modules are skipped, so groups can land independently).
Heavy imports happen inside the commands so `facevault --help` stays fast.

May import: stdlib, facevault.* (vision and bench lazily).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "cmd_speed", "cmd_lfw", "add_cache_option"]


BENCH_MODULES: tuple[str, ...] = (
    "facevault.cli.bench_accuracy_cmds",
    "facevault.cli.bench_vault_cmds",
    "facevault.cli.bench_sync_cmds",
    "facevault.cli.bench_face_cmds",
    "facevault.cli.bench_liveness_cmds",
    "facevault.cli.bench_cloak_cmds",
)


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="benchmarks: speed, LFW accuracy")
    bsub = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    bench.set_defaults(func=lambda args: (bench.print_help(), 2)[1])

    p = bsub.add_parser("speed", help="per-stage latency of frame -> embedding vs a plain script")
    p.add_argument("--source", required=True, metavar="SRC",
                   help="camera:N, a video, an image or a folder of images")
    p.add_argument("--frames", type=int, default=100, help="frames to time (default 100; looped)")
    p.add_argument("--no-plain", action="store_true", help="skip the plain reference script")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    p.add_argument("--end-to-end", action="store_true",
                   help="also time enroll (frames -> new vault) and unlock (frames -> open vault) "
                        "and vault throughput vs raw AEAD")
    p.add_argument("--repeats", type=int, default=5, help="repeats for the end-to-end medians (default 5)")
    p.add_argument("--throughput-mib", type=int, default=256,
                   help="file size for the end-to-end throughput (default 256)")
    p.set_defaults(func=cmd_speed)

    p = bsub.add_parser("lfw", help="LFW View 1 verification accuracy and TAR at FAR 1e-3")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the lfw-dev folder")
    p.add_argument("--pairs", type=Path, required=True, metavar="FILE",
                   help="pairsDevTest.txt (threshold tuned on pairsDevTrain.txt beside it)")
    p.add_argument("--train-pairs", type=Path, metavar="FILE", help="tuning pairs (default: DevTrain)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    add_cache_option(p)
    p.set_defaults(func=cmd_lfw)

    for name in BENCH_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register_bench(bsub)


def add_cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedding-cache", type=Path, metavar="DIR",
                   help="keep the photos' face embeddings in DIR between runs (plaintext embeddings: "
                        "benchmark photos only; default: none kept)")


def _write_json(out: Path | None, data: dict[str, Any]) -> None:
    if out is not None:
        out.write_text(json.dumps(data, indent=2, default=str) + "\n")


def cmd_speed(args: argparse.Namespace) -> int:
    from facevault.bench.speed import report_lines, run_speed
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    if args.frames < 1:
        raise UsageError("--frames must be at least 1")
    bar = ProgressLine("timing", args.frames)
    report = run_speed(args.source, frames=args.frames, with_plain=not args.no_plain,
                       progress=lambda done, total: bar.update(done))
    bar.update(args.frames)
    if bar.enabled:
        print(file=sys.stderr)
    print("\n".join(report_lines(report)))
    data = report.as_dict()
    if args.end_to_end:
        from facevault.bench.speed import end_to_end_lines, run_end_to_end

        if args.repeats < 1 or args.throughput_mib < 1:
            raise UsageError("--repeats and --throughput-mib must be at least 1")
        e2e = run_end_to_end(args.source, repeats=args.repeats, throughput_mib=args.throughput_mib)
        print("\n".join(end_to_end_lines(e2e)))
        data["end_to_end"] = e2e.as_dict()
    _write_json(args.json, data)
    return 0


def cmd_lfw(args: argparse.Namespace) -> int:
    from facevault.bench.lfw import iter_report_lines, report_dict, run_lfw
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    if not args.pairs.is_file():
        raise UsageError(f"No pairs file at {args.pairs}")
    bar = ProgressLine("embedding")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    report = run_lfw(args.data, args.pairs, train_pairs_file=args.train_pairs, progress=progress,
                     cache_root=args.embedding_cache)
    if bar.enabled:
        print(file=sys.stderr)
    print("\n".join(iter_report_lines(report)))
    _write_json(args.json, report_dict(report))
    return 0
