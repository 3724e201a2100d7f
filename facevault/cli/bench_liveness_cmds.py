"""`facevault bench liveness`: what the passive anti-spoof model says on real photos versus
synthesised photos-of-photos and screens (see docs/LIVENESS.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["register_bench", "cmd_liveness"]



def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("liveness", help="passive anti-spoof model: real photos vs synthetic attacks")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="the shared data folder with photos/ and lfw-dev/ (default: $FACEVAULT_TEST_DATA or ../shared/data)")
    p.add_argument("--lfw", type=int, default=150, help="how many LFW photos to add (default 150)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic attacks (default 1)")
    p.add_argument("--all-variants", action="store_true",
                   help="also score the rejected preprocessing variants (slow: about 8 minutes)")
    p.set_defaults(func=cmd_liveness)


def cmd_liveness(args: argparse.Namespace) -> int:
    from facevault.bench.liveness import VARIANTS, format_report, run_antispoof_eval, sample_photos
    from facevault.errors import UsageError
    from facevault.paths import SOURCE_ROOT

    data = args.data or Path(os.environ.get("FACEVAULT_TEST_DATA", SOURCE_ROOT.parent / "shared" / "data"))
    if not (data / "photos").is_dir():
        raise UsageError(f"no photos/ folder in {data}", hint="give --data DIR")
    variants = None if args.all_variants else {"BGR raw x2.7": VARIANTS["BGR raw x2.7"]}
    print(format_report(run_antispoof_eval(sample_photos(data, lfw=args.lfw), seed=args.seed, variants=variants)))
    return 0
