"""Tests for facevault.core.kdf: Argon2id parameters, encoding, derivation."""

from __future__ import annotations

import pytest
from argon2.low_level import Type, hash_secret_raw

from facevault.core import kdf
from facevault.core.kdf import DEFAULT_PARAMS, TEST_PARAMS, KdfParams
from facevault.errors import IntegrityError

SALT = bytes(range(16))


def test_params_bytes_layout_and_round_trip() -> None:
    p = KdfParams(time_cost=3, memory_kib=65536, parallelism=2)
    raw = p.to_bytes()
    assert raw == bytes.fromhex("02" "00000003" "00010000" "00000002")
    assert KdfParams.from_bytes(raw) == p
    assert KdfParams.from_bytes(TEST_PARAMS.to_bytes()) == TEST_PARAMS


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes.fromhex("02000000030001000000000002") + b"\x00",  # trailing byte
        bytes.fromhex("020000000300010000000000"),  # short
        bytes.fromhex("01000000030001000000000002"),  # Argon2i id
        bytes.fromhex("02000000000001000000000002"),  # t = 0
        bytes.fromhex("02000000030000100000000002"),  # m = 4096 KiB, below floor
        bytes.fromhex("02000000030001000000000000"),  # p = 0
        bytes.fromhex("02000000030100000000000002"),  # m = 16 GiB, above ceiling
        bytes.fromhex("02ffffffff0001000000000002"),  # t huge
    ],
)
def test_params_from_bytes_rejects(raw: bytes) -> None:
    with pytest.raises(IntegrityError):
        KdfParams.from_bytes(raw)


def test_params_validation() -> None:
    with pytest.raises(ValueError):
        KdfParams(time_cost=1, memory_kib=1024, parallelism=1)
    with pytest.raises(ValueError):
        KdfParams(time_cost=0, memory_kib=8192, parallelism=1)
    with pytest.raises(TypeError):
        KdfParams(time_cost=1.0, memory_kib=8192, parallelism=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        KdfParams.from_bytes("02")  # type: ignore[arg-type]


def test_defaults() -> None:
    assert DEFAULT_PARAMS.memory_kib >= 64 * 1024
    assert DEFAULT_PARAMS.parallelism == 2
    assert TEST_PARAMS == KdfParams(time_cost=1, memory_kib=8192, parallelism=1)


def test_derive_key_is_argon2id_v13() -> None:
    key = kdf.derive_key(b"secret", SALT, TEST_PARAMS)
    expected = hash_secret_raw(b"secret", SALT, time_cost=1, memory_cost=8192, parallelism=1,
                               hash_len=32, type=Type.ID, version=0x13)
    assert key == expected and len(key) == 32
    assert kdf.derive_key(b"secret", SALT, TEST_PARAMS) == key


def test_derive_key_depends_on_everything() -> None:
    base = kdf.derive_key(b"secret", SALT, TEST_PARAMS)
    assert kdf.derive_key(b"secreT", SALT, TEST_PARAMS) != base
    assert kdf.derive_key(b"secret", bytes(16), TEST_PARAMS) != base
    assert kdf.derive_key(b"secret", SALT, KdfParams(2, 8192, 1)) != base
    assert kdf.derive_key(b"secret", SALT, KdfParams(1, 8192, 2)) != base


def test_derive_key_validation() -> None:
    with pytest.raises(ValueError):
        kdf.derive_key(b"secret", bytes(8), TEST_PARAMS)
    with pytest.raises(ValueError):
        kdf.derive_key(b"", SALT, TEST_PARAMS)
    with pytest.raises(TypeError):
        kdf.derive_key("secret", SALT, TEST_PARAMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kdf.derive_key(b"secret", SALT, (1, 8192, 1))  # type: ignore[arg-type]


def test_measure_and_calibrate_small() -> None:
    assert kdf.measure(TEST_PARAMS) > 0
    params = kdf.calibrate(0.02, min_memory_kib=8192, parallelism=1)
    assert params.memory_kib == 8192 and params.parallelism == 1
    assert 1 <= params.time_cost <= kdf.MAX_TIME_COST
    with pytest.raises(ValueError):
        kdf.calibrate(0.0)
