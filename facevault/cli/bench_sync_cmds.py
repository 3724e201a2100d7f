"""`facevault bench sync`: open time and peak memory of a synced vault against the number of
entries and journal records, and the time a change takes to reach another device through
Syncthing (facevault.bench.sync)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register_bench", "cmd_sync"]


def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("sync", help="open time and memory vs entries and journal records; "
                                     "propagation through Syncthing")
    p.add_argument("--entries", type=int, action="append", metavar="N",
                   help="entries in the snapshot (repeatable; default 1000, 10000, 100000)")
    p.add_argument("--records", type=int, default=1000, metavar="R",
                   help="journal records after the snapshot (default 1000)")
    p.add_argument("--repeats", type=int, default=5, help="fresh processes per size (default 5)")
    p.add_argument("--syncthing", type=int, default=0, metavar="ADDS",
                   help="also time ADDS adds through a Syncthing pair on 127.0.0.1 (needs syncthing)")
    p.add_argument("--workdir", type=Path, help="folder for the temporary vaults")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    p.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from facevault.bench.sync import as_json, format_report, measure_propagation, run_open_bench
    from facevault.errors import UsageError

    sizes = args.entries or [1000, 10000, 100000]
    if args.repeats < 1 or args.records < 0 or any(n < 0 for n in sizes):
        raise UsageError("--repeats must be at least 1; --entries and --records not negative")
    points = run_open_bench([(n, args.records) for n in sizes], args.repeats, args.workdir)
    propagation = measure_propagation(args.syncthing, args.workdir) if args.syncthing else None
    print(format_report(points, propagation))
    if args.json is not None:
        args.json.write_text(as_json(points, propagation) + "\n")
    return 0
