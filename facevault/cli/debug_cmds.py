"""`facevault debug embed PATH... [--json]`: run the face pipeline on images and print
each unit embedding (or why there is none).

Printing embeddings is the purpose of this developer command; nothing else prints them.
Heavy imports happen inside the command so `facevault --help` stays fast.

May import: stdlib, facevault.* (vision lazily).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from facevault.errors import NoUsableFaceError

__all__ = ["register", "cmd_embed"]



def register(sub: Any) -> None:
    debug = sub.add_parser("debug", help="developer tools: inspect what the face pipeline sees")
    dsub = debug.add_subparsers(dest="debug_command", metavar="ACTION")
    debug.set_defaults(func=lambda args: (debug.print_help(), 2)[1])
    p = dsub.add_parser("embed", help="print the face embedding of each image (folders expand)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--json", action="store_true",
                   help='one JSON object per image: {"path","ok","embedding","reason","code"}')
    p.set_defaults(func=cmd_embed)


def _records(paths: list[str]) -> Any:
    from facevault.errors import SourceError
    from facevault.services.models import face_pipeline
    from facevault.vision.sources import open_source

    with face_pipeline(False) as pipeline:
        for spec in paths:
            try:
                source = open_source(spec)
            except SourceError as exc:
                yield {"path": spec, "ok": False, "embedding": None, "reason": str(exc),
                       "code": "decode_error"}
                continue
            with source:
                if source.is_stream:
                    yield {"path": spec, "ok": False, "embedding": None,
                           "reason": "Not an image or a folder of images.", "code": "decode_error"}
                    continue
                for frame in source:
                    obs = pipeline.process(frame)
                    yield {
                        "path": obs.origin, "ok": obs.ok,
                        "embedding": None if obs.embedding is None
                        else [round(float(x), 7) for x in obs.embedding],
                        "reason": obs.reason, "code": obs.code,
                    }
                for origin, reason in getattr(source, "skipped", []):
                    yield {"path": origin, "ok": False, "embedding": None, "reason": reason,
                           "code": "decode_error"}


def cmd_embed(args: argparse.Namespace) -> int:
    any_ok = False
    count = 0
    for rec in _records(args.paths):
        count += 1
        any_ok = any_ok or rec["ok"]
        if args.json:
            print(json.dumps(rec), flush=True)
        elif rec["ok"]:
            print(f"{rec['path']}: " + " ".join(f"{x:.5f}" for x in rec["embedding"]), flush=True)
        else:
            print(f"{rec['path']}: {rec['code']}: {rec['reason']}", flush=True)
    if not any_ok:
        raise NoUsableFaceError(
            "No usable face in any of the images." if count else "No images found.",
            hint="Use a clear, well-lit photo with one face looking at the camera.",
        )
    return 0
