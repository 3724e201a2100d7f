"""Byte progress of long core operations (add, extract, re-key, encrypt a file).

May import: stdlib.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ByteProgress"]


@dataclass(frozen=True)
class ByteProgress:
    """Plaintext bytes processed so far out of `total` (for a progress bar)."""

    done: int
    total: int
