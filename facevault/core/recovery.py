"""Recovery codes: a random human-typable secret for the "recovery" key slot.

A code is 30 Crockford base32 symbols printed in six groups of five:
    XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX
The first 26 symbols are 130 random bits; the last 4 are Reed-Solomon check symbols over
GF(32), so every code differs from every other valid code in at least 5 symbols. Up to four
wrong characters, and any swap of two characters, are caught instantly, before the slow KDF.

Normalisation is case-insensitive, ignores spaces and dashes, reads O as 0 and I, L as 1.
The slot secret is the canonical code: the 30 symbols, upper case, without dashes, ASCII.

May import: stdlib, facevault.core.crypto, facevault.errors.
"""

from __future__ import annotations

from facevault.core.crypto import random_bytes
from facevault.errors import NotRecognisedError

__all__ = [
    "ALPHABET",
    "DATA_SYMBOLS",
    "CHECK_SYMBOLS",
    "CODE_SYMBOLS",
    "new_recovery_code",
    "normalise_recovery_code",
    "format_recovery_code",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
DATA_SYMBOLS = 26  # 130 bits
CHECK_SYMBOLS = 4
CODE_SYMBOLS = DATA_SYMBOLS + CHECK_SYMBOLS
GROUP = 5

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
_IGNORED = {" ", "-", "\t", "\n", "\r"}
_HINT = "Check the recovery code for typing mistakes; letters and digits are read as printed."

# GF(32) with the primitive polynomial x^5 + x^2 + 1.
_EXP = [0] * 62
_LOG = [0] * 32
_x = 1
for _i in range(31):
    _EXP[_i] = _EXP[_i + 31] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x20:
        _x ^= 0x25
del _x, _i


def _mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator() -> list[int]:
    """g(x) = (x + a)(x + a^2)(x + a^3)(x + a^4), coefficients highest degree first."""
    g = [1]
    for j in range(1, CHECK_SYMBOLS + 1):
        root = _EXP[j]
        g = [a ^ _mul(b, root) for a, b in zip(g + [0], [0] + g)]
    return g


_GEN = _generator()


def _check_symbols(data: list[int]) -> list[int]:
    """Systematic Reed-Solomon parity: data(x) * x^4 mod g(x)."""
    buf = list(data) + [0] * CHECK_SYMBOLS
    for i in range(len(data)):
        coef = buf[i]
        if coef:
            for j in range(1, CHECK_SYMBOLS + 1):
                buf[i + j] ^= _mul(_GEN[j], coef)
    return buf[-CHECK_SYMBOLS:]


def format_recovery_code(symbols: str) -> str:
    """Group a canonical 30-symbol code in fives with dashes, for display."""
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def _code_from_data(data: list[int]) -> str:
    symbols = "".join(ALPHABET[v] for v in data + _check_symbols(data))
    return format_recovery_code(symbols)


def new_recovery_code() -> str:
    """A fresh code with 130 random bits, e.g. '7K2QF-...-X9M4T' (36 characters)."""
    bits = int.from_bytes(random_bytes(17), "big") >> (17 * 8 - DATA_SYMBOLS * 5)
    data = [(bits >> (5 * (DATA_SYMBOLS - 1 - i))) & 31 for i in range(DATA_SYMBOLS)]
    return _code_from_data(data)


def normalise_recovery_code(text: str) -> bytes:
    """Canonical slot secret for a typed code; NotRecognisedError if it looks mistyped."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    values: list[int] = []
    for ch in text.upper():
        if ch in _IGNORED:
            continue
        value = _VALUE.get(ch)
        if value is None:
            raise NotRecognisedError(
                f"The recovery code looks mistyped: {ch!r} is not a recovery code character.",
                hint=_HINT,
            )
        values.append(value)
    if len(values) != CODE_SYMBOLS:
        raise NotRecognisedError(
            f"The recovery code looks mistyped: it has {len(values)} characters, "
            f"not {CODE_SYMBOLS}.",
            hint=_HINT,
        )
    if _check_symbols(values[:DATA_SYMBOLS]) != values[DATA_SYMBOLS:]:
        raise NotRecognisedError("The recovery code looks mistyped (checksum).", hint=_HINT)
    return "".join(ALPHABET[v] for v in values).encode("ascii")
