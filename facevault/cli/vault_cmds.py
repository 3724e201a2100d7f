"""`facevault init/add/ls/get/rm/reenroll/mode/slots/device/recovery/encrypt/decrypt`.

Every command that needs a face takes --face SRC (camera:N, a video, an image or a folder
of images); every command that unlocks also accepts --recovery-code CODE and --device.
Two-factor vaults: a face+device vault uses this device's keyring with --face on its own;
a face+passphrase vault reads --passphrase-file F or asks (without echo) on a terminal.
Passphrases are never printed or logged. Heavy modules are imported inside the handlers so
`facevault --help` stays fast.
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
from facevault.errors import NoUsableFaceError, StorageError, UsageError

ENROLL_WANT = 5  # good frames fused into an enrollment template
ENROLL_MAX_FRAMES = 150
UNLOCK_WANT = 3  # good probe frames decoded at unlock
UNLOCK_MAX_FRAMES = 90


def _add_unlock_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("unlock with (at least one)")
    g.add_argument("--face", metavar="SRC", help="camera:N, a video, an image or a folder of images")
    g.add_argument("--recovery-code", metavar="CODE", help="the recovery code shown at creation")
    g.add_argument("--device", action="store_true", help="use this device's secret in the OS keyring")
    g.add_argument("--passphrase-file", type=Path, metavar="F",
                   help="face+passphrase vaults: read the passphrase from F (else asked on a terminal)")
    g.add_argument("--liveness", action="store_true",
                   help="require a live face: blink, then turn your head as asked (camera sources)")
    g.add_argument("--allow-still", action="store_true",
                   help="with --liveness: accept a video file instead of a camera (tests, benchmarks)")
    g.add_argument("--passive-check", action="store_true",
                   help="with --liveness: also veto with the passive anti-spoof model (experimental)")


MODES = ("face", "face+device", "face+passphrase")


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="create a vault and enroll your face")
    p.add_argument("vault", type=Path)
    p.add_argument("--face", metavar="SRC", required=True)
    p.add_argument("--preset", default=None, help="IronMask security preset (see `facevault presets`)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F",
                   help="write the recovery code to F (owner-only) instead of printing it")
    p.add_argument("--device", action="store_true",
                   help="face mode: also let this device unlock without a face via the OS keyring")
    p.add_argument("--mode", choices=MODES, default="face",
                   help="face (portable, default); face+device (face and this device's keyring); "
                        "face+passphrase (face and a passphrase or PIN). See `slots --explain`.")
    p.add_argument("--passphrase-file", type=Path, metavar="F",
                   help="face+passphrase: read the passphrase from F (else asked twice on a terminal)")
    p.add_argument("--kdf-seconds", type=float, default=0.5, metavar="S",
                   help="tune Argon2id (>= 64 MiB) to take about S seconds per guess here (default 0.5)")
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

    p = sub.add_parser("mode", help="change the vault's mode (face, face+device, face+passphrase)")
    p.add_argument("vault", type=Path)
    p.add_argument("new_mode", choices=MODES, metavar="MODE", help=" | ".join(MODES))
    p.add_argument("--new-face", metavar="SRC2",
                   help="enroll a fresh capture (needed when unlocking with the recovery code)")
    p.add_argument("--new-passphrase-file", type=Path, metavar="F",
                   help="face+passphrase: the new passphrase (else asked twice on a terminal)")
    rot = p.add_mutually_exclusive_group()
    rot.add_argument("--rotate-key", dest="rotate_key", action="store_const", const=True, default=None,
                     help="re-encrypt everything under a new master key (default when adding a factor)")
    rot.add_argument("--keep-key", dest="rotate_key", action="store_const", const=False,
                     help="keep the master key (an old copy of the header then still opens new files)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    _add_unlock_options(p)
    p.set_defaults(func=cmd_mode)

    p = sub.add_parser("slots", help="show the vault's key slots (needs no unlock)")
    p.add_argument("vault", type=Path)
    p.add_argument("--explain", action="store_true",
                   help="what an offline attacker needs for each attack, in plain words")
    p.add_argument("--passphrase-bits", type=float, default=None, metavar="N",
                   help="with --explain: assumed passphrase strength (default: a 6-digit PIN, 20 bits)")
    p.add_argument("--far-file", type=Path, metavar="F",
                   help="with --explain: measured false-accept rates (JSON from `facevault bench accuracy`)")
    p.set_defaults(func=cmd_slots)

    p = sub.add_parser("device", help="device unlock: enable/disable (face mode), pair/import/remove (face+device)")
    p.add_argument("action", choices=["enable", "disable", "pair", "import", "remove"])
    p.add_argument("vault", type=Path)
    p.add_argument("--all", action="store_true", help="with disable: remove every device's slot")
    p.add_argument("--code", metavar="CODE", help="with import: the pairing code from the other device")
    p.add_argument("--code-file", type=Path, metavar="F",
                   help="with pair: write the pairing code to F (owner-only); with import: read it from F")
    p.add_argument("--qr", type=Path, metavar="FILE.svg", help="with pair: also write the code as a QR image")
    p.add_argument("--slot", metavar="ID", help="with remove: the device slot id (see `facevault slots`)")
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


def _read_secret_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return text[:-1] if text.endswith("\n") else text  # one trailing newline is the file's, not the passphrase's


def _ask_passphrase(prompt: str, *, twice: bool = False) -> str:
    import getpass

    if not sys.stdin.isatty():
        raise UsageError("this needs a passphrase", hint="give --passphrase-file F (no terminal to ask on)")
    first = getpass.getpass(prompt)
    if twice and getpass.getpass("Again, to check: ") != first:
        raise UsageError("the two passphrases differ; nothing was changed")
    return first


def _vault_mode(args: argparse.Namespace) -> str | None:
    from facevault.core import vault as vault_mod
    from facevault.services import vaults

    from facevault.core.vault_header import HEADER_NAME

    path = getattr(args, "vault", None)
    if path is None or not (Path(path) / HEADER_NAME).is_file():
        return None  # a single file, or no vault there (unlock reports it)
    return str(vaults.mode_of(vault_mod.read_header(Path(path)).slots))


def _offer(args: argparse.Namespace) -> Any:
    from facevault.services.keys import Offer

    if not (args.face or args.recovery_code or args.device):
        raise UsageError("nothing to unlock with", hint="give --face SRC, --recovery-code CODE or --device")
    mode = _vault_mode(args) if args.face else None
    passphrase = None
    if getattr(args, "passphrase_file", None) is not None:
        passphrase = _read_secret_file(args.passphrase_file)
    elif mode == "face+passphrase" and not args.recovery_code:
        passphrase = _ask_passphrase("Passphrase: ")
    # face+device: the face goes with this device's keyring without asking for --device
    use_store = bool(args.device) or mode == "face+device"
    embeddings: list[Any] = []
    if args.face:
        try:
            embeddings = _probes(args)
        except NoUsableFaceError:
            if not (args.recovery_code or args.device):
                raise  # with another way in, a face that was not seen is not fatal
    return Offer(
        face_embeddings=tuple(embeddings),
        recovery_code=args.recovery_code,
        use_device=bool(args.device),
        store=_store(True) if use_store else None,
        passphrase=passphrase,
    )


def _probes(args: argparse.Namespace) -> list[Any]:
    """Probe embeddings from --face: plain capture, or the liveness challenge (--liveness)."""
    from facevault.services import capture
    from facevault.services.liveness import live_probes

    liveness = bool(getattr(args, "liveness", False))
    passive = None
    if liveness and getattr(args, "passive_check", False):
        from facevault.vision.antispoof import PassiveLiveness

        passive = PassiveLiveness.from_manifest()
    bar = ProgressLine("looking", UNLOCK_WANT)
    last = [""]

    def show(p: Any) -> None:
        status = getattr(p, "status", None)
        if status is not None:
            if status.instruction != last[0] and not bar.enabled:
                _err(status.instruction)  # a challenge must be seen even when not on a terminal
            last[0] = status.instruction
            bar.update(0, status.instruction)
        else:
            bar.update(p.good, f"{p.frames} frames")

    try:
        probes: list[Any] = capture.run(
            live_probes(args.face, require=liveness, allow_still=bool(getattr(args, "allow_still", False)),
                        want=UNLOCK_WANT, max_frames=UNLOCK_MAX_FRAMES, passive=passive),
            show,
        )
    finally:
        bar.close()
    return probes


def _open(args: argparse.Namespace) -> Any:
    from facevault.services import vaults

    return vaults.unlock(args.vault, _offer(args))


def _write_private(target: Path, data: bytes, what: str) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise StorageError(f"{target} already exists", hint=f"give a new file for the {what}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _show_recovery_code(code: str, target: Path | None, *, what: str) -> None:
    if target is None:
        print(f"Recovery code for {what} (shown once; write it down and keep it safe):")
        print(f"  {code}")
        return
    _write_private(target, (code + "\n").encode("ascii"), "recovery code")
    _err(f"recovery code written to {target} (owner-only)")


def _new_passphrase(args: argparse.Namespace, attr: str) -> str:
    from facevault.services.keys import normalise_passphrase

    path = getattr(args, attr, None)
    passphrase = _read_secret_file(path) if path is not None else _ask_passphrase("New passphrase or PIN: ", twice=True)
    normalise_passphrase(passphrase)  # refuse a too-short one before any capture
    return passphrase


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
    if args.device and args.mode != "face":
        raise UsageError("--device adds a device-only slot, which a two-factor mode does not allow",
                         hint="use --mode face+device, or --mode face --device")
    if not 0.05 <= args.kdf_seconds <= 10:
        raise UsageError("--kdf-seconds must be between 0.05 and 10")
    passphrase = _new_passphrase(args, "passphrase_file") if args.mode == "face+passphrase" else None
    store = _store(True) if args.device or args.mode == "face+device" else None
    template = _template(args.face)
    kdf = vaults.tuned_kdf(args.kdf_seconds)
    created = vaults.create(args.vault, template, preset=preset, kdf=kdf, device_store=store,
                            mode=args.mode, passphrase=passphrase)
    _err(f"created vault {args.vault} (mode {args.mode}, preset {preset}, "
         f"{ironmask.PRESETS[preset].bits:.0f}-bit codebook, Argon2id t={kdf.time_cost} "
         f"m={kdf.memory_kib // 1024} MiB p={kdf.parallelism} tuned to about {args.kdf_seconds:g} s here)")
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

    offer = _offer(args)
    vault = vaults.unlock(args.vault, offer)
    passphrase = None
    if vaults.mode_of(vault.header.slots) == "face+passphrase":
        passphrase = offer.passphrase if offer.passphrase is not None else _ask_passphrase("Passphrase: ")
    template = _template(args.new_face)
    store = _store(False)
    code = None
    for item in vaults.reenroll(vault, template, rotate_key=args.rotate_key, device_store=store,
                                passphrase=passphrase):
        if isinstance(item, str):
            code = item
    _err("re-enrolled: the old face template is destroyed" + (
        "; the master key was rotated and every file re-encrypted" if args.rotate_key else ""))
    if code is not None:
        _show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    passphrase = _new_passphrase(args, "new_passphrase_file") if args.new_mode == "face+passphrase" else None
    store = _store(True) if args.new_mode == "face+device" else _store(False)
    opened = vaults.unlock_full(args.vault, _offer(args))
    template = _template(args.new_face) if args.new_face else None
    if template is None and opened.face is None:
        raise UsageError("changing the mode needs your face",
                         hint="unlock with --face SRC, or give --new-face SRC2 for a fresh enrollment")
    code = None
    for item in _drive_items(vaults.change_mode(
        opened.vault, args.new_mode, face=opened.face, new_template=template, passphrase=passphrase,
        device_store=store, rotate_key=args.rotate_key,
    )):
        if isinstance(item, str):
            code = item
    _err(f"{args.vault} is now in {args.new_mode} mode" + (
        "; the master key was rotated and every file re-encrypted" if code is not None else ""))
    if code is not None:
        _show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def _drive_items(gen: Any) -> list[Any]:
    bar = ProgressLine("re-encrypting", None)
    items = []
    try:
        for item in gen:
            if isinstance(item, str):
                items.append(item)
            else:
                bar.update(getattr(item, "done", 0))
    finally:
        bar.close()
    return items


def cmd_slots(args: argparse.Namespace) -> int:
    from facevault.core import vault as vault_mod
    from facevault.services import threat, vaults

    if not args.explain:
        print(f"mode {vaults.mode_of(vault_mod.read_header(args.vault).slots)}")
        for info in vaults.describe_slots(args.vault):
            print(f"{info.kind:15} {info.slot_id}  {info.detail}")
        return 0
    measured = threat.load_measured(args.far_file or threat.measured_far_file())
    if args.far_file is not None and not measured:
        raise UsageError(f"{args.far_file} does not exist")
    fig = vaults.explain(args.vault, measured=measured,
                         passphrase_bits=args.passphrase_bits if args.passphrase_bits is not None else threat.PIN6_BITS)
    print(f"{args.vault}: mode {fig.mode}")
    for line in threat.describe(fig):
        print(line)
    return 0


def cmd_device(args: argparse.Namespace) -> int:
    from facevault.services import vaults

    if args.action == "import":
        return _device_import(args)
    store = _store(True)
    if args.action == "pair":
        opened = vaults.unlock_full(args.vault, _offer(args))
        if opened.face is None:
            raise UsageError("pairing needs your face", hint="unlock with --face SRC on a paired device")
        code = vaults.pair_device(opened.vault, opened.face)
        if args.qr is not None:
            _write_qr(args.qr, code)
        if args.code_file is not None:
            _write_private(args.code_file, (code + "\n").encode("ascii"), "pairing code")
            _err(f"pairing code written to {args.code_file} (owner-only)")
        else:
            print("Pairing code (one use; with your face it opens the vault, so keep it private):")
            print(f"  {code}")
        _err("on the other device: facevault device import VAULT --code CODE --face SRC")
        return 0
    vault = _open(args)
    if args.action == "enable":
        vaults.enable_device(vault, store)
        _err(f"this device can now open {args.vault} ({store.describe()})")
    elif args.action == "remove":
        n = vaults.remove_device(vault, slot_id=args.slot, store=None if args.slot else store)
        _err(f"removed {n} device slot(s)")
    else:
        n = vaults.disable_device(vault, store, all_devices=args.all)
        _err(f"removed {n} device slot(s)")
    return 0


def _device_import(args: argparse.Namespace) -> int:
    from facevault.services import capture, vaults

    if args.code_file is not None:
        code = _read_secret_file(args.code_file)
    elif args.code:
        code = args.code
    else:
        raise UsageError("give the pairing code", hint="--code CODE or --code-file F")
    if not args.face:
        raise UsageError("pairing needs your face", hint="give --face SRC")
    store = _store(True)
    result = _capture(args.face, want=UNLOCK_WANT, max_frames=UNLOCK_MAX_FRAMES, label="looking")
    vaults.import_device(args.vault, code, capture.probes_of(result), store)
    _err(f"this device is paired: {args.vault} opens here with your face ({store.describe()}); "
         "the pairing code is used up")
    return 0


def _write_qr(target: Path, code: str) -> None:
    import io

    import qrcode
    import qrcode.image.svg

    buf = io.BytesIO()
    qrcode.make(code, image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    _write_private(target, buf.getvalue(), "QR image")
    _err(f"pairing QR image written to {target} (owner-only; delete it once used)")


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
