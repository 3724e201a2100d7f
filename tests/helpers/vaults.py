"""Short spellings for service tests: make a vault, build an offer, unlock by path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facevault.core.factors import (
    DeviceFactor,
    FaceFactor,
    Factors,
    PassphraseFactor,
    RecoveryFactor,
)
from facevault.core.kdf import TEST_PARAMS, KdfParams
from facevault.core.modes import Mode
from facevault.core.vault import OpenVault
from facevault.services.enroll import Created, create_vault
from facevault.services.policy import UnlockPolicy
from facevault.services.secretstore import SecretStore
from facevault.services.trust import PinStore
from facevault.services.unlock import LockedVault, Unlocked


def offer(*, faces: Sequence[np.ndarray] | None = None, code: str | None = None,
          store: SecretStore | None = None, passphrase: str | None = None) -> Factors:
    items = []
    if faces is not None:
        items.append(FaceFactor(tuple(faces)))
    if code is not None:
        items.append(RecoveryFactor(code))
    if store is not None:
        items.append(DeviceFactor(store))
    if passphrase is not None:
        items.append(PassphraseFactor(passphrase))
    return Factors(*items)


def create(path: Path, face: np.ndarray, *, kdf: KdfParams = TEST_PARAMS, mode: str = "face",
           device_store: SecretStore | None = None, passphrase: str | None = None,
           preset: str = "default", pins: PinStore | None = None) -> Created:
    """services.enroll.create_vault; in face mode a `device_store` adds a device-only slot."""
    m = Mode(mode)
    return create_vault(Path(path), face, mode=m, kdf=kdf, preset=preset, store=device_store,
                        passphrase=passphrase, device_slot=m is Mode.FACE and device_store is not None,
                        pins=pins)


def unlock_full(path: Path, factors: Factors, policy: UnlockPolicy = UnlockPolicy()) -> Unlocked:
    return LockedVault.read(Path(path)).open(factors, policy)


def unlock(path: Path, factors: Factors, policy: UnlockPolicy = UnlockPolicy()) -> OpenVault:
    return unlock_full(path, factors, policy).vault


def kinds(path: Path) -> list[str]:
    return [s.kind.label for s in LockedVault.read(Path(path)).slots]
