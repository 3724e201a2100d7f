"""What the vault commands share: the unlock options, turning them into factors, capturing
faces by the shared Policy, passphrases (never echoed, never on the command line) and the
OS keyring.

Every command that needs a face takes --face SRC (camera:N, a video, an image or a folder
of images); every command that unlocks also accepts the recovery code (--ask-recovery-code:
typed, not echoed; --recovery-code-from F, `-` for stdin; --recovery-code CODE still works
for old scripts but warns: a command line is readable by every user of the computer) and
--device. A face+device vault takes this computer's keyring along with --face; a
face+passphrase vault reads --passphrase-file F (`-`: stdin) or asks on a terminal. What to ask for comes from the vault's
header, read once per command (services.unlock.LockedVault).

May import: stdlib, facevault.errors, facevault.core (types), facevault.services,
facevault.cli (output).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from facevault.cli.output import err, show
from facevault.errors import NoUsableFaceError, PathError, UsageError
from facevault.services.policy import Policy

if TYPE_CHECKING:
    import numpy as np

    from facevault.core.factors import Factors
    from facevault.core.modelref import ModelRef
    from facevault.services.capture import CaptureParts
    from facevault.services.secretstore import KeyringStore
    from facevault.services.unlock import LockedVault, Unlocked

__all__ = [
    "POLICY",
    "add_unlock_options",
    "read_secret_file",
    "warn_argv_secret",
    "ask_secret",
    "recovery_code",
    "ask_passphrase",
    "new_passphrase",
    "keyring",
    "parts",
    "model",
    "add_enroll_option",
    "capture_template",
    "probes",
    "locked",
    "offer",
    "unlock",
]

POLICY = Policy()


def add_unlock_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("unlock with (at least one)")
    g.add_argument("--face", metavar="SRC", help="camera:N, a video, an image or a folder of images")
    g.add_argument("--ask-recovery-code", action="store_true",
                   help="type the recovery code shown at creation (not echoed)")
    g.add_argument("--recovery-code-from", type=Path, metavar="F",
                   help="read the recovery code from the file F (- for standard input)")
    g.add_argument("--recovery-code", metavar="CODE",
                   help="the recovery code on the command line (discouraged: other users of this "
                        "computer can read it in the process list; use --ask-recovery-code)")
    g.add_argument("--device", action="store_true", help="use this device's secret in the OS keyring")
    g.add_argument("--passphrase-file", type=Path, metavar="F",
                   help="face+passphrase vaults: read the passphrase from F (- for standard input; "
                        "else asked on a terminal)")
    g.add_argument("--liveness", action="store_true",
                   help="require a live face: blink, then turn your head as asked (camera sources)")
    g.add_argument("--allow-still", action="store_true",
                   help="with --liveness: accept a video file instead of a camera (tests, benchmarks)")
    g.add_argument("--passive-check", action="store_true",
                   help="with --liveness: also veto with the passive anti-spoof model (experimental)")
    g.add_argument("--keep-v1", action="store_true",
                   help="a version-1 vault: work with its files without upgrading it to version 2 "
                        "(no sync merge, no rollback protection)")


_SECRET_FILE_CAP = 64 * 1024
_STDIN_USED: list[str] = []


def read_secret_file(path: Path, what: str = "the secret") -> str:
    """A passphrase or code from the file `path` (`-`: standard input, once per command);
    one trailing newline belongs to the file. Only regular files (or stdin), at most 64 KiB."""
    from facevault.core import fsutil

    if str(path) == "-":
        if _STDIN_USED:
            raise UsageError(f"standard input already gave {_STDIN_USED[0]}; it can give only one secret",
                             hint="read the other one from a file or type it when asked")
        _STDIN_USED.append(what)
        text = sys.stdin.read(_SECRET_FILE_CAP + 1)
    else:
        try:
            with fsutil.open_regular(path, "the file", follow_links=True, error=PathError) as f:
                raw = f.read(_SECRET_FILE_CAP + 1)
        except FileNotFoundError:
            raise PathError(f"{path} does not exist", hint=f"give the file that holds {what}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text; it cannot hold {what}") from None
    if len(text) > _SECRET_FILE_CAP:
        raise UsageError(f"{path} is too large to hold {what}")
    return text[:-1] if text.endswith("\n") else text


def warn_argv_secret(option: str, better: str) -> None:
    err(f"warning: {option} puts the secret on the command line, where other users of this "
        f"computer can read it (process list) and your shell history keeps it; use {better}")


def ask_secret(prompt: str, what: str, hint: str) -> str:
    """A secret typed on the terminal, not echoed (UsageError without a terminal)."""
    import getpass

    if not sys.stdin.isatty():
        raise UsageError(f"this needs {what}", hint=hint)
    return getpass.getpass(prompt)


def recovery_code(args: argparse.Namespace) -> str | None:
    """The recovery code the options give (file, stdin, prompt or, with a warning, argv)."""
    given = [o for o, v in (("--recovery-code", args.recovery_code),
                            ("--recovery-code-from", args.recovery_code_from),
                            ("--ask-recovery-code", args.ask_recovery_code)) if v]
    if len(given) > 1:
        raise UsageError(f"give the recovery code one way, not {' and '.join(given)}")
    if args.recovery_code_from is not None:
        return read_secret_file(args.recovery_code_from, "the recovery code").strip()
    if args.ask_recovery_code:
        return ask_secret("Recovery code: ", "the recovery code",
                          "give --recovery-code-from F (no terminal to ask on)").strip()
    if args.recovery_code:
        warn_argv_secret("--recovery-code", "--ask-recovery-code or --recovery-code-from F")
        return str(args.recovery_code)
    return None


def ask_passphrase(prompt: str, *, twice: bool = False) -> str:
    import getpass

    first = ask_secret(prompt, "a passphrase", "give --passphrase-file F (no terminal to ask on)")
    if twice and getpass.getpass("Again, to check: ") != first:
        raise UsageError("the two passphrases differ; nothing was changed")
    return first


def new_passphrase(path: Path | None) -> str:
    from facevault.core.kinds.face_passphrase import normalise_passphrase

    passphrase = read_secret_file(path, "the passphrase") if path is not None else ask_passphrase(
        "New passphrase or PIN: ", twice=True)
    normalise_passphrase(passphrase)  # refuse a too-short one before any capture
    return passphrase


def keyring(required: bool) -> KeyringStore | None:
    from facevault.errors import KeyringUnavailableError
    from facevault.services.secretstore import KeyringStore

    if required:
        return KeyringStore()
    try:
        return KeyringStore()
    except KeyringUnavailableError:  # device unlock is optional here
        return None


_PARTS: list[CaptureParts] = []


def parts() -> CaptureParts:
    """The capture parts of this command (the model store's models, loaded once)."""
    if not _PARTS:
        from facevault.services.capture import default_parts

        _PARTS.append(default_parts())
    return _PARTS[0]


def model() -> ModelRef:
    """The embedder the faces of this command come from (recorded in new face slots)."""
    return parts().model


def add_enroll_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-same-source", action="store_true",
                   help="enroll again from photos or a video this computer enrolled from before "
                        "(the same template again: see docs/SECURITY.md, multi-sketch attack)")


def capture_template(spec: str, args: argparse.Namespace | None = None) -> np.ndarray:
    """A fused template from `spec`. A still source (photos, a video) this computer already
    enrolled from is refused unless --allow-same-source: it would give the same template,
    and two helpers of one template are the multi-sketch attack's easy case."""
    from facevault.services.enroll import capture_template as capture
    from facevault.services.enroll import enrolled_before, remember_enrollment

    if enrolled_before(spec) and not getattr(args, "allow_same_source", False):
        raise UsageError(
            f"{spec} was enrolled from before on this computer: the same photos or video give the "
            "same template, and a second helper of one template makes the multi-sketch attack "
            "fast (2^32.6 regression trials for two helpers, measured in docs/BENCHMARKS.md, against weeks to years with camera noise)",
            hint="enroll from the camera (camera:N) or from other photos; --allow-same-source "
                 "if you know why")
    policy = POLICY.enroll
    template = show(capture(spec, parts=parts(), policy=policy), "enrolling", policy.want)
    remember_enrollment(spec)
    err("enrolled from a fused template of your good frames")
    return template


def probes(args: argparse.Namespace) -> list[np.ndarray]:
    """Probe embeddings from --face: plain capture, or the liveness challenge (--liveness)."""
    from facevault.services.liveness import PassiveScorer, live_probes

    passive: PassiveScorer | None = None
    if args.liveness and args.passive_check:
        from facevault.services.models import passive_liveness

        passive = passive_liveness()
    policy = POLICY.unlock
    return show(live_probes(args.face, parts=parts(), require=bool(args.liveness),
                            allow_still=bool(args.allow_still), want=policy.want,
                            max_frames=policy.max_frames, passive=passive),
                "looking", policy.want)


def locked(path: Path, *, check: bool = True) -> LockedVault:
    """The vault folder's headers and this computer's pin of it (TrustError, exit 3, when
    the folder now holds another vault; `check` False: `trust`)."""
    from facevault.services.unlock import LockedVault

    return LockedVault.read(path, check=check)


def offer(args: argparse.Namespace, vault: LockedVault | None = None) -> Factors:
    """The factors the options name, plus what `vault` needs with a face (a passphrase, this
    computer's keyring). A face that is not seen is fatal only without another way in."""
    from facevault.core.factors import (
        DeviceFactor,
        FaceFactor,
        Factors,
        PassphraseFactor,
        RecoveryFactor,
    )

    code = recovery_code(args)
    if not (args.face or code or args.device):
        raise UsageError("nothing to unlock with",
                         hint="give --face SRC, --ask-recovery-code or --device")
    items: list[object] = []
    if args.passphrase_file is not None:
        items.append(PassphraseFactor(read_secret_file(args.passphrase_file, "the passphrase")))
    elif args.face and vault is not None and vault.needs_passphrase and not code:
        items.append(PassphraseFactor(ask_passphrase("Passphrase: ")))
    if args.device or (args.face and vault is not None and vault.face_uses_keyring):
        store = keyring(True)
        assert store is not None
        items.append(DeviceFactor(store))
    if code:
        items.append(RecoveryFactor(code))
    if args.face:
        try:
            items.append(FaceFactor(tuple(probes(args)), model()))
        except NoUsableFaceError:
            if not (code or args.device):
                raise
    return Factors(*items)  # type: ignore[arg-type]


def unlock(args: argparse.Namespace, *, trust: bool = False) -> Unlocked:
    vault = locked(args.vault, check=not trust)
    return vault.open(offer(args, vault), POLICY.unlock, keep_v1=bool(getattr(args, "keep_v1", False)),
                      trust=trust)
