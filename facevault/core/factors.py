"""What a person offers to open a key slot, or hands over to seal one: typed factors.

A `Factors` bag holds at most one factor of each type. Unlocking reads the factors a slot
kind needs (`facevault.core.kinds`); sealing a new slot reads the enrollment-time ones.
Every field that holds a secret or an embedding is hidden from repr, so a factor printed
in a log or a traceback shows only its type.

    unlock time                          seal time
    FaceFactor      probe embeddings     EnrolledFace   helper bytes + codeword (facekey)
    RecoveryFactor  a typed code         RecoveryFactor the new code
    PassphraseFactor                     PassphraseFactor
    DeviceFactor    a keyring to look in DeviceSecret   a keyring entry name + its secret

May import: stdlib, numpy, facevault.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from facevault.core.modelref import UNKNOWN_MODEL, ModelRef

__all__ = [
    "SecretLookup",
    "Factor",
    "FaceFactor",
    "RecoveryFactor",
    "PassphraseFactor",
    "DeviceFactor",
    "DeviceSecret",
    "Factors",
]


@runtime_checkable
class SecretLookup(Protocol):
    """Where device secrets are looked up (the OS keyring, or memory in tests)."""

    def get(self, entry: str) -> bytes | None: ...


class Factor:
    """Base class of every factor type. `label` names it in messages ("face")."""

    __slots__ = ()
    label: ClassVar[str] = "factor"


@dataclass(frozen=True, repr=False)
class FaceFactor(Factor):
    """Probe embeddings from fresh frames: each (n,) float, unit L2 norm. Memory only."""

    embeddings: tuple[np.ndarray, ...]
    model: ModelRef = UNKNOWN_MODEL  # the model that made them (services.models knows it)
    label: ClassVar[str] = "face"

    def __post_init__(self) -> None:
        vectors = tuple(np.asarray(e) for e in self.embeddings)
        if not vectors:
            raise ValueError("a face factor needs at least one embedding")
        if any(v.ndim != 1 for v in vectors):
            raise ValueError("embeddings must be 1-D vectors")
        object.__setattr__(self, "embeddings", vectors)

    def __repr__(self) -> str:
        return f"FaceFactor(<{len(self.embeddings)} embeddings hidden>)"


@dataclass(frozen=True, repr=False)
class RecoveryFactor(Factor):
    code: str
    label: ClassVar[str] = "recovery code"

    def __repr__(self) -> str:
        return "RecoveryFactor(<hidden>)"


@dataclass(frozen=True, repr=False)
class PassphraseFactor(Factor):
    passphrase: str
    label: ClassVar[str] = "passphrase"

    def __repr__(self) -> str:
        return "PassphraseFactor(<hidden>)"


@dataclass(frozen=True, repr=False)
class DeviceFactor(Factor):
    """This computer's keyring, to look up the secrets of device slots."""

    store: SecretLookup = field(compare=False)
    label: ClassVar[str] = "this device"

    def __repr__(self) -> str:
        return "DeviceFactor(<keyring>)"


@dataclass(frozen=True, repr=False)
class DeviceSecret(Factor):
    """A device secret to seal into a slot, and the keyring entry that keeps it."""

    entry: str
    secret: bytes

    def __repr__(self) -> str:
        return f"DeviceSecret(entry={self.entry!r}, <secret hidden>)"


F = TypeVar("F", bound=Factor)


class Factors:
    """An immutable bag of factors, at most one per type."""

    __slots__ = ("_items",)

    def __init__(self, *items: Factor) -> None:
        table: dict[type[Factor], Factor] = {}
        for item in items:
            if not isinstance(item, Factor):
                raise TypeError(f"not a factor: {type(item).__name__}")
            if type(item) in table:
                raise ValueError(f"two {type(item).__name__} given")
            table[type(item)] = item
        self._items = table

    def get(self, kind: type[F]) -> F | None:
        item = self._items.get(kind)
        return item if isinstance(item, kind) else None

    def has(self, kind: type[Factor]) -> bool:
        return kind in self._items

    def with_(self, *items: Factor) -> Factors:
        """A new bag with `items` added (replacing factors of the same type)."""
        table = dict(self._items)
        for item in items:
            table[type(item)] = item
        return Factors(*table.values())

    def without(self, *kinds: type[Factor]) -> Factors:
        return Factors(*(v for k, v in self._items.items() if k not in kinds))

    def __iter__(self) -> Iterator[Factor]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return "Factors(" + ", ".join(repr(v) for v in self._items.values()) + ")"
