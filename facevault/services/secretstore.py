"""Where device secrets live: the OS keyring through `keyring`, or memory (tests).

A device slot's secret is 32 random bytes kept by the OS keyring of one trusted machine,
so that machine can open the vault without the camera. The vault stores only the keyring
entry name (public) and the slot wrapped under a key derived from the secret.

May import: stdlib, keyring (lazily), facevault.errors.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from facevault.errors import KeyringUnavailableError

SERVICE_NAME = "facevault"

__all__ = ["SecretStore", "KeyringStore", "MemoryStore", "SERVICE_NAME"]


class SecretStore(Protocol):
    def get(self, entry: str) -> bytes | None: ...
    def set(self, entry: str, secret: bytes) -> None: ...
    def delete(self, entry: str) -> None: ...
    def describe(self) -> str: ...


class MemoryStore:
    """A secret store that lives in memory: for tests and for machines without a keyring."""

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}

    def get(self, entry: str) -> bytes | None:
        return self._items.get(entry)

    def set(self, entry: str, secret: bytes) -> None:
        self._items[entry] = bytes(secret)

    def delete(self, entry: str) -> None:
        self._items.pop(entry, None)

    def describe(self) -> str:
        return "in-memory store"


_NO_BACKEND_HINT = (
    "No OS keyring is available here. On Linux start a Secret Service (GNOME Keyring or "
    "KWallet) in your desktop session; or open the vault with your face or recovery code."
)


class KeyringStore:
    """The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

    def __init__(self, backend: object | None = None) -> None:
        import keyring
        import keyring.errors

        self._keyring = keyring
        self._errors = keyring.errors
        self._backend = backend if backend is not None else keyring.get_keyring()
        if self._is_unusable(self._backend):
            raise KeyringUnavailableError(
                f"no usable OS keyring backend ({type(self._backend).__name__})",
                hint=_NO_BACKEND_HINT,
            )

    @staticmethod
    def _is_unusable(backend: object) -> bool:
        from keyring.backends import fail

        if isinstance(backend, fail.Keyring):
            return True
        priority = getattr(backend, "priority", 1)
        try:
            return float(priority) <= 0
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return type(self._backend).__module__ + "." + type(self._backend).__name__

    def get(self, entry: str) -> bytes | None:
        try:
            text = self._backend.get_password(SERVICE_NAME, entry)  # type: ignore[attr-defined]
        except self._errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the OS keyring refused: {exc}", hint=_NO_BACKEND_HINT) from exc
        if text is None:
            return None
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return None

    def set(self, entry: str, secret: bytes) -> None:
        text = base64.b64encode(secret).decode("ascii")
        try:
            self._backend.set_password(SERVICE_NAME, entry, text)  # type: ignore[attr-defined]
        except self._errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the OS keyring refused: {exc}", hint=_NO_BACKEND_HINT) from exc

    def delete(self, entry: str) -> None:
        try:
            self._backend.delete_password(SERVICE_NAME, entry)  # type: ignore[attr-defined]
        except self._errors.PasswordDeleteError:
            pass
        except self._errors.KeyringError as exc:
            raise KeyringUnavailableError(f"the OS keyring refused: {exc}", hint=_NO_BACKEND_HINT) from exc
