"""`facevault identity new/show`, `encrypt/decrypt`: single files sealed to a face identity
(enrolled once) and its recovery code.

May import: stdlib, facevault.errors, facevault.services, facevault.cli.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from facevault.cli import unlock_args as ua
from facevault.cli.output import err, show, show_recovery_code
from facevault.errors import StorageError, UsageError, PathError

__all__ = ["register", "cmd_identity_new", "cmd_identity_show", "cmd_encrypt", "cmd_decrypt"]


def register(sub: Any) -> None:
    p = sub.add_parser("identity", help="a face identity to encrypt single files to (enroll once)")
    isub = p.add_subparsers(dest="identity_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    q = isub.add_parser("new", help="enroll your face once; write the public identity file")
    q.add_argument("--face", metavar="SRC", required=True)
    q.add_argument("-o", "--output", type=Path, required=True, metavar="ID.fvid")
    q.add_argument("--label", default="", help="a name shown with the identity (not secret)")
    q.add_argument("--preset", default=None)
    q.add_argument("--recovery-code-file", type=Path, metavar="F")
    q.add_argument("--overwrite", action="store_true")
    ua.add_enroll_option(q)
    q.set_defaults(func=cmd_identity_new)
    q = isub.add_parser("show", help="what an identity file holds, and its fingerprint")
    q.add_argument("identity", type=Path)
    q.set_defaults(func=cmd_identity_show)

    p = sub.add_parser("encrypt", help="encrypt one file to a face identity (--to), or for your face now")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--to", type=Path, metavar="ID.fvid",
                     help="the identity to encrypt to (no face needed; one sketch for all its files)")
    who.add_argument("--face", metavar="SRC",
                     help="enroll now for this one file (the file carries a sketch of its own)")
    p.add_argument("--preset", default=None)
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    p.add_argument("--overwrite", action="store_true")
    ua.add_enroll_option(p)
    p.set_defaults(func=cmd_encrypt)

    p = sub.add_parser("decrypt", help="decrypt a file made by `facevault encrypt`")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--overwrite", action="store_true")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_decrypt)


def cmd_identity_new(args: argparse.Namespace) -> int:
    from facevault.services import files

    if args.output.exists() and not args.overwrite:
        raise PathError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    if args.recovery_code_file is not None and args.recovery_code_file.exists():
        raise PathError(f"{args.recovery_code_file} already exists", hint="give a new file")
    template = ua.capture_template(args.face, args)
    ident, code = files.new_identity(template, model=ua.model(), preset=args.preset or ua.POLICY.enroll.preset,
                                     label=args.label)
    files.write_identity(args.output, ident, overwrite=args.overwrite)
    err(f"wrote {args.output} (fingerprint {ident.fingerprint}). It is public: give it to whoever "
        "should encrypt files to you; decrypting them needs your face or this recovery code.")
    show_recovery_code(code, args.recovery_code_file, what=f"the identity {args.output}")
    return 0


def cmd_identity_show(args: argparse.Namespace) -> int:
    from facevault.services import files

    ident = files.read_identity(args.identity)
    print(f"identity {ident.label or '(no label)'}")
    print(f"fingerprint {ident.fingerprint}")
    for slot in ident.slots:
        print(f"{slot.kind.label:10} {slot.kind.spec.describe(slot)}")
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    from facevault.services import files

    if not args.file.is_file():
        raise UsageError(f"not a file: {args.file}")
    if args.output.exists() and not args.overwrite:
        raise PathError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    size = args.file.stat().st_size
    if args.to is not None:
        ident = files.read_identity(args.to)
        show(files.encrypt_to(args.file, args.output, ident, overwrite=args.overwrite), "encrypting", size)
        err(f"wrote {args.output}, encrypted to {ident.label or args.to.name} ({ident.fingerprint})")
        return 0
    preset = args.preset or ua.POLICY.enroll.preset
    template = ua.capture_template(args.face, args)
    code = show(files.encrypt_file(args.file, args.output, template, preset=preset,
                                   kdf=ua.POLICY.kdf.params(), overwrite=args.overwrite, model=ua.model()),
                "encrypting", size)
    err(f"wrote {args.output}. It carries its own sketch of your face: for many files, make an "
        "identity once (`facevault identity new`) and encrypt to it (`--to`).")
    show_recovery_code(code, args.recovery_code_file, what=str(args.output))
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from facevault.services import files

    if args.output.exists() and not args.overwrite:
        raise PathError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    offer = ua.offer(args)
    show(files.decrypt_file(args.file, args.output, offer, policy=ua.POLICY.unlock.decode,
                            overwrite=args.overwrite), "decrypting", args.file.stat().st_size)
    err(f"wrote {args.output}")
    return 0
