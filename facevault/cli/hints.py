"""The CLI's words for structured hints (facevault.errors.Hint): flags and commands.

May import: facevault.errors.
"""

from __future__ import annotations

from facevault.errors import FaceVaultError, Hint

__all__ = ["CLI_HINTS", "hint_text"]

CLI_HINTS: dict[Hint, str] = {
    Hint.GIVE_UNLOCK_FACTOR: "give --face SRC, --ask-recovery-code or --device",
    Hint.GIVE_PASSPHRASE: "give the passphrase too (--passphrase-file F, or type it when asked)",
    Hint.GIVE_NEW_PASSPHRASE: "give --passphrase-file F, or type it when asked (at least 4 characters)",
    Hint.GIVE_FACE_TOO: "give --face SRC too",
    Hint.USE_PAIRED_DEVICE: "run it on a paired device (its keyring goes with --face), or use the recovery code",
    Hint.RETRY_FACE: "try again facing the camera in good light, or use the recovery code",
    Hint.NEED_FRESH_CAPTURE: "unlock with --face SRC, or give --new-face SRC for a fresh enrollment",
    Hint.PAIR_DEVICE: "use `facevault device pair VAULT --face SRC` on a paired device",
    Hint.SWITCH_TO_FACE_DEVICE: "switch with `facevault mode VAULT face+device` first",
    Hint.SEE_SLOTS: "see `facevault slots VAULT`",
    Hint.INSTALL_MODELS: "run `facevault models install` to fetch or repair the models",
    Hint.REGISTER_MODEL: "register the model with its constants: `facevault models register NAME PATH ...`",
    Hint.LIST_MODELS: "see `facevault models list` for the models FaceVault knows",
    Hint.OVERWRITE_OR_RENAME: "choose another output path, or pass --overwrite",
    Hint.LIVE_CAMERA: "use --face camera:0, or pass --allow-still for tests and benchmarks",
    Hint.RERUN_ACCURACY: "run `facevault bench accuracy --write-far` again, or delete the file",
    Hint.TRUST_IF_YOURS: ("if you made this change yourself (a restore from a backup, a new vault "
                          "in the same place, a mode change on another computer), accept it "
                          "with `facevault trust VAULT`; otherwise do not use this folder"),
    Hint.WAIT_FOR_SYNC: "let the sync finish, then run the command again",
}


def hint_text(exc: FaceVaultError) -> str | None:
    if isinstance(exc.hint, Hint):
        return CLI_HINTS.get(exc.hint, exc.hint.text)
    return exc.hint
