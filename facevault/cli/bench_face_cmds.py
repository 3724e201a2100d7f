"""`facevault bench ranking`: the helper-ranking attack on the slots FaceVault stores, per
mode and preset (facevault.bench.ranking); `facevault bench policy`: TAR and FAR of
candidate codebooks with the shipped unlock policy replayed exactly (facevault.bench.policy),
and `--write-far` to store the figures the CLI and the app state.

May import: stdlib, facevault.* (bench lazily inside the commands).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from facevault.cli.bench_cmds import add_cache_option

__all__ = ["register_bench", "cmd_ranking", "cmd_policy", "cmd_guided", "cmd_figures"]


def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("ranking", help="the helper-ranking attack: identify the owner, and open a face "
                                        "vault with a face dictionary, from the stored slot alone")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="one folder per identity (lfw-dev)")
    p.add_argument("--owners", type=int, default=200, help="enrolled owners (default 200)")
    p.add_argument("--preset", action="append", metavar="NAME", help="preset (repeatable; default all)")
    p.add_argument("--mode", action="append", metavar="MODE", help="mode (repeatable; default all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT")
    add_cache_option(p)
    p.set_defaults(func=cmd_ranking)

    p = bsub.add_parser("policy", help="TAR/FAR per codebook with the shipped unlock policy replayed exactly")
    p.add_argument("--data", type=Path, required=True, metavar="DIR")
    p.add_argument("--alpha", type=int, action="append", metavar="A",
                   help="codebook C(512, A) (repeatable; default 10 to 16 and 20)")
    p.add_argument("--enroll", type=int, default=5, metavar="K", help="photos per enrollment (default 5)")
    p.add_argument("--probe", type=int, action="append", metavar="M", help="photos per attempt (default 1 and 3)")
    p.add_argument("--max-enrollments", type=int, metavar="N", help="cap the enrollments (default all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT")
    p.add_argument("--write-far", type=Path, metavar="FILE",
                   help="write the shipped presets' figures as the FAR/TAR file the CLI and the app "
                        "read (services.threat)")
    add_cache_option(p)
    p.set_defaults(func=cmd_policy)

    p = bsub.add_parser("guided", help="guided enrollment (poses) against the first good frames, on "
                                       "camera-like streams made from photos")
    p.add_argument("--photos", type=Path, metavar="DIR", help="one folder per person (the shared photos/)")
    p.add_argument("--lfw", type=Path, metavar="DIR", help="also lfw-dev's people with 4+ images")
    p.add_argument("--orders", type=int, default=3, help="random photo orders per person (default 3)")
    p.add_argument("--hold", type=int, default=6, help="frames each enrollment photo is held (default 6)")
    p.add_argument("--max-people", type=int, metavar="N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT")
    p.set_defaults(func=cmd_guided)

    p = bsub.add_parser("figures", help="measure the reference machine and write the shipped attack "
                                        "figures (resources/figures.json)")
    p.add_argument("--far", type=Path, required=True, metavar="FILE", help="from `bench policy --write-far`")
    p.add_argument("--ranking", type=Path, required=True, metavar="FILE", help="from `bench ranking --json`")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.set_defaults(func=cmd_figures)


def _images(data: Path, cache: Path | None = None) -> Any:
    from facevault.bench.images import load_images
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    if not data.is_dir():
        raise UsageError(f"No folder at {data}")
    bar = ProgressLine("embedding")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    images = load_images(data, progress=progress, cache_root=cache)
    bar.close()
    return images


def _bar(label: str) -> Any:
    from facevault.cli.progress import ProgressLine

    bar = ProgressLine(label)

    def progress(name: str, done: int, total: int) -> None:
        bar.total = total
        bar.update(done, name)

    return bar, progress


def cmd_ranking(args: argparse.Namespace) -> int:
    from facevault.bench import ranking
    from facevault.core import ironmask

    images = _images(args.data, args.embedding_cache)
    bar, progress = _bar("ranking")
    rows = ranking.run_ranking(images, owners=args.owners, presets=args.preset or list(ironmask.PRESETS),
                               modes=args.mode or ["face", "face+device", "face+passphrase"], seed=args.seed,
                               progress=progress)
    bar.close()
    print("\n".join(ranking.ranking_lines(rows)))
    if args.json is not None:
        args.json.write_text(json.dumps(ranking.as_dicts(rows), indent=2) + "\n")
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    from facevault.bench import policy
    from facevault.core import ironmask

    images = _images(args.data, args.embedding_cache)
    rows = []
    for m in args.probe or [1, 3]:
        bar, progress = _bar("decoding")
        rows += policy.run_policy(images, alphas=args.alpha or [10, 11, 12, 13, 14, 15, 16, 20],
                                  enroll_k=args.enroll, probe_m=m, seed=args.seed,
                                  max_enrollments=args.max_enrollments, progress=progress)
        bar.close()
    print("\n".join(policy.policy_lines(rows)))
    if args.json is not None:
        args.json.write_text(json.dumps(policy.as_dicts(rows), indent=2) + "\n")
    if args.write_far is not None:
        presets = {}
        for name, params in ironmask.PRESETS.items():
            mine = [r for r in rows if r.alpha == params.alpha and r.dim == params.dim]
            if not mine:
                continue
            best = max(mine, key=lambda r: r.impostor)  # the largest impostor set
            presets[name] = {"far": best.far_upper, "tar": max(min(r.tar for r in mine if r.genuine), 1e-6),
                             "far_accepts": best.impostor_accepts, "far_trials": best.impostor,
                             "tar_trials": sum(r.genuine for r in mine)}
        doc = {"source": f"facevault bench policy on {args.data.name} ({len(images.paths)} photos, "
                         f"{len(set(images.identities))} people): enrollment from {args.enroll} photos, "
                         f"attempts of {', '.join(str(m) for m in (args.probe or [1, 3]))} photos, the shipped "
                         "unlock policy; FAR is the one-sided 95% upper bound, TAR the lowest measured",
               "presets": presets}
        args.write_far.parent.mkdir(parents=True, exist_ok=True)
        args.write_far.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.write_far}", file=sys.stderr)
    return 0


def cmd_guided(args: argparse.Namespace) -> int:
    from facevault.bench.guided import report_lines, run_guided
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    if args.photos is None and args.lfw is None:
        raise UsageError("give --photos DIR and/or --lfw DIR")
    bar = ProgressLine("people")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    try:
        report = run_guided(args.photos, args.lfw, orders=args.orders, hold=args.hold, seed=args.seed,
                            max_people=args.max_people, progress=progress)
    finally:
        bar.close()
    for line in report_lines(report):
        print(line)
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_dict(), indent=1) + "\n")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from facevault.bench.figures import compose, measure_reference

    reference = measure_reference()
    doc = compose(args.far, args.ranking, reference)
    args.output.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(reference, indent=2))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
