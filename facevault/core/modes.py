"""A vault's mode: which kind of face slot it has, so what a copy of the folder and a photo
of its owner are worth.

Each Mode maps to the face kind it seals (one slot of it, or one per paired device for
face+device). A vault never mixes face kinds and never has a device-only slot beside a
two-factor kind (it would open without the face). `rank` orders modes by what they demand:
a mode of lower rank than one a device has seen is a downgrade.

May import: stdlib, facevault.core.kinds, facevault.errors.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from facevault.core.kinds import Kind
from facevault.errors import UsageError

__all__ = ["Mode", "mode_of_kinds", "is_mixed"]


class Mode(enum.Enum):
    FACE = "face"
    FACE_DEVICE = "face+device"
    FACE_PASSPHRASE = "face+passphrase"

    @property
    def face_kind(self) -> Kind:
        return _FACE_KIND[self]

    @property
    def label(self) -> str:
        """The mode's name on the command line and in files: "face+passphrase"."""
        return self.value

    @property
    def title(self) -> str:
        """A short title for a screen: "Face + passphrase"."""
        return _TITLES[self]

    @property
    def sentence(self) -> str:
        """What it protects, in one plain sentence (from its face kind)."""
        return self.face_kind.spec.sentence

    @property
    def rank(self) -> int:
        return 0 if self is Mode.FACE else 1

    @property
    def allows_device_only_slot(self) -> bool:
        return self is Mode.FACE

    @classmethod
    def parse(cls, text: str) -> Mode:
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise UsageError(f"unknown mode {text!r}", hint=f"Choose one of: {names}.") from None

    @classmethod
    def of_kind(cls, kind: Kind) -> Mode | None:
        return next((m for m in cls if m.face_kind is kind), None)


_FACE_KIND = {Mode.FACE: Kind.FACE, Mode.FACE_DEVICE: Kind.FACE_DEVICE,
              Mode.FACE_PASSPHRASE: Kind.FACE_PASSPHRASE}
_TITLES = {Mode.FACE: "Face only (portable)", Mode.FACE_DEVICE: "Face + this computer",
           Mode.FACE_PASSPHRASE: "Face + passphrase"}


def mode_of_kinds(kinds: Iterable[Kind]) -> Mode | None:
    """The mode of a set of slot kinds, None when there is no face slot (recovery or device
    only). Several face kinds (never written by FaceVault) count as the weakest of them."""
    modes = {m for k in kinds if (m := Mode.of_kind(k)) is not None}
    if not modes:
        return None
    if Mode.FACE in modes:
        return Mode.FACE
    return min(modes, key=lambda m: (m.rank, m.value))


def is_mixed(kinds: Iterable[Kind]) -> bool:
    return len({m for k in kinds if (m := Mode.of_kind(k)) is not None}) > 1
