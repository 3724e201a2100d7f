"""Key slots as recipients (age's X25519 recipient): a slot keeps a public key; anyone can
wrap a key to it, only the holder of the slot's secret can unwrap.

    sk       = X25519 private key from HKDF-SHA256(ikm, salt = slot salt,
               info = "FaceVault recipient v2" || kind || slot id)        (ikm: the slot's secret
               after its kind's KDF, facevault.core.kinds)
    pk       = X25519 public key of sk (stored in the slot)
    stanza   = ephemeral public key E (32) || AEAD(wrap key, nonce 0^12, key, aad) (48)
    wrap key = HKDF-SHA256(X25519(e, pk), salt = E || pk, info = "FaceVault stanza v2")

The wrap key is fresh for every stanza (a new ephemeral key each time), so the all-zero
nonce is used once. `aad` binds the stanza to its vault, epoch and slot (the caller's).
Because wrapping needs only the public key, a device can start a new epoch for every slot
it keeps without their secrets: revoking one slot never means re-pairing the others.

May import: stdlib, cryptography, facevault.core.crypto, facevault.errors.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from facevault.core.crypto import KEY_SIZE, AuthenticationError, aead_open, aead_seal, hkdf_sha256
from facevault.errors import IntegrityError

__all__ = ["PUBLIC_KEY_SIZE", "STANZA_BODY_SIZE", "private_key", "public_key", "raw_public", "wrap",
           "unwrap"]

PUBLIC_KEY_SIZE = 32
STANZA_BODY_SIZE = PUBLIC_KEY_SIZE + KEY_SIZE + 16
_SK_INFO = b"FaceVault recipient v2"
_WRAP_INFO = b"FaceVault stanza v2"
_ZERO_NONCE = bytes(12)


def _raw(pk: X25519PublicKey) -> bytes:
    return pk.public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_key(ikm: bytes, salt: bytes, label: bytes) -> X25519PrivateKey:
    """The slot's private key from its secret (`label`: kind byte || slot id)."""
    if not ikm:
        raise ValueError("a slot secret must not be empty")
    seed = hkdf_sha256(ikm, salt=salt, info=_SK_INFO + label)
    return X25519PrivateKey.from_private_bytes(seed)


def public_key(ikm: bytes, salt: bytes, label: bytes) -> bytes:
    return _raw(private_key(ikm, salt, label).public_key())


def raw_public(sk: X25519PrivateKey) -> bytes:
    return _raw(sk.public_key())


def _wrap_key(shared: bytes, eph: bytes, pk: bytes) -> bytes:
    return hkdf_sha256(shared, salt=eph + pk, info=_WRAP_INFO)


def wrap(key: bytes, recipient: bytes, aad: bytes) -> bytes:
    """A stanza (80 bytes) carrying `key` (32 bytes) to the public key `recipient`."""
    if len(key) != KEY_SIZE or len(recipient) != PUBLIC_KEY_SIZE:
        raise ValueError("wrap needs a 32-byte key and a 32-byte public key")
    eph = X25519PrivateKey.generate()
    eph_pk = _raw(eph.public_key())
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    except ValueError:
        raise IntegrityError("a key slot's public key is not a valid X25519 key") from None
    return eph_pk + aead_seal(_wrap_key(shared, eph_pk, recipient), _ZERO_NONCE, key, aad)


def unwrap(stanza: bytes, sk: X25519PrivateKey, aad: bytes) -> bytes | None:
    """The key in `stanza` if `sk` is its recipient's private key, else None."""
    if len(stanza) != STANZA_BODY_SIZE:
        raise IntegrityError("a key stanza has the wrong length")
    eph_pk, body = stanza[:PUBLIC_KEY_SIZE], stanza[PUBLIC_KEY_SIZE:]
    try:
        shared = sk.exchange(X25519PublicKey.from_public_bytes(eph_pk))
    except ValueError:
        return None  # an all-zero shared secret: not ours
    pk = _raw(sk.public_key())
    try:
        return aead_open(_wrap_key(shared, eph_pk, pk), _ZERO_NONCE, body, aad)
    except AuthenticationError:
        return None
