"""Which embedding model made a face's embeddings, recorded in every face slot so that a
computer with another model says which one the vault needs instead of "not recognised".

May import: stdlib, facevault.errors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from facevault.errors import IntegrityError

__all__ = ["ModelRef", "UNKNOWN_MODEL"]


@dataclass(frozen=True)
class ModelRef:
    """Which embedding model made a face's embeddings: a name for messages and a 32-byte
    digest of the model file's sha256 and its preprocessing constants."""

    name: str
    digest: bytes

    def __post_init__(self) -> None:
        raw = self.name.encode("utf-8")
        if not 1 <= len(raw) <= 64 or len(self.digest) != 32:
            raise ValueError("a model reference is a 1..64-byte name and a 32-byte digest")

    @classmethod
    def of(cls, name: str, file_sha256: str, constants: str) -> ModelRef:
        """The reference of a model file (its sha256 hex) with its constants (canonical text)."""
        digest = hashlib.sha256(b"FaceVault embedder\x00" + file_sha256.encode("ascii") + b"\x00"
                                + constants.encode("utf-8")).digest()
        return cls(name, digest)

    def to_bytes(self) -> bytes:
        raw = self.name.encode("utf-8")
        return self.digest + bytes([len(raw)]) + raw

    @classmethod
    def parse(cls, data: bytes, pos: int = 0) -> tuple[ModelRef, int]:
        if len(data) - pos < 34:
            raise IntegrityError("a face slot's model reference is truncated")
        digest, n = data[pos : pos + 32], data[pos + 32]
        end = pos + 33 + n
        if not 1 <= n <= 64 or end > len(data):
            raise IntegrityError("a face slot's model reference is malformed")
        try:
            name = data[pos + 33 : end].decode("utf-8")
        except UnicodeDecodeError:
            raise IntegrityError("a face slot's model name is not UTF-8") from None
        return cls(name, digest), end

    @property
    def short(self) -> str:
        return f"{self.name} ({self.digest.hex()[:12]})"


UNKNOWN_MODEL = ModelRef("unknown", bytes(32))
"""For embeddings whose model is not known (synthetic tests): matches no recorded model,
so decoding is tried anyway."""
