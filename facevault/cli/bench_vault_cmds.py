"""`facevault bench vault`: unlock latency, vault throughput against raw AEAD, peak memory,
and the per-preset table of codebook bits, KDF cost per guess and attack costs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register_bench", "cmd_vault"]



def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("vault", help="unlock latency, add/get throughput vs raw AEAD, preset attack table")
    p.add_argument("--size-mib", type=int, default=1024, help="file size for add/get (default 1024)")
    p.add_argument("--repeats", type=int, default=5, help="repeats for the medians (default 5)")
    p.add_argument("--far", type=float, action="append", metavar="FAR",
                   help="false-accept rates for the dictionary-attack column (repeatable; "
                        "default 1e-3, 1e-4, 1e-5; measure yours with `facevault bench accuracy`)")
    p.add_argument("--workdir", type=Path, help="folder for the temporary vault (default: system temp)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    p.set_defaults(func=cmd_vault)


def cmd_vault(args: argparse.Namespace) -> int:
    from facevault.bench.vault import format_report, run_vault_bench
    from facevault.errors import UsageError

    if args.size_mib < 1 or args.repeats < 1:
        raise UsageError("--size-mib and --repeats must be at least 1")
    fars = tuple(args.far) if args.far else (1e-3, 1e-4, 1e-5)
    result = run_vault_bench(size_mib=args.size_mib, repeats=args.repeats, workdir=args.workdir, fars=fars)
    print(format_report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0
