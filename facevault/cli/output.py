"""What the CLI writes: progress on a terminal, owner-only files, recovery codes shown once.

`show(gen, label)` drives any progress generator (facevault.services.progress) with one
progress line, matching the progress union in one place.

May import: stdlib, facevault.errors, facevault.services.progress, facevault.cli.progress.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import TypeVar

from facevault.cli.progress import ProgressLine
from facevault.errors import PathError
from facevault.services.progress import (
    ByteProgress,
    ChallengeProgress,
    CloakProgress,
    FrameProgress,
    Progress,
    StageProgress,
    drive,
)

__all__ = ["err", "show", "write_private", "show_recovery_code"]

R = TypeVar("R")


def err(text: str) -> None:
    print(text, file=sys.stderr)


def show(gen: Generator[Progress, None, R], label: str, total: int | None = None) -> R:
    """Run `gen` to its end with a progress line (silent when stderr is not a terminal); a
    liveness instruction is printed on its own line when there is no terminal to redraw."""
    bar = ProgressLine(label, total)
    last = [""]

    def on(p: Progress) -> None:
        match p:
            case ChallengeProgress(status=status):
                if status.instruction != last[0] and not bar.enabled:
                    err(status.instruction)
                last[0] = status.instruction
                bar.update(0, status.instruction)
            case FrameProgress(good=good, frames=frames):
                bar.update(good, f"{frames} frames")
            case ByteProgress(done=done):
                bar.update(done)
            case StageProgress():
                bar.update(0, p.text)
            case CloakProgress():
                if bar.total:
                    bar.update(int(p.fraction * bar.total), p.text)
                else:
                    bar.update(int(100 * p.fraction), f"% {p.text}")

    try:
        return drive(gen, on)
    finally:
        bar.close()


def write_private(target: Path, data: bytes, what: str) -> None:
    """A new owner-only file (never over an existing one, never through a symlink)."""
    from facevault.core import fsutil

    if target.exists() or target.is_symlink():
        raise PathError(f"{target} already exists", hint=f"Give a new file for the {what}.")
    fsutil.write_private(target, data, what=f"writing the {what} to {target}")


def show_recovery_code(code: str, target: Path | None, *, what: str) -> None:
    if target is None:
        print(f"Recovery code for {what} (shown once; write it down and keep it safe):")
        print(f"  {code}")
        return
    write_private(target, (code + "\n").encode("ascii"), "recovery code")
    err(f"recovery code written to {target} (owner-only)")
