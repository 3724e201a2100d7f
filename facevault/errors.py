"""One exception hierarchy for FaceVault, and the structured hints that travel with it.

Library code raises these; only the front ends turn them into words and exit codes (the
CLI's table is `facevault.cli.exit_codes`). May import nothing from facevault.

    FaceVaultError                 base; `hint` says what the user can do about it
    ├── UsageError                 bad arguments, options or requests
    ├── NotRecognisedError         wrong face, wrong recovery code: nothing changed
    ├── IntegrityError             corrupt, truncated, tampered or foreign data
    │   └── TrustError             an authentic-looking folder this device must not trust:
    │                              swapped, rolled back, downgraded (see services.trust)
    ├── NoUsableFaceError          no usable face in the input
    ├── SourceError                frame source cannot be opened or was lost
    │   └── CameraError            webcam missing or lost
    ├── ModelError                 model file missing, corrupt or unregistered
    ├── VaultBusyError             another process holds the vault's write lock
    ├── KeyringUnavailableError    no usable OS keyring backend
    └── StorageError               disk full, permission denied, output exists

A hint is either a plain sentence that names no front-end control (no CLI flag, no
button), or a `Hint` member: a *kind* of advice that the CLI and the GUI each put in their
own words ("give --passphrase-file F" / "Type the passphrase"). `Hint.text` is the
front-end-free default.
"""

from __future__ import annotations

import enum

__all__ = [
    "Hint",
    "FaceVaultError",
    "UsageError",
    "NotRecognisedError",
    "IntegrityError",
    "TrustError",
    "NoUsableFaceError",
    "SourceError",
    "CameraError",
    "ModelError",
    "VaultBusyError",
    "KeyringUnavailableError",
    "PathError",
    "StorageError",
]


class Hint(enum.Enum):
    """Advice that depends on the front end. The value is a neutral sentence."""

    GIVE_UNLOCK_FACTOR = "Offer your face, the recovery code, or this device's keyring."
    GIVE_PASSPHRASE = "This needs the vault's passphrase or PIN as well."
    GIVE_NEW_PASSPHRASE = "Choose a passphrase or PIN of at least 4 characters."
    GIVE_FACE_TOO = "This needs your face as well."
    USE_PAIRED_DEVICE = "Open it on a computer paired with the vault, or use the recovery code."
    RETRY_FACE = ("Face the camera alone, at arm's length, in even light; or use the recovery "
                  "code.")
    NEED_FRESH_CAPTURE = "Look at the camera for a fresh enrollment of your face."
    PAIR_DEVICE = "Pair the other computer from one that already opens the vault."
    SWITCH_TO_FACE_DEVICE = "Change the vault to face + device first."
    SEE_SLOTS = "List the vault's key slots to see their ids."
    INSTALL_MODELS = "Install the face models again (FaceVault fetches and checks them)."
    REGISTER_MODEL = "Register the model again with its preprocessing constants."
    LIST_MODELS = "List the models FaceVault knows."
    OVERWRITE_OR_RENAME = "Choose another name, or allow overwriting."
    LIVE_CAMERA = "A liveness check needs a live camera."
    RERUN_ACCURACY = "Measure the false-accept rate again, or delete the measurement file."
    TRUST_IF_YOURS = ("If you made this change yourself (a restore from a backup, a new vault "
                      "in the same place, a mode change on another computer), accept the "
                      "folder as it is now; otherwise do not use it.")
    WAIT_FOR_SYNC = "Let the sync finish, then try again."

    @property
    def text(self) -> str:
        return str(self.value)


class FaceVaultError(Exception):
    """Base class. `hint` tells the user what to do next (a sentence or a Hint)."""

    def __init__(self, message: str, *, hint: str | Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    @property
    def hint_text(self) -> str | None:
        """The hint as a front-end-free sentence (front ends render Hint members their way)."""
        if isinstance(self.hint, Hint):
            return self.hint.text
        return self.hint


class UsageError(FaceVaultError):
    pass


class NotRecognisedError(FaceVaultError):
    pass


class IntegrityError(FaceVaultError):
    pass


class TrustError(IntegrityError):
    pass


class NoUsableFaceError(FaceVaultError):
    pass


class SourceError(FaceVaultError):
    pass


class CameraError(SourceError):
    pass


class ModelError(FaceVaultError):
    pass


class VaultBusyError(FaceVaultError):
    pass


class KeyringUnavailableError(FaceVaultError):
    pass


class StorageError(FaceVaultError):
    pass


class PathError(StorageError):
    """A path the person named is wrong: no vault there, the output already exists, a vault
    is already there, a folder where a file is needed (a usage mistake: exit 2)."""
