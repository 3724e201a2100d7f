"""`facevault reenroll/mode/slots/device/recovery/presets`: the ways into a vault.

May import: stdlib, facevault.errors, facevault.core (types), facevault.services,
facevault.cli.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from facevault.cli import unlock_args as ua
from facevault.cli.output import err, show, show_recovery_code, write_private
from facevault.core.modes import Mode
from facevault.errors import UsageError

__all__ = [
    "register",
    "cmd_reenroll",
    "cmd_mode",
    "cmd_slots",
    "cmd_device",
    "cmd_recovery",
    "cmd_presets",
]


def register(sub: Any) -> None:
    p = sub.add_parser("reenroll", help="enroll a fresh capture and revoke the old face template")
    p.add_argument("vault", type=Path)
    p.add_argument("--new-face", metavar="SRC2", required=True)
    p.add_argument("--rotate-key", action="store_true",
                   help="also re-encrypt every file under the new epoch's key (an old copy of "
                        "the vault's slots then cannot read even the files already in the live folder)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    ua.add_unlock_options(p)
    ua.add_enroll_option(p)
    p.set_defaults(func=cmd_reenroll)

    p = sub.add_parser("mode", help="change the vault's mode (" + ", ".join(m.label for m in Mode) + ")")
    p.add_argument("vault", type=Path)
    p.add_argument("new_mode", choices=[m.label for m in Mode], metavar="MODE",
                   help=" | ".join(m.label for m in Mode))
    p.add_argument("--new-face", metavar="SRC2",
                   help="enroll a fresh capture (needed when unlocking with the recovery code)")
    p.add_argument("--new-passphrase-file", type=Path, metavar="F",
                   help="face+passphrase: the new passphrase (else asked twice on a terminal)")
    rot = p.add_mutually_exclusive_group()
    rot.add_argument("--rotate-key", dest="rotate_key", action="store_const", const=True, default=None,
                     help="re-encrypt every file under the new epoch's key (default when adding a factor)")
    rot.add_argument("--keep-key", dest="rotate_key", action="store_const", const=False,
                     help="leave the files already stored under their old keys (new files use the "
                          "new epoch's key either way)")
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    ua.add_unlock_options(p)
    ua.add_enroll_option(p)
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
    p.add_argument("--code", metavar="CODE",
                   help="with import: the pairing code on the command line (discouraged: other users "
                        "can read it in the process list; without --code or --code-file it is asked for)")
    p.add_argument("--code-file", type=Path, metavar="F",
                   help="with pair: write the pairing code to F (owner-only); with import: read it "
                        "from F (- for standard input)")
    p.add_argument("--qr", type=Path, metavar="FILE.svg", help="with pair: also write the code as a QR image")
    p.add_argument("--slot", metavar="ID", help="with remove: the device slot id (see `facevault slots`)")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_device)

    p = sub.add_parser("recovery", help="make a new recovery code (the old one stops working)")
    p.add_argument("action", choices=["regenerate"])
    p.add_argument("vault", type=Path)
    p.add_argument("--recovery-code-file", type=Path, metavar="F")
    ua.add_unlock_options(p)
    p.set_defaults(func=cmd_recovery)

    p = sub.add_parser("presets", help="security presets: codebook bits and attack costs")
    p.set_defaults(func=cmd_presets)


def _rekey_note(rotated: bool) -> str:
    note = "; a new epoch: the old slots open nothing written from now on"
    return note + ("; every file was re-encrypted under the new key" if rotated else "")


def cmd_reenroll(args: argparse.Namespace) -> int:
    from facevault.core.factors import PassphraseFactor
    from facevault.services.modes import reenroll, vault_mode

    vault = ua.locked(args.vault)
    offer = ua.offer(args, vault)
    opened = vault.open(offer, ua.POLICY.unlock).vault
    passphrase = None
    if vault_mode(opened) is Mode.FACE_PASSPHRASE:
        given = offer.get(PassphraseFactor)
        passphrase = given.passphrase if given is not None else ua.ask_passphrase("Passphrase: ")
    template = ua.capture_template(args.new_face, args)
    code = show(reenroll(opened, template, rotate_key=args.rotate_key, store=ua.keyring(False),
                         passphrase=passphrase, model=ua.model()), "re-encrypting")
    err("re-enrolled: the old face template is destroyed" + _rekey_note(bool(args.rotate_key)))
    if code is not None:
        show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    from facevault.services.modes import change_mode

    mode = Mode.parse(args.new_mode)
    passphrase = ua.new_passphrase(args.new_passphrase_file) if mode is Mode.FACE_PASSPHRASE else None
    store = ua.keyring(mode is Mode.FACE_DEVICE)
    opened = ua.unlock(args)
    template = ua.capture_template(args.new_face, args) if args.new_face else None
    if template is None and opened.face is None:
        raise UsageError("changing the mode needs your face",
                         hint="unlock with --face SRC, or give --new-face SRC2 for a fresh enrollment")
    old_mode = opened.vault.mode
    code = show(change_mode(opened.vault, mode, face=opened.face, new_template=template,
                            passphrase=passphrase, store=store, rotate_key=args.rotate_key,
                            model=ua.model()),
                "re-encrypting")
    rotated = args.rotate_key if args.rotate_key is not None else (
        mode is not Mode.FACE and mode is not old_mode)
    err(f"{args.vault} is now in {mode.label} mode" + _rekey_note(bool(rotated)))
    if code is not None:
        show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_slots(args: argparse.Namespace) -> int:
    from facevault.services import threat
    from facevault.services.inspect import describe_slots, explain

    vault = ua.locked(args.vault)
    if not args.explain:
        mode = vault.mode
        print(f"mode {mode.label if mode is not None else 'none'}")
        for info in describe_slots(vault):
            print(f"{info.kind.label:15} {info.slot_id}  {info.detail}")
        return 0
    measured = threat.load_measured(args.far_file or threat.measured_far_file())
    if args.far_file is not None and not measured:
        raise UsageError(f"{args.far_file} does not exist")
    bits = args.passphrase_bits if args.passphrase_bits is not None else threat.PIN6_BITS
    fig = explain(vault, measured=measured, passphrase_bits=bits)
    print(f"{args.vault}: mode {fig.mode.label}")
    for line in threat.describe(fig):
        print(line)
    return 0


def cmd_device(args: argparse.Namespace) -> int:
    from facevault.services import devices

    if args.action == "import":
        return _device_import(args)
    store = ua.keyring(True)
    assert store is not None
    if args.action == "pair":
        opened = ua.unlock(args)
        if opened.face is None:
            raise UsageError("pairing needs your face", hint="unlock with --face SRC on a paired device")
        code = devices.pair_device(opened.vault, opened.face)
        if args.qr is not None:
            _write_qr(args.qr, code)
        if args.code_file is not None:
            write_private(args.code_file, (code + "\n").encode("ascii"), "pairing code")
            err(f"pairing code written to {args.code_file} (owner-only)")
        else:
            print("Pairing code (one use; with your face it opens the vault, so keep it private):")
            print(f"  {code}")
        err("on the other device: facevault device import VAULT --face SRC (and type the code when asked)")
        return 0
    vault = ua.unlock(args).vault
    if args.action == "enable":
        devices.enable_device(vault, store)
        err(f"this device can now open {args.vault} ({store.describe()})")
    elif args.action == "remove":
        n = devices.remove_device(vault, slot_id=args.slot, store=None if args.slot else store)
        err(f"removed {n} device slot(s)")
    else:
        n = devices.disable_device(vault, store, all_devices=args.all)
        err(f"removed {n} device slot(s)")
    return 0


def _device_import(args: argparse.Namespace) -> int:
    from facevault.services import devices
    from facevault.services.capture import capture

    if args.code_file is not None and args.code:
        raise UsageError("give the pairing code one way, not --code and --code-file")
    if args.code_file is not None:
        code = ua.read_secret_file(args.code_file, "the pairing code").strip()
    elif args.code:
        ua.warn_argv_secret("--code", "--code-file F (- for standard input) or type it when asked")
        code = args.code
    else:
        code = ua.ask_secret("Pairing code from the other computer: ", "the pairing code",
                             "give --code-file F (- for standard input; no terminal to ask on)").strip()
    if not args.face:
        raise UsageError("pairing needs your face", hint="give --face SRC")
    store = ua.keyring(True)
    assert store is not None
    policy = ua.POLICY.unlock
    result = show(capture(args.face, want=policy.want, max_frames=policy.max_frames,
                          parts=ua.parts()), "looking", policy.want)
    devices.import_device(args.vault, code, result.probes(), store, policy, model=ua.model())
    err(f"this device is paired: {args.vault} opens here with your face ({store.describe()}); "
        "the pairing code is used up")
    return 0


def _write_qr(target: Path, code: str) -> None:
    import io

    import qrcode
    import qrcode.image.svg

    buf = io.BytesIO()
    qrcode.make(code, image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    write_private(target, buf.getvalue(), "QR image")
    err(f"pairing QR image written to {target} (owner-only; delete it once used)")


def cmd_recovery(args: argparse.Namespace) -> int:
    from facevault.services.recovery import regenerate_recovery

    vault = ua.unlock(args).vault
    code = regenerate_recovery(vault)
    show_recovery_code(code, args.recovery_code_file, what=f"{args.vault} (the old code no longer works)")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from facevault.core import ironmask, kdf

    seconds = kdf.measure(kdf.DEFAULT_PARAMS)
    print(f"KDF: {kdf.DEFAULT_PARAMS.describe()}: {seconds:.2f} s per guess on this machine")
    print(f"{'preset':10} {'codebook':>10} {'brute force':>16}")
    for name, params in ironmask.PRESETS.items():
        years = 2.0 ** params.bits * seconds / 3.15e7
        print(f"{name:10} C({params.dim},{params.alpha}) {params.bits:6.1f} bits  {years:9.2e} CPU-years")
    print("The false-accept dictionary attack needs about 1/FAR guesses; see `facevault bench accuracy`.")
    return 0
