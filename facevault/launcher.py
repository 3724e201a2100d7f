"""The `facevault` command: with no arguments the desktop app, with a command the CLI.

The one module above both front ends (they never import each other).

May import: facevault.cli.main, facevault.gui.app (lazily).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from facevault.gui.app import run

        return int(run())
    from facevault.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
