"""`facevault bench cloak`: the photo cloak's cost and protection (facevault.bench.cloak).

May import: stdlib, facevault.* (bench lazily inside the command).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facevault.cli.bench_cmds import add_cache_option

__all__ = ["register_bench", "cmd_cloak_bench"]


def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("cloak", help="photo cloak: SSIM, time, protection against the own and a held-out model")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the lfw-dev folder")
    p.add_argument("--pairs", type=Path, metavar="FILE", help="LFW pairs file (default DIR/pairsDevTest.txt)")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="same-person pairs to cloak (default 100)")
    p.add_argument("--strength", choices=("low", "default", "high"), action="append",
                   help="strength to measure (repeatable; default: default)")
    p.add_argument("--gallery", type=int, metavar="N", help="identities in the identification gallery (default all)")
    p.add_argument("--threshold-photos", type=int, metavar="N",
                   help="photos for the FAR thresholds (default every photo of the pairs file)")
    p.add_argument("--no-heldout", action="store_true", help="skip the held-out model even if installed")
    p.add_argument("--examples", type=Path, metavar="DIR", help="write before|after|difference pictures here")
    p.add_argument("--start", type=int, default=0, metavar="K",
                   help="begin at the K-th usable pair (pairs are taken evenly spaced; default 0)")
    p.add_argument("--targets", type=int, default=0, metavar="N",
                   help="targeted mode: pull faces toward N stand-in people of the other pairs file (default 0: untargeted)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    add_cache_option(p)
    p.set_defaults(func=cmd_cloak_bench)


def cmd_cloak_bench(args: argparse.Namespace) -> int:
    from facevault.bench import heldout
    from facevault.bench.cloak import report_lines, run_cloak_bench
    from facevault.cli.output import err
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    pairs = args.pairs or args.data / "pairsDevTest.txt"
    if not args.data.is_dir() or not pairs.is_file():
        raise UsageError(f"no LFW folder with a pairs file at {args.data}", hint="give --data and --pairs")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    use_heldout = not args.no_heldout and heldout.available()
    if not args.no_heldout and not use_heldout:
        err(f"the held-out model is not installed: only FaceVault's own model is measured. {heldout.INSTALL_HINT}")
    bar = ProgressLine("bench cloak")

    def progress(what: str, done: int, total: int) -> None:
        bar.label, bar.total = what, total
        bar.update(done)

    results = {}
    for strength in args.strength or ["default"]:
        r = run_cloak_bench(args.data, pairs, limit=args.limit, strength=strength, gallery_size=args.gallery,
                            threshold_photos=args.threshold_photos, heldout=use_heldout,
                            cache_root=args.embedding_cache, seed=args.seed, start=args.start,
                            examples=args.examples, targets=args.targets,
                            progress=progress)
        bar.close()
        print("\n".join(report_lines(r)))
        results[strength] = r.as_dict()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0
