"""`facevault init/add/ls/trust/get/rm`: create a vault and work with its files.

Heavy modules are imported inside the handlers so `facevault --help` stays fast.
Passphrases are never printed or logged.

May import: stdlib, facevault.errors, facevault.core (types), facevault.services,
facevault.cli.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from facevault.cli import unlock_args as ua
from facevault.cli.output import err, show, show_recovery_code
from facevault.core.modes import Mode
from facevault.errors import StorageError, UsageError, PathError

__all__ = ["register", "safe_output", "cmd_init", "cmd_add", "cmd_ls", "cmd_trust", "cmd_get",
           "cmd_rm"]


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="create a vault and enroll your face")
    p.add_argument("vault", type=Path)
    p.add_argument("--face", metavar="SRC", required=True)
    p.add_argument("--preset", default=None, help="IronMask security preset (see `facevault presets`)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F",
                   help="write the recovery code to F (owner-only) instead of printing it")
    p.add_argument("--device", action="store_true",
                   help="face mode: also let this device unlock without a face via the OS keyring")
    p.add_argument("--mode", choices=[m.label for m in Mode], default=Mode.FACE.label,
                   help="; ".join(f"{m.label}: {m.title.lower()}" for m in Mode)
                   + ". See `slots --explain`.")
    p.add_argument("--passphrase-file", type=Path, metavar="F",
                   help="face+passphrase: read the passphrase from F (else asked twice on a terminal)")
    p.add_argument("--kdf-seconds", type=float, default=ua.POLICY.kdf.target_seconds, metavar="S",
                   help="face+passphrase: tune Argon2id (>= 64 MiB) to take about S seconds per "
                        "passphrase guess here (default 0.5; the other slots need no stretching)")
    ua.add_enroll_option(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add", help="encrypt files into the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--overwrite", action="store_true", help="replace entries of the same name")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("ls", help="list the vault's files")
    p.add_argument("vault", type=Path)
    p.add_argument("--json", action="store_true")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("trust", help="accept a vault folder as it is now (after restoring it from "
                       "a backup, or a change you made on another computer)")
    p.add_argument("vault", type=Path)
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_trust)

    p = sub.add_parser("get", help="decrypt a file from the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("name")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="PATH",
                   help="output file, or an existing folder to put it in")
    p.add_argument("--overwrite", action="store_true")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("rm", help="remove a file from the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("name")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_rm)


def safe_output(dest: Path, name: str) -> Path:
    """Where `get` writes entry `name`: dest itself, or inside dest when it is a folder.
    The entry name is data, never a path: only its last component is used, and never '..'."""
    if not dest.is_dir():
        return dest
    leaf = name.replace("\\", "/").rsplit("/", 1)[-1]
    if leaf in ("", ".", "..") or "\x00" in leaf:
        raise UsageError(f"cannot make a file name from entry {name!r}", hint="give -o FILE explicitly")
    out = dest / leaf
    if out.resolve().parent != dest.resolve():
        raise UsageError(f"entry {name!r} would leave {dest}", hint="give -o FILE explicitly")
    return out


def cmd_init(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from facevault.core import ironmask
    from facevault.services.enroll import create_vault

    preset = args.preset or ua.POLICY.enroll.preset
    if preset not in ironmask.PRESETS:
        raise UsageError(f"unknown preset {preset!r}", hint="see `facevault presets`")
    if args.vault.exists() and (not args.vault.is_dir() or any(args.vault.iterdir())):
        raise PathError(f"{args.vault} exists and is not an empty folder", hint="choose a new path")
    if args.recovery_code_file is not None and args.recovery_code_file.exists():
        raise PathError(f"{args.recovery_code_file} already exists", hint="give a new file")
    mode = Mode.parse(args.mode)
    if args.device and mode is not Mode.FACE:
        raise UsageError("--device adds a device-only slot, which a two-factor mode does not allow",
                         hint="use --mode face+device, or --mode face --device")
    kdf_policy = replace(ua.POLICY.kdf, target_seconds=args.kdf_seconds)
    passphrase = ua.new_passphrase(args.passphrase_file) if mode is Mode.FACE_PASSPHRASE else None
    store = ua.keyring(True) if args.device or mode is Mode.FACE_DEVICE else None
    template = ua.capture_template(args.face, args)
    kdf = kdf_policy.params()
    created = create_vault(args.vault, template, mode=mode, preset=preset, kdf=kdf, store=store,
                           passphrase=passphrase, device_slot=bool(args.device), model=ua.model())
    err(f"created vault {args.vault} (mode {mode.label}, preset {preset}, "
        f"{ironmask.PRESETS[preset].bits:.0f}-bit codebook, {kdf.describe()} tuned to about "
        f"{args.kdf_seconds:g} s here)")
    show_recovery_code(created.recovery_code, args.recovery_code_file, what=str(args.vault))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        raise UsageError(f"not a file: {missing[0]}")
    vault = ua.unlock(args).vault
    for path in args.files:
        size = path.stat().st_size
        show(vault.add_file(path, path.name, overwrite=args.overwrite), f"adding {path.name}", size)
        err(f"added {path.name} ({size} bytes)")
    return 0


def _row(e: Any) -> dict[str, object]:
    row: dict[str, object] = {"name": e.name, "size": e.size, "mtime": e.mtime}
    if getattr(e, "conflict", False):
        row["conflict"] = {"of": e.original, "device": e.device_name, "written": e.written}
    return row


def cmd_ls(args: argparse.Namespace) -> int:
    vault = ua.unlock(args).vault
    entries = sorted(vault.entries(), key=lambda e: e.name)
    if args.json:
        print(json.dumps([_row(e) for e in entries], indent=1))
        return 0
    for e in entries:
        stamp = datetime.fromtimestamp(e.mtime).strftime("%Y-%m-%d %H:%M")
        note = f"   [conflict copy of {e.original!r}]" if getattr(e, "conflict", False) else ""
        print(f"{e.size:>12}  {stamp}  {e.name}{note}")
    copies = [e for e in entries if getattr(e, "conflict", False)]
    if copies:
        err(f"{len(copies)} conflict cop{'y' if len(copies) == 1 else 'ies'}: the same file was "
            "changed on two computers between syncs and both versions were kept. Keep the one "
            "you want (`facevault get`), then `facevault rm` the other.")
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    from facevault.services.trust import short_id

    before = ua.locked(args.vault, check=False)
    pins = before.pins
    old_id = pins.vault_at(args.vault) if pins is not None else None
    old = before.pin
    vault = ua.unlock(args, trust=True).vault
    if old_id is not None and old_id != vault.vault_id:
        err(f"this folder held vault {short_id(old_id)}; it now holds vault {short_id(vault.vault_id)}")
    elif old is not None:
        mode = old.mode.label if old.mode else "none"
        err(f"was: epoch {old.epoch.number}, mode {mode}")
    now = vault.mode.label if vault.mode else "none"
    err(f"trusted {args.vault} as it is now: vault {short_id(vault.vault_id)}, epoch "
        f"{vault.epoch.number}, mode {now}, {len(vault.entries())} files. This computer "
        "refuses older copies of it from now on.")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    from facevault.core import fsutil

    out = safe_output(args.output, args.name)
    fsutil.check_output(out, overwrite=args.overwrite)  # before any face is asked for
    vault = ua.unlock(args).vault
    entry = next((e for e in vault.entries() if e.name == args.name), None)
    if entry is None:
        raise UsageError(f"no file named {args.name!r} in the vault", hint="see `facevault ls`")
    show(vault.extract(args.name, out, overwrite=args.overwrite), f"extracting {args.name}", entry.size)
    err(f"wrote {out}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    vault = ua.unlock(args).vault
    vault.remove(args.name)
    err(f"removed {args.name}")
    return 0
