"""Byte progress of long core operations (add, extract, re-key, encrypt a file).

May import: stdlib.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["ByteProgress", "as_progress", "run_to_end", "Sink"]

T = TypeVar("T")


@dataclass(frozen=True)
class ByteProgress:
    """Plaintext bytes processed so far out of `total` (for a progress bar)."""

    done: int
    total: int


class Sink:
    """A writable that forgets what it is given (verify decrypts into it)."""

    def write(self, data: bytes) -> int:
        return len(data)


def as_progress(gen: Generator[int, None, T], base: int,
                total: int) -> Generator[ByteProgress, None, T]:
    """Map a byte-count generator to ByteProgress, passing on its return value and a close()."""
    try:
        while True:
            try:
                done = base + next(gen)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            yield ByteProgress(done, max(total, done))
    finally:
        gen.close()


def run_to_end(gen: Generator[int, None, T]) -> T:
    """Drive a generator to its end and return its value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
