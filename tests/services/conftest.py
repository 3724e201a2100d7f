"""Fixtures shared by the service tests: random faces and a real Secret Service."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from facevault.services.secretstore import KeyringStore
from tests.helpers import secret_service
from tests.helpers.vectors import unit


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(os.urandom(4), "big"))


@pytest.fixture()
def face(rng: np.random.Generator) -> np.ndarray:
    return unit(rng.standard_normal(512))


@pytest.fixture(scope="session")
def real_keyring() -> Iterator[KeyringStore]:
    """A KeyringStore on a real gnome-keyring Secret Service, started for this session."""
    reason = secret_service.available()
    if reason:
        pytest.skip(f"no Secret Service can be started here: {reason}")
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")}
    with secret_service.running_secret_service() as env:
        os.environ.update(env)
        try:
            from keyring.backends import SecretService

            yield KeyringStore(SecretService.Keyring())
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
