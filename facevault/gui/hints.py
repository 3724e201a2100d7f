"""The desktop app's words for structured hints (facevault.errors.Hint): what to click or
type, never a command-line flag.

May import: facevault.errors.
"""

from __future__ import annotations

from facevault.errors import FaceVaultError, Hint

__all__ = ["GUI_HINTS", "hint_text"]

GUI_HINTS: dict[Hint, str] = {
    Hint.GIVE_UNLOCK_FACTOR: "Look at the camera, or use the recovery code.",
    Hint.GIVE_PASSPHRASE: "Type the vault's passphrase, then look at the camera.",
    Hint.GIVE_NEW_PASSPHRASE: "Type a passphrase or PIN of at least 4 characters, twice.",
    Hint.GIVE_FACE_TOO: "Look at the camera as well.",
    Hint.USE_PAIRED_DEVICE: "Open it on a computer paired with the vault, or use the recovery code.",
    Hint.RETRY_FACE: "Try again facing the camera in good light, or use the recovery code.",
    Hint.NEED_FRESH_CAPTURE: "Look at the camera for a fresh enrollment of your face.",
    Hint.PAIR_DEVICE: "Pair the other computer from the Security page of one that opens the vault.",
    Hint.SWITCH_TO_FACE_DEVICE: "Change the vault to \u201cFace + this computer\u201d first.",
    Hint.SEE_SLOTS: "The Security page lists the vault's key slots.",
    Hint.INSTALL_MODELS: "Reinstall FaceVault, or run its model installer, to repair the face models.",
    Hint.REGISTER_MODEL: "Register the model again with its preprocessing constants.",
    Hint.LIST_MODELS: "Help > About FaceVault lists the models FaceVault knows.",
    Hint.OVERWRITE_OR_RENAME: "Choose another name, or allow replacing the file.",
    Hint.LIVE_CAMERA: "Choose a camera; the liveness check needs a live picture.",
    Hint.RERUN_ACCURACY: "Measure the false-accept rate again, or delete the measurement file.",
    Hint.TRUST_IF_YOURS: ("If you made this change yourself (a restore from a backup, a new vault "
                          "in the same place, a mode change on another computer), choose "
                          "\u201cTrust this folder\u201d; otherwise do not use it."),
    Hint.WAIT_FOR_SYNC: "Let the sync finish; the vault refreshes by itself.",
}


def hint_text(exc: FaceVaultError) -> str | None:
    if isinstance(exc.hint, Hint):
        return GUI_HINTS.get(exc.hint, exc.hint.text)
    return exc.hint
