"""`facevault encrypt/decrypt`: one file sealed for your face and a recovery code.

May import: stdlib, facevault.errors, facevault.services, facevault.cli.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from facevault.cli import unlock_args as ua
from facevault.cli.output import err, show, show_recovery_code
from facevault.errors import StorageError, UsageError

__all__ = ["register", "cmd_encrypt", "cmd_decrypt"]


def register(sub: Any) -> None:
    p = sub.add_parser("encrypt", help="encrypt one file for your face (and a recovery code)")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--face", metavar="SRC", required=True)
    p.add_argument("--preset", default=None)
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_encrypt)

    p = sub.add_parser("decrypt", help="decrypt a file made by `facevault encrypt`")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--overwrite", action="store_true")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_decrypt)


def cmd_encrypt(args: argparse.Namespace) -> int:
    from facevault.services import files

    if not args.file.is_file():
        raise UsageError(f"not a file: {args.file}")
    if args.output.exists() and not args.overwrite:
        raise StorageError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    preset = args.preset or ua.POLICY.enroll.preset
    template = ua.capture_template(args.face)
    code = show(files.encrypt_file(args.file, args.output, template, preset=preset,
                                   kdf=ua.POLICY.kdf.params(), overwrite=args.overwrite),
                "encrypting", args.file.stat().st_size)
    err(f"wrote {args.output}")
    show_recovery_code(code, args.recovery_code_file, what=str(args.output))
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from facevault.services import files

    if args.output.exists() and not args.overwrite:
        raise StorageError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    offer = ua.offer(args)
    show(files.decrypt_file(args.file, args.output, offer, policy=ua.POLICY.unlock.decode,
                            overwrite=args.overwrite), "decrypting", args.file.stat().st_size)
    err(f"wrote {args.output}")
    return 0
