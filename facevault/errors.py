"""One exception hierarchy for FaceVault. Library code raises these; only the CLI and
GUI turn them into messages and exit codes. May import nothing from facevault.

    FaceVaultError                 base; `hint` says what the user can do about it
    ├── UsageError                 bad arguments or options (exit 2)
    ├── NotRecognisedError         wrong face, wrong recovery code: nothing changed (exit 1)
    ├── IntegrityError             corrupt, truncated, tampered or foreign data (exit 3)
    ├── NoUsableFaceError          no usable face in the input (exit 4)
    ├── SourceError                frame source cannot be opened or was lost (exit 4)
    │   └── CameraError            webcam missing or lost
    ├── ModelError                 model file missing, corrupt or unregistered (exit 5)
    ├── VaultBusyError             another process holds the vault's write lock (exit 5)
    ├── KeyringUnavailableError    no usable OS keyring backend (exit 5)
    └── StorageError               disk full, permission denied, output exists (exit 5)
"""

from __future__ import annotations

__all__ = [
    "FaceVaultError",
    "UsageError",
    "NotRecognisedError",
    "IntegrityError",
    "NoUsableFaceError",
    "SourceError",
    "CameraError",
    "ModelError",
    "VaultBusyError",
    "KeyringUnavailableError",
    "StorageError",
]


class FaceVaultError(Exception):
    """Base class. `hint` is a short sentence telling the user what to do next."""

    exit_code = 5

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(FaceVaultError):
    exit_code = 2


class NotRecognisedError(FaceVaultError):
    exit_code = 1


class IntegrityError(FaceVaultError):
    exit_code = 3


class NoUsableFaceError(FaceVaultError):
    exit_code = 4


class SourceError(FaceVaultError):
    exit_code = 4


class CameraError(SourceError):
    pass


class ModelError(FaceVaultError):
    exit_code = 5


class VaultBusyError(FaceVaultError):
    exit_code = 5


class KeyringUnavailableError(FaceVaultError):
    exit_code = 5


class StorageError(FaceVaultError):
    exit_code = 5
