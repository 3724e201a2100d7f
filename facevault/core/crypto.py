"""Cryptographic primitives for FaceVault: random bytes, HKDF-SHA256, ChaCha20-Poly1305,
HMAC-SHA256. Everything above this module calls these and nothing else from `cryptography`.

Every authentication failure (AEAD open, MAC check) raises the one opaque
`AuthenticationError`; it never says which byte or which check failed.

May import: stdlib, cryptography, facevault.errors.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facevault.errors import IntegrityError

__all__ = [
    "KEY_SIZE",
    "NONCE_SIZE",
    "TAG_SIZE",
    "MAC_SIZE",
    "AuthenticationError",
    "random_bytes",
    "hkdf_sha256",
    "aead_seal",
    "aead_open",
    "hmac_sha256",
    "verify_hmac",
]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
MAC_SIZE = 32


class AuthenticationError(IntegrityError):
    """Data failed authentication: corrupt, truncated, tampered, or the wrong key."""

    def __init__(self, message: str = "Authentication failed: the data is corrupt or was modified.",
                 *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)


def _check_bytes(name: str, value: object) -> None:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


def _check_key(key: object, name: str = "key") -> None:
    _check_bytes(name, key)
    if len(key) != KEY_SIZE:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be {KEY_SIZE} bytes")


def random_bytes(n: int) -> bytes:
    """Return `n` bytes from the operating system's CSPRNG."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError("n must be non-negative")
    return os.urandom(n)


def hkdf_sha256(key: bytes, *, info: bytes, salt: bytes = b"", length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869). `info` is the domain-separation label; always pass one."""
    _check_bytes("key", key)
    _check_bytes("info", info)
    _check_bytes("salt", salt)
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError("length must be an int")
    if not 1 <= length <= 255 * 32:
        raise ValueError("length must be between 1 and 8160")
    if len(key) == 0:
        raise ValueError("key must not be empty")
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=bytes(salt) or None, info=bytes(info)
    ).derive(bytes(key))


def aead_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """ChaCha20-Poly1305 encrypt; returns ciphertext || 16-byte tag.

    The caller guarantees that (key, nonce) is never reused.
    """
    _check_key(key)
    _check_bytes("nonce", nonce)
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    _check_bytes("plaintext", plaintext)
    _check_bytes("aad", aad)
    return ChaCha20Poly1305(bytes(key)).encrypt(bytes(nonce), bytes(plaintext), bytes(aad) or None)


def aead_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """ChaCha20-Poly1305 decrypt; raises AuthenticationError on any failure."""
    _check_key(key)
    _check_bytes("nonce", nonce)
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    _check_bytes("ciphertext", ciphertext)
    _check_bytes("aad", aad)
    if len(ciphertext) < TAG_SIZE:
        raise AuthenticationError()
    try:
        return ChaCha20Poly1305(bytes(key)).decrypt(
            bytes(nonce), bytes(ciphertext), bytes(aad) or None
        )
    except InvalidTag:
        raise AuthenticationError() from None


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data`; 32 bytes."""
    _check_bytes("key", key)
    _check_bytes("data", data)
    if len(key) == 0:
        raise ValueError("key must not be empty")
    return hmac.new(bytes(key), bytes(data), "sha256").digest()


def verify_hmac(key: bytes, data: bytes, tag: bytes) -> None:
    """Check an HMAC-SHA256 tag in constant time; raises AuthenticationError on mismatch."""
    _check_bytes("tag", tag)
    expected = hmac_sha256(key, data)
    if not hmac.compare_digest(expected, bytes(tag)):
        raise AuthenticationError()
