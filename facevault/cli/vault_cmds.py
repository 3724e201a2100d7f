"""`facevault init/add/ls/get/rm/reenroll/slots/device/recovery/encrypt/decrypt`.

Every command that needs a face takes --face SRC (camera:N, a video, an image or a folder
of images); every command that unlocks also accepts --recovery-code CODE and --device.
Heavy modules are imported inside the handlers so `facevault --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from facevault.cli.progress import ProgressLine
from facevault.errors import StorageError, UsageError

ENROLL_WANT = 5  # good frames fused into an enrollment template
ENROLL_MAX_FRAMES = 150
UNLOCK_WANT = 3  # good probe frames decoded at unlock
UNLOCK_MAX_FRAMES = 90


def _add_unlock_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("unlock with (at least one)")
    g.add_argument("--face", metavar="SRC", help="camera:N, a video, an image or a folder of images")
    g.add_argument("--recovery-code", metavar="CODE", help="the recovery code shown at creation")
    g.add_argument("--device", action="store_true", help="use this device's secret in the OS keyring")


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="create a vault and enroll your face")
    p.add_argument("vault", type=Path)
    p.add_argument("--face", metavar="SRC", required=True)
    p.add_argument("--preset", default=None, help="IronMask security preset (see `facevault presets`)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F",
                   help="write the recovery code to F (owner-only) instead of printing it")
    p.add_argument("--device", action="store_true", help="also let this device unlock via the OS keyring")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add", help="encrypt files into the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--overwrite", action="store_true", help="replace entries of the same name")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("ls", help="list the vault's files")
    p.add_argument("vault", type=Path)
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("get", help="decrypt a file from the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("name")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="PATH",
                   help="output file, or an existing folder to put it in")
    p.add_argument("--overwrite", action="store_true")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("rm", help="remove a file from the vault")
    p.add_argument("vault", type=Path)
    p.add_argument("name")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("reenroll", help="enroll a fresh capture and revoke the old face template")
    p.add_argument("vault", type=Path)
    p.add_argument("--new-face", metavar="SRC2", required=True)
    p.add_argument("--rotate-key", action="store_true",
                   help="also re-encrypt everything under a new master key (new recovery code)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_reenroll)

    p = sub.add_parser("slots", help="show the vault's key slots (needs no unlock)")
    p.add_argument("vault", type=Path)
    p.set_defaults(func=cmd_slots)

    p = sub.add_parser("device", help="let this device unlock through the OS keyring, or stop it")
    p.add_argument("action", choices=["enable", "disable"])
    p.add_argument("vault", type=Path)
    p.add_argument("--all", action="store_true", help="with disable: remove every device's slot")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_device)

    p = sub.add_parser("recovery", help="make a new recovery code (the old one stops working)")
    p.add_argument("action", choices=["regenerate"])
    p.add_argument("vault", type=Path)
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_recovery)

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
    _add_unlock_options(p)
    p.set_defaults(func=cmd_decrypt)

    p = sub.add_parser("presets", help="security presets: codebook bits and attack costs")
    p.set_defaults(func=cmd_presets)


# ---------------------------------------------------------------- helpers

def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _capture(spec: str, *, want: int, max_frames: int, label: str) -> Any:
    from facevault.services import capture

    bar = ProgressLine(label, want)
    try:
        result = capture.run(
            capture.capture(spec, want=want, max_frames=max_frames),
            lambda p: bar.update(p.good, f"{p.frames} frames"),
        )
    finally:
        bar.close()
    for origin, reason in result.skipped:
        _err(f"skipped {origin}: {reason}")
    return result


def _template(spec: str) -> Any:
    from facevault.services import capture

    result = _capture(spec, want=ENROLL_WANT, max_frames=ENROLL_MAX_FRAMES, label="enrolling")
    template = capture.template_of(result)
    _err(f"enrolled from {len(result.good)} good frame(s) of {result.frames}")
    return template


def _store(required: bool) -> Any:
    from facevault.services.secretstore import KeyringStore

    if required:
        return KeyringStore()
    try:
        return KeyringStore()
    except Exception:  # noqa: BLE001 - device unlock is optional here
        return None


def _offer(args: argparse.Namespace) -> Any:
    from facevault.services import capture
    from facevault.services.keys import Offer

    if not (args.face or args.recovery_code or args.device):
        raise UsageError("nothing to unlock with", hint="give --face SRC, --recovery-code CODE or --device")
    embeddings = []
    if args.face:
        result = _capture(args.face, want=UNLOCK_WANT, max_frames=UNLOCK_MAX_FRAMES, label="looking")
        embeddings = capture.probes_of(result) if not (args.recovery_code or args.device) else result.embeddings
    return Offer(
        face_embeddings=tuple(embeddings),
        recovery_code=args.recovery_code,
        use_device=bool(args.device),
        store=_store(True) if args.device else None,
    )


def _open(args: argparse.Namespace) -> Any:
    from facevault.services import vaults

    return vaults.unlock(args.vault, _offer(args))


def _show_recovery_code(code: str, target: Path | None, *, what: str) -> None:
    if target is None:
        print(f"Recovery code for {what} (shown once; write it down and keep it safe):")
        print(f"  {code}")
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise StorageError(f"{target} already exists", hint="give a new file for the recovery code") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(code + "\n")
    _err(f"recovery code written to {target} (owner-only)")


def _drive(gen: Any, label: str, total: int | None) -> Any:
    from facevault.services.capture import run

    bar = ProgressLine(label, total)
    try:
        return run(gen, lambda p: bar.update(getattr(p, "done", p) if not isinstance(p, str) else 0))
    finally:
        bar.close()


def _safe_output(dest: Path, name: str) -> Path:
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


# ---------------------------------------------------------------- commands

def cmd_init(args: argparse.Namespace) -> int:
    from facevault.core import ironmask
    from facevault.services import vaults

    preset = args.preset or ironmask.DEFAULT_PRESET
    if preset not in ironmask.PRESETS:
        raise UsageError(f"unknown preset {preset!r}", hint="see `facevault presets`")
    if args.vault.exists() and (not args.vault.is_dir() or any(args.vault.iterdir())):
        raise StorageError(f"{args.vault} exists and is not an empty folder", hint="choose a new path")
    if args.recovery_code_file is not None and args.recovery_code_file.exists():
        raise StorageError(f"{args.recovery_code_file} already exists", hint="give a new file")
    store = _store(True) if args.device else None
    template = _template(args.face)
    created = vaults.create(args.vault, template, preset=preset, device_store=store)
    _err(f"created vault {args.vault} (preset {preset}, {ironmask.PRESETS[preset].bits:.0f}-bit codebook)")
    _show_recovery_code(created.recovery_code, args.recovery_code_file, what=str(args.vault))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        raise UsageError(f"not a file: {missing[0]}")
    vault = _open(args)
    for path in args.files:
        size = path.stat().st_size
        _drive(vault.add_file(path, path.name, overwrite=args.overwrite), f"adding {path.name}", size)
        _err(f"added {path.name} ({size} bytes)")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    vault = _open(args)
    entries = sorted(vault.list(), key=lambda e: e.name)
    if args.json:
        print(json.dumps([{"name": e.name, "size": e.size, "mtime": e.mtime} for e in entries], indent=1))
        return 0
    for e in entries:
        stamp = datetime.fromtimestamp(e.mtime).strftime("%Y-%m-%d %H:%M")
        print(f"{e.size:>12}  {stamp}  {e.name}")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    vault = _open(args)
    out = _safe_output(args.output, args.name)
    entry = next((e for e in vault.list() if e.name == args.name), None)
    if entry is None:
        raise UsageError(f"no file named {args.name!r} in the vault", hint="see `facevault ls`")
    _drive(vault.extract(args.name, out, overwrite=args.overwrite), f"extracting {args.name}", entry.size)
    _err(f"wrote {out}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    vault = _open(args)
    vault.remove(args.name)
    _err(f"removed {args.name}")
    return 0


def cmd_reenroll(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    vault = _open(args)
    template = _template(args.new_face)
    store = _store(False)
    code = None
    for item in vaults.reenroll(vault, template, rotate_key=args.rotate_key, device_store=store):
        if isinstance(item, str):
            code = item
    _err("re-enrolled: the old face template is destroyed" + (
        "; the master key was rotated and every file re-encrypted" if args.rotate_key else ""))
    if code is not None:
        _show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_slots(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    for info in vaults.describe_slots(args.vault):
        print(f"{info.kind:9} {info.slot_id}  {info.detail}")
    return 0


def cmd_device(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    store = _store(True)
    vault = _open(args)
    if args.action == "enable":
        vaults.enable_device(vault, store)
        _err(f"this device can now open {args.vault} ({store.describe()})")
    else:
        n = vaults.disable_device(vault, store, all_devices=args.all)
        _err(f"removed {n} device slot(s)")
    return 0


def cmd_recovery(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    vault = _open(args)
    code = vaults.regenerate_recovery(vault)
    _show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    from facevault.core import ironmask
    from facevault.services import files

    if not args.file.is_file():
        raise UsageError(f"not a file: {args.file}")
    if args.output.exists() and not args.overwrite:
        raise StorageError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    preset = args.preset or ironmask.DEFAULT_PRESET
    template = _template(args.face)
    code = _drive(
        files.encrypt_file(args.file, args.output, template, preset=preset, overwrite=args.overwrite),
        "encrypting", args.file.stat().st_size,
    )
    _err(f"wrote {args.output}")
    _show_recovery_code(code, args.recovery_code_file, what=str(args.output))
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from facevault.services import files

    if args.output.exists() and not args.overwrite:
        raise StorageError(f"{args.output} already exists", hint="choose another path or pass --overwrite")
    offer = _offer(args)
    _drive(files.decrypt_file(args.file, args.output, offer, overwrite=args.overwrite),
           "decrypting", args.file.stat().st_size)
    _err(f"wrote {args.output}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from facevault.core import ironmask, kdf

    seconds = kdf.measure(kdf.DEFAULT_PARAMS)
    print(f"KDF: Argon2id t={kdf.DEFAULT_PARAMS.time_cost} m={kdf.DEFAULT_PARAMS.memory_kib // 1024} MiB "
          f"p={kdf.DEFAULT_PARAMS.parallelism}: {seconds:.2f} s per guess on this machine")
    print(f"{'preset':10} {'codebook':>10} {'brute force':>16}")
    for name, params in ironmask.PRESETS.items():
        years = 2.0 ** params.bits * seconds / 3.15e7
        print(f"{name:10} C({params.dim},{params.alpha}) {params.bits:6.1f} bits  {years:9.2e} CPU-years")
    print("The false-accept dictionary attack needs about 1/FAR guesses; see `facevault bench accuracy`.")
    return 0
