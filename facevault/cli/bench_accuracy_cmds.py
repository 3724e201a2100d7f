"""`facevault bench accuracy`: IronMask TAR/FAR per setting on an LFW-layout folder, against
the plain-cosine baseline on the same trials; `facevault bench report`: the documented suite
that regenerates docs/BENCHMARKS.md.

May import: stdlib, facevault.* (bench lazily inside the command).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from facevault.cli.bench_cmds import add_cache_option

__all__ = ["register_bench", "cmd_accuracy", "register_report", "cmd_report"]



def register_bench(bsub: Any) -> None:
    p = bsub.add_parser("accuracy", help="TAR/FAR of IronMask settings on real faces vs plain cosine")
    p.add_argument("--data", type=Path, required=True, metavar="DIR",
                   help="one folder per identity (or DIR/images/<identity>/...)")
    p.add_argument("--pairs", type=Path, metavar="FILE",
                   help="LFW pairs file: enroll each same-person pair's first image, probe with the second; "
                        "impostors are all images of other identities")
    p.add_argument("--train-pairs", type=Path, metavar="FILE",
                   help="pairs to tune the plain-cosine threshold on (default: pairsDevTrain.txt beside --pairs)")
    p.add_argument("--identities-from", type=Path, metavar="FILE",
                   help="without --pairs: enroll only identities named in this pairs file (e.g. DevTest)")
    p.add_argument("--enroll", type=int, default=1, metavar="K", help="images fused per enrollment (default 1)")
    p.add_argument("--probe", type=int, default=1, metavar="M", help="frames per unlock attempt (default 1)")
    p.add_argument("--fusion", choices=("quality", "mean"), default="quality",
                   help="enrollment fusion (default quality-weighted)")
    p.add_argument("--probe-mode", choices=("fuse", "any"), default="fuse",
                   help="fuse the M probe frames into one probe, or decode each (any may open)")
    p.add_argument("--preset", action="append", metavar="NAME", help="IronMask preset (repeatable; default all)")
    p.add_argument("--dim", type=int, action="append", metavar="N", help="custom codebook dimension (repeatable)")
    p.add_argument("--alpha", type=int, action="append", metavar="A", help="custom alpha, one per --dim")
    p.add_argument("--expander", action="append", metavar="KIND",
                   help="expander kind per --dim ('none' for plain IronMask)")
    p.add_argument("--candidates", type=int, default=1, metavar="L",
                   help="list decoding: candidates per probe frame (default 1)")
    p.add_argument("--max-impostors", type=int, metavar="N", help="impostor probes per enrollment (default all)")
    p.add_argument("--seed", type=int, default=0, help="trial selection and benchmark codewords (default 0)")
    p.add_argument("--pool", type=int, default=4, help="Haar matrices shared by enrollments (default 4)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    p.add_argument("--report", type=Path, metavar="DIR", help="write accuracy.md and accuracy-det.png")
    p.add_argument("--write-far", nargs="?", const=True, default=None, metavar="FILE",
                   help="store the measured FAR/TAR of the preset settings for `slots --explain` "
                        "(default file: the one services.threat reads); FAR 0 is stored as its 95%% upper bound")
    add_cache_option(p)
    p.set_defaults(func=cmd_accuracy)
    register_report(bsub)


def _settings(args: argparse.Namespace) -> list[Any]:
    from facevault.bench.accuracy import Setting, default_settings
    from facevault.core import ironmask
    from facevault.errors import UsageError

    out = []
    if args.dim:
        alphas = args.alpha or []
        if len(alphas) != len(args.dim):
            raise UsageError("give one --alpha per --dim")
        kinds = args.expander or ["none"] * len(args.dim)
        if len(kinds) != len(args.dim):
            raise UsageError("give one --expander per --dim (or none at all)")
        for n, a, k in zip(args.dim, alphas, kinds):
            kind = None if k == "none" else k
            name = f"{'' if kind is None else kind + '-'}{n}/{a}" + (f" list{args.candidates}" if args.candidates > 1 else "")
            try:
                out.append(Setting(name, n, a, kind, args.candidates))
                ironmask.IronMaskParams(n, a)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    for name in args.preset or []:
        if name not in ironmask.PRESETS:
            raise UsageError(f"unknown preset {name!r}", hint="choose one of: " + ", ".join(ironmask.PRESETS))
        match = next(s for s in default_settings() if s.name == name)
        out.append(Setting(match.name + (f" list{args.candidates}" if args.candidates > 1 else ""),
                           match.dim, match.alpha, match.expander, args.candidates))
    if not out:
        out = [Setting(s.name, s.dim, s.alpha, s.expander, args.candidates) for s in default_settings()]
    return out


def cmd_accuracy(args: argparse.Namespace) -> int:
    from facevault.bench import accuracy as acc
    from facevault.cli.progress import ProgressLine
    from facevault.errors import UsageError

    if args.enroll < 1 or args.probe < 1:
        raise UsageError("--enroll and --probe must be at least 1")
    if args.pairs is not None and (args.enroll != 1 or args.probe != 1):
        raise UsageError("--pairs means one enrollment and one probe image per pair",
                         hint="drop --pairs to use --enroll/--probe with seeded trials")
    if not args.data.is_dir():
        raise UsageError(f"No folder at {args.data}")
    settings = _settings(args)
    bar = ProgressLine("embedding")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    images = acc.load_images(args.data, progress=progress, cache_root=args.embedding_cache)
    bar.close()
    if not images.paths:
        raise UsageError(f"No images under {args.data}")
    train = args.train_pairs
    if train is None and args.pairs is not None:
        guess = args.pairs.with_name(args.pairs.name.replace("DevTest", "DevTrain"))
        train = guess if guess.is_file() and guess != args.pairs else None
    threshold = acc.pairs_threshold(images, train) if train is not None else None
    accuracy_override = None
    if args.pairs is not None:
        if not args.pairs.is_file():
            raise UsageError(f"No pairs file at {args.pairs}")
        trials = acc.pair_trials(images, args.pairs, max_impostors=args.max_impostors)
        if threshold is not None:
            accuracy_override = acc.pairs_accuracy(images, args.pairs, threshold)
    else:
        ids = None
        if args.identities_from is not None:
            ids = {x for row in acc.parse_pairs(args.identities_from) for x in (row[0], row[2])}
        trials = acc.folder_trials(images, enroll_k=args.enroll, probe_m=args.probe, seed=args.seed,
                                   identities=ids, max_impostors=args.max_impostors)
    if not trials.enroll:
        raise UsageError(f"No identity has {args.enroll + args.probe} images for K={args.enroll}, M={args.probe}")
    sbar = ProgressLine("decoding")

    def sprogress(name: str, done: int, total: int) -> None:
        sbar.total = total
        sbar.update(done, name)

    report = acc.run_accuracy(images, trials, settings, enroll_k=args.enroll, probe_m=args.probe,
                              fusion=args.fusion, probe_mode=args.probe_mode, threshold=threshold,
                              accuracy_override=accuracy_override, pool=args.pool, seed=args.seed,
                              progress=sprogress)
    sbar.close()
    if args.pairs is not None:
        report.baseline["tar_at_far0_pair_impostors"] = acc.pairs_far0_tar(images, args.pairs)
    print("\n".join(acc.report_lines(report)))
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    if args.write_far is not None:
        from facevault.core import ironmask
        from facevault.services import threat

        target = threat.measured_far_file() if args.write_far is True else Path(args.write_far)
        presets = {
            s.name: {"far": s.far if s.far > 0 else s.far_upper_95, "tar": max(s.tar, 1e-6)}
            for s in report.settings
            if s.name in ironmask.PRESETS and s.candidates == 1 and s.expander is None
        }
        if not presets:
            raise UsageError("--write-far needs at least one preset setting (use --preset)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({
            "source": f"facevault bench accuracy on {args.data.name}: {report.trials}, "
                      f"K={report.enroll_k}, M={report.probe_m}",
            "presets": presets}, indent=2) + "\n")
        print(f"wrote {target}", file=sys.stderr)
    if args.report is not None:
        from facevault.bench.report import write_report

        for path in write_report(report, args.report):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def register_report(bsub: Any) -> None:
    p = bsub.add_parser("report", help="re-run the documented suite and rewrite docs/BENCHMARKS.md")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the lfw-dev folder")
    p.add_argument("--doc", type=Path, default=Path("docs/BENCHMARKS.md"), help="document to rewrite")
    p.add_argument("--png-dir", type=Path, default=Path("docs/benchmarks"), help="where the plots go")
    p.add_argument("--photos", type=Path, metavar="DIR",
                   help="photos of one person for the end-to-end speed section (optional)")
    p.add_argument("--only", action="append", metavar="KEY", help="run only these suite entries")
    add_cache_option(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from facevault.bench.report import run_suite
    from facevault.errors import UsageError

    if not args.data.is_dir():
        raise UsageError(f"No folder at {args.data}")
    run_suite(args.data, args.doc, args.png_dir, only=args.only, photos=args.photos,
              cache_root=args.embedding_cache,
              progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"wrote {args.doc}")
    return 0
