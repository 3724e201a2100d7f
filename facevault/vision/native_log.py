"""Route what native libraries write straight to file descriptor 2 into Python logging.

MediaPipe's C++ core prints start-up chatter ("Logging before InitGoogle()", XNNPACK and
feedback-manager notes) directly to fd 2, ignoring GLOG/TF environment settings. Users
should see clear messages, not that; `--verbose` still shows it, at DEBUG level.

May import: stdlib only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

__all__ = ["native_stderr_to_log"]

_lock = threading.Lock()


@contextlib.contextmanager
def native_stderr_to_log(logger: logging.Logger) -> Iterator[None]:
    """While the block runs, fd 2 goes to a temporary file whose lines are then logged at
    DEBUG. Keep the block short: anything else written to stderr meanwhile is logged too."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            yield  # no real fd 2 (embedded interpreter): nothing to redirect
            return
        with tempfile.TemporaryFile(mode="w+b") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                for line in sink.read().decode("utf-8", "replace").splitlines():
                    if line.strip():
                        logger.debug("native: %s", line)
