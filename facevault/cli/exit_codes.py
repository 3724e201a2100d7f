"""The CLI's exit codes: one table, from the error types of facevault.errors.

    0    done
    1    not recognised (wrong face or recovery code): nothing changed
    2    usage error (a mistake in the command: bad option, missing path, output exists)
    3    corrupted, truncated, foreign or tampered data; a vault this device must not trust
    4    no usable face in the input, or camera failure
    5    other error: missing model, vault in use, disk full, no keyring
    130  interrupted

May import: facevault.errors.
"""

from __future__ import annotations

from facevault.errors import (
    FaceVaultError,
    IntegrityError,
    KeyringUnavailableError,
    ModelError,
    NotRecognisedError,
    NoUsableFaceError,
    PathError,
    SourceError,
    StorageError,
    UsageError,
    VaultBusyError,
)

__all__ = ["OK", "INTERRUPTED", "EXIT_CODES", "exit_code", "HELP"]

OK = 0
INTERRUPTED = 130

EXIT_CODES: dict[type[FaceVaultError], int] = {
    NotRecognisedError: 1,
    UsageError: 2,
    IntegrityError: 3,
    NoUsableFaceError: 4,
    SourceError: 4,
    ModelError: 5,
    VaultBusyError: 5,
    KeyringUnavailableError: 5,
    PathError: 2,
    StorageError: 5,
    FaceVaultError: 5,
}

HELP = """exit codes:
  0  done
  1  not recognised (wrong face or recovery code): nothing changed
  2  usage error
  3  corrupted, tampered or untrusted data
  4  no usable face in the input, or camera failure
  5  other error (missing model, vault in use, disk full, no keyring backend)
"""


def exit_code(exc: FaceVaultError) -> int:
    """The code of the nearest error type in the table (by the exception's MRO)."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 5
