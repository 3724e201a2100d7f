"""Tests for facevault.core.crypto: RFC vectors, opaque failures, input validation."""

from __future__ import annotations

import pytest

from facevault.core import crypto
from facevault.core.crypto import AuthenticationError
from facevault.errors import IntegrityError

KEY = bytes(range(32))
NONCE = bytes(12)


def test_authentication_error_is_integrity_error() -> None:
    assert issubclass(AuthenticationError, IntegrityError)


def test_random_bytes() -> None:
    a, b = crypto.random_bytes(32), crypto.random_bytes(32)
    assert len(a) == 32 and a != b
    assert crypto.random_bytes(0) == b""
    with pytest.raises(ValueError):
        crypto.random_bytes(-1)
    with pytest.raises(TypeError):
        crypto.random_bytes(1.5)  # type: ignore[arg-type]


def test_hkdf_rfc5869_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = crypto.hkdf_sha256(ikm, info=info, salt=salt, length=42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_hkdf_labels_separate() -> None:
    assert crypto.hkdf_sha256(KEY, info=b"header") != crypto.hkdf_sha256(KEY, info=b"payload")
    assert crypto.hkdf_sha256(KEY, info=b"a", salt=b"1") != crypto.hkdf_sha256(KEY, info=b"a", salt=b"2")
    with pytest.raises(TypeError):
        crypto.hkdf_sha256("key", info=b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crypto.hkdf_sha256(b"", info=b"x")


def test_chacha20poly1305_rfc8439_vector() -> None:
    key = bytes.fromhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    nonce = bytes.fromhex("070000004041424344454647")
    aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    ct = crypto.aead_seal(key, nonce, pt, aad)
    assert ct[-16:].hex() == "1ae10b594f09e26a7e902ecbd0600691"
    assert ct[:16].hex() == "d31a8d34648e60db7b86afbc53ef7ec2"
    assert crypto.aead_open(key, nonce, ct, aad) == pt


@pytest.mark.parametrize("mutate", ["key", "nonce", "ct", "tag", "aad", "short"])
def test_aead_open_failures_are_opaque(mutate: str) -> None:
    ct = crypto.aead_seal(KEY, NONCE, b"secret", b"aad")
    key, nonce, aad = KEY, NONCE, b"aad"
    if mutate == "key":
        key = bytes(32)
    elif mutate == "nonce":
        nonce = b"\x01" + bytes(11)
    elif mutate == "ct":
        ct = bytes([ct[0] ^ 1]) + ct[1:]
    elif mutate == "tag":
        ct = ct[:-1] + bytes([ct[-1] ^ 0x80])
    elif mutate == "aad":
        aad = b"aae"
    else:
        ct = ct[:10]
    with pytest.raises(AuthenticationError) as info:
        crypto.aead_open(key, nonce, ct, aad)
    assert str(info.value) == str(AuthenticationError())


def test_aead_validates_inputs() -> None:
    with pytest.raises(ValueError):
        crypto.aead_seal(bytes(31), NONCE, b"x")
    with pytest.raises(ValueError):
        crypto.aead_seal(KEY, bytes(24), b"x")
    with pytest.raises(TypeError):
        crypto.aead_seal(KEY, NONCE, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.aead_open(KEY, NONCE, None)  # type: ignore[arg-type]


def test_hmac_rfc4231_case_2() -> None:
    tag = crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert tag.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    crypto.verify_hmac(b"Jefe", b"what do ya want for nothing?", tag)


@pytest.mark.parametrize("bad", ["flip", "short", "empty", "data"])
def test_verify_hmac_rejects(bad: str) -> None:
    tag = crypto.hmac_sha256(KEY, b"data")
    data = b"data"
    if bad == "flip":
        tag = bytes([tag[0] ^ 1]) + tag[1:]
    elif bad == "short":
        tag = tag[:16]
    elif bad == "empty":
        tag = b""
    else:
        data = b"date"
    with pytest.raises(AuthenticationError):
        crypto.verify_hmac(KEY, data, tag)
