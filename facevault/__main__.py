"""`python -m facevault` runs the same entry point as the `facevault` command."""

import sys

from facevault.launcher import main

sys.exit(main())
