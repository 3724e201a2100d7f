"""The command line: `facevault COMMAND ...` (facevault.launcher starts the desktop app when
there is no command).

Each command group lives in its own module under facevault.cli with a
`register(subparsers)` function that adds its parsers and sets `func` (a callable taking
the parsed namespace and returning an exit code). This module maps FaceVaultError to exit
codes (facevault.cli.exit_codes, the one table) and hints (facevault.cli.hints); nothing
below it prints tracebacks to users.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from facevault import __version__
from facevault.cli.exit_codes import HELP as EXIT_CODES_HELP
from facevault.cli.exit_codes import INTERRUPTED, exit_code
from facevault.cli.hints import hint_text
from facevault.errors import FaceVaultError

__all__ = ["build_parser", "main"]


# Command modules, in --help order. Each defines register(subparsers).
COMMAND_MODULES = (
    "facevault.cli.vault_cmds",
    "facevault.cli.slot_cmds",
    "facevault.cli.file_cmds",
    "facevault.cli.cloak_cmds",
    "facevault.cli.models_cmds",
    "facevault.cli.debug_cmds",
    "facevault.cli.bench_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facevault",
        description="An encrypted vault that opens with your face. "
        "Run without a command to start the desktop app.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"facevault {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except FaceVaultError as exc:
        print(f"facevault: {exc}", file=sys.stderr)
        hint = hint_text(exc)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("facevault: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return 0
    except MemoryError:
        print("facevault: out of memory; nothing was changed", file=sys.stderr)
        return 5
    except Exception as exc:  # a bug: one line for the person, the traceback with -v
        logging.getLogger("facevault").debug("internal error", exc_info=True)
        print(f"facevault: internal error ({type(exc).__name__}: {exc}); nothing was changed. "
              "Please report it; -v shows the details.", file=sys.stderr)
        return 5


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
