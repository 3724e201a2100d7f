"""`python -m facevault` runs the same entry point as the `facevault` command."""

import sys

from facevault.cli.main import main

sys.exit(main())
