"""Device secrets in memory and in a real Secret Service (gnome-keyring over D-Bus)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facevault.core import kdf
from facevault.errors import KeyringUnavailableError, NotRecognisedError
from facevault.services.devices import disable_device
from facevault.services.secretstore import KeyringStore, MemoryStore
from tests.helpers.vaults import create, offer, unlock


def test_memory_store_round_trip() -> None:
    store = MemoryStore()
    assert store.get("a") is None
    store.set("a", b"\x00\xff")
    assert store.get("a") == b"\x00\xff"
    store.delete("a")
    store.delete("a")
    assert store.get("a") is None


def test_no_backend_is_a_clear_error() -> None:
    from keyring.backends import fail

    with pytest.raises(KeyringUnavailableError) as info:
        KeyringStore(fail.Keyring())
    assert "keyring" in str(info.value).lower() and info.value.hint




def test_real_secret_service_round_trip(real_keyring: KeyringStore) -> None:
    assert "SecretService" in real_keyring.describe()
    real_keyring.set("fv-test", os.urandom(32))
    assert len(real_keyring.get("fv-test") or b"") == 32
    real_keyring.delete("fv-test")
    assert real_keyring.get("fv-test") is None


def test_device_slot_through_real_keyring(tmp_path: Path, real_keyring: KeyringStore) -> None:
    rng = np.random.default_rng()
    face = rng.standard_normal(512)
    face /= np.linalg.norm(face)
    created = create(tmp_path / "v", face, kdf=kdf.TEST_PARAMS, device_store=real_keyring)
    created.vault.add_bytes("x", b"42")
    opened = unlock(tmp_path / "v", offer(store=real_keyring))
    assert opened.read_bytes("x") == b"42"
    assert disable_device(opened, real_keyring) == 1
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(store=real_keyring))
