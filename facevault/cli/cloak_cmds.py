"""`facevault cloak PHOTO... [-o OUT]`: identity masks on every face of a photo before it is
shared (facevault.services.cloak), written as new PNG/JPEG files that hold pixels only.

May import: stdlib, facevault.errors, facevault.services, facevault.cli.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facevault.cli.exit_codes import exit_code
from facevault.cli.output import err, show
from facevault.errors import FaceVaultError, UsageError

__all__ = ["register", "cmd_cloak", "CLOAK_LIMITS"]

CLOAK_LIMITS = ("Measured, not promised (docs/CLOAK.md, 100 test photos at the default strength): "
                "FaceVault's own face model matched none of the cloaked faces, an independent one (not "
                "used to make the cloak) still matched 1 (2-3 after JPEG or halving the size). It does "
                "not help with photos already shared, and future or hardened face recognition may see "
                "through it.")


def register(sub: Any) -> None:
    p = sub.add_parser("cloak", help="cloak the faces in photos before you share them",
                       description="Add an identity mask to every face in each photo so face recognition "
                       "no longer matches it, and write a new file with no metadata (no EXIF, no "
                       "thumbnail, no location). The originals are never changed. " + CLOAK_LIMITS)
    p.add_argument("photos", type=Path, nargs="+", metavar="PHOTO")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="the new file (one photo) or a folder (default: beside each photo, as NAME-cloaked.EXT)")
    p.add_argument("--strength", choices=("low", "default", "high"), default="default",
                   help="low: least visible, weaker; high: strongest, plainly visible; the default is faint "
                        "but visible next to the original (default: default)")
    p.add_argument("--faces", choices=("all", "largest"), default="all",
                   help="cloak every face (default) or only the largest")
    p.add_argument("--towards", type=Path, action="append", metavar="PHOTO",
                   help="targeted mode (TIP-IM): pull each face toward the nearest of these faces "
                        "(repeatable; use faces of people who agreed, or generated faces)")
    p.add_argument("--format", choices=("png", "jpg"), help="output format (default: as the input; PNG for others)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files (never the input)")
    p.add_argument("--json", action="store_true", help="print one JSON report per photo on stdout")
    p.set_defaults(func=cmd_cloak)


def _outputs(args: argparse.Namespace) -> list[Path]:
    from facevault.services.cloak import default_output

    suffix = None if args.format is None else f".{args.format}"
    out: Path | None = args.output
    if out is not None and (out.is_dir() or len(args.photos) > 1 or str(out).endswith(("/", "\\"))):
        if not out.is_dir():
            raise UsageError(f"{out} is not a folder", hint="With several photos, -o names an existing folder.")
        dests = [default_output(p, out, suffix) for p in args.photos]
    elif out is not None:
        if suffix is not None and out.suffix.lower() not in (suffix, ".jpeg" if suffix == ".jpg" else suffix):
            raise UsageError(f"{out.name} does not end in {suffix}")
        dests = [out]
    else:
        dests = [default_output(p, None, suffix) for p in args.photos]
    if len(set(d.resolve() for d in dests)) != len(dests):
        raise UsageError("two photos would be written to the same file", hint="Give photos with different names.")
    return dests


def _describe(report: Any) -> str:
    faces = report.faces
    cos = ", ".join("not found again" if f.cosine_after is None else f"{f.cosine_after:.2f}" for f in faces)
    opens = sum(f.opens_vault for f in faces)
    word = "face" if len(faces) == 1 else "faces"
    return (f"wrote {report.output}: {len(faces)} {word} cloaked in {sum(f.seconds for f in faces):.1f} s; "
            f"FaceVault's own model, cloaked vs before: cosine {cos}; a vault sealed to the face before "
            f"opens with it: {opens} of {len(faces)}")


def cmd_cloak(args: argparse.Namespace) -> int:
    from facevault.services.cloak import CloakTools, cloak_file, stand_ins

    dests = _outputs(args)
    code = 0
    with CloakTools() as tools:
        towards = stand_ins(args.towards, tools) if args.towards else None
        for source, dest in zip(args.photos, dests):
            try:
                report = show(cloak_file(source, dest, tools, strength=args.strength, faces=args.faces,
                                         overwrite=args.overwrite, towards=towards), "cloak", 1000)
            except FaceVaultError as exc:
                if len(args.photos) == 1:
                    raise
                err(f"facevault: {source}: {exc} (skipped)")
                code = code or exit_code(exc)
                continue
            if args.json:
                print(json.dumps(report.as_dict()))
            err(_describe(report))
            if report.maybe_more:
                err(f"warning: {source.name} has at least {len(report.faces)} faces, as many as FaceVault looks "
                    "for: there may be more that were not cloaked. Crop the photo into parts and cloak each.")
            for i, f in enumerate(report.faces, 1):
                if not f.protected:
                    err(f"warning: face {i} of {source.name} is still recognised by FaceVault's own model "
                        f"(cosine {f.cosine_after:.2f}); try --strength high, or do not share it.")
    if not args.json:
        err(CLOAK_LIMITS)
    return code
