"""Ways in: one module per key-slot kind, like age's recipient types.

`Kind` is the wire code of a slot (one byte, FORMAT.md "Key slot encoding"). Each kind has
one module here, named after the enum member in lower case (`Kind.FACE_PASSPHRASE` lives in
`face_passphrase.py`), that defines `SPEC`, a `KindSpec`: its name, its public-data layout,
the candidate secrets it derives from the factors a person offers (after its own KDF, the
recipient key material of facevault.core.slots), how to make a new slot from
enrollment-time factors, and its description. The rest of FaceVault loops over kinds;
adding a way in is one module, one enum line and its tests.

May import: stdlib, numpy, facevault.core (slots, kdf, factors, facekey, ironmask, recovery,
crypto), facevault.errors.
"""

from __future__ import annotations

import enum
import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from facevault.core.factors import Factor, Factors
from facevault.errors import Hint

if TYPE_CHECKING:
    from facevault.core.facekey import DecodePolicy, EnrolledFace
    from facevault.core.kdf import KdfParams
    from facevault.core.modelref import ModelRef
    from facevault.core.slots import Slot

__all__ = ["Kind", "KindSpec", "Guess", "spec_of", "all_specs"]


class Kind(enum.IntEnum):
    """A key slot's kind; the value is its wire code."""

    FACE = 1
    RECOVERY = 2
    DEVICE = 3
    FACE_DEVICE = 4
    FACE_PASSPHRASE = 5

    @property
    def spec(self) -> KindSpec:
        return spec_of(self)

    @property
    def label(self) -> str:
        """The kind's name in messages, listings and FORMAT.md ("face+passphrase")."""
        return self.spec.name


@dataclass(frozen=True, repr=False)
class Guess:
    """One candidate slot secret (after the kind's KDF), and the enrollment behind it when a
    face is part of it."""

    secret: bytes
    face: EnrolledFace | None = None

    def __repr__(self) -> str:
        return "Guess(<hidden>)"


class KindSpec(ABC):
    """What one slot kind is. Subclasses set the class attributes and the methods."""

    kind: ClassVar[Kind]
    name: ClassVar[str]  # "face+passphrase"
    title: ClassVar[str]  # "Face + passphrase"
    sentence: ClassVar[str]  # what it protects, in one plain sentence
    needs: ClassVar[tuple[type[Factor], ...]]  # factors an unlock must offer
    requirement: ClassVar[str]  # "your face and its passphrase"
    incomplete_hint: ClassVar[Hint] = Hint.RETRY_FACE  # when only part of `needs` is offered
    try_order: ClassVar[int] = 50  # cheaper, exact factors first (recovery, device), faces last
    carries_face: ClassVar[bool] = False
    carries_device_entry: ClassVar[bool] = False
    stretches: ClassVar[bool] = False  # its secret needs Argon2id (a passphrase); else NO_KDF

    # -- public data ----------------------------------------------------------------------

    @abstractmethod
    def check_public(self, public: bytes) -> None:
        """Raise IntegrityError unless `public` has this kind's layout."""

    def helper(self, public: bytes) -> bytes | None:
        """The IronMask helper bytes stored in `public` (face kinds; hidden behind the
        second factor for the two-factor kinds), else None."""
        return None

    def model(self, public: bytes) -> ModelRef | None:
        """The embedding model a face slot was enrolled with, else None."""
        return None

    def device_entry(self, public: bytes) -> str | None:
        """The keyring entry name inside `public` (device kinds), else None."""
        return None

    # -- unlock ---------------------------------------------------------------------------

    def offers_enough(self, offer: Factors) -> bool:
        return all(offer.has(f) for f in self.needs)

    @abstractmethod
    def guesses(self, slot: Slot, offer: Factors, policy: DecodePolicy) -> list[Guess]:
        """Candidate secrets for `slot` from `offer`, best first; [] when it lacks a factor."""

    # -- seal -----------------------------------------------------------------------------

    @abstractmethod
    def make(self, parts: Factors, *, kdf: KdfParams) -> Slot:
        """A new slot of this kind from enrollment-time factors in `parts` (UsageError naming
        what is missing). `kdf` is used by kinds that stretch; the others use NO_KDF."""

    # -- words ----------------------------------------------------------------------------

    @abstractmethod
    def describe(self, slot: Slot) -> str:
        """One line about this slot for a listing (codebook, KDF cost, keyring entry...)."""


_SPECS: dict[Kind, KindSpec] = {}


def spec_of(kind: Kind) -> KindSpec:
    """The KindSpec of `kind` (its module is imported on first use)."""
    spec = _SPECS.get(kind)
    if spec is None:
        module = importlib.import_module(f"{__name__}.{kind.name.lower()}")
        spec = module.SPEC
        if not isinstance(spec, KindSpec) or spec.kind is not kind:
            raise RuntimeError(f"{module.__name__}.SPEC does not describe {kind!r}")
        _SPECS[kind] = spec
    return spec


def all_specs() -> list[KindSpec]:
    return [spec_of(k) for k in Kind]
