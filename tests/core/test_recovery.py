"""Tests for facevault.core.recovery: format, normalisation, typo detection before the KDF."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings

from tests.strategies import recovery_typos

from facevault.core import recovery
from facevault.core.recovery import ALPHABET, new_recovery_code, normalise_recovery_code
from facevault.errors import NotRecognisedError

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}$")


def _canonical(code: str) -> str:
    return code.replace("-", "")


def test_shape_and_randomness() -> None:
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert CODE_RE.match(code), code
        assert normalise_recovery_code(code) == _canonical(code).encode("ascii")


def test_is_a_reed_solomon_codeword() -> None:
    """Evaluate the code polynomial at a^1..a^4: all zero, so the minimum distance is 5."""
    for _ in range(20):
        values = [ALPHABET.index(ch) for ch in _canonical(new_recovery_code())]
        for j in range(1, 5):
            root = recovery._EXP[j]
            acc = 0
            for v in values:
                acc = recovery._mul(acc, root) ^ v
            assert acc == 0


def test_normalisation_is_tolerant() -> None:
    code = new_recovery_code()
    canonical = normalise_recovery_code(code)
    variants = [
        code.lower(),
        _canonical(code),
        " ".join(code.split("-")),
        "  " + code.replace("-", " - ") + "\n",
        code.replace("0", "o").replace("1", "l"),
        code.replace("0", "O").replace("1", "I"),
        code.replace("1", "i"),
    ]
    for text in variants:
        assert normalise_recovery_code(text) == canonical


def test_every_single_wrong_character_is_caught() -> None:
    for _ in range(5):
        symbols = _canonical(new_recovery_code())
        for i, ch in enumerate(symbols):
            for other in ALPHABET:
                if other == ch:
                    continue
                typo = symbols[:i] + other + symbols[i + 1 :]
                with pytest.raises(NotRecognisedError, match="checksum"):
                    normalise_recovery_code(typo)


def test_every_swap_of_two_characters_is_caught() -> None:
    for _ in range(5):
        symbols = list(_canonical(new_recovery_code()))
        for i in range(len(symbols)):
            for j in range(i + 1, len(symbols)):
                if symbols[i] == symbols[j]:
                    continue
                swapped = symbols.copy()
                swapped[i], swapped[j] = swapped[j], swapped[i]
                with pytest.raises(NotRecognisedError, match="checksum"):
                    normalise_recovery_code("".join(swapped))


@settings(max_examples=200, deadline=None)
@given(recovery_typos)
def test_up_to_four_wrong_characters_are_caught(typos: tuple[list[int], list[int]]) -> None:
    symbols = list(_canonical(new_recovery_code()))
    for pos, shift in zip(*typos):
        symbols[pos] = ALPHABET[(ALPHABET.index(symbols[pos]) + shift) % 32]
    with pytest.raises(NotRecognisedError, match="checksum"):
        normalise_recovery_code("".join(symbols))


@pytest.mark.parametrize("drop", [1, 5])
def test_wrong_length(drop: int) -> None:
    code = _canonical(new_recovery_code())
    with pytest.raises(NotRecognisedError, match="mistyped.*characters"):
        normalise_recovery_code(code[:-drop])
    with pytest.raises(NotRecognisedError, match="mistyped"):
        normalise_recovery_code(code + code[:drop])


def test_bad_characters_and_types() -> None:
    code = _canonical(new_recovery_code())
    for bad in ("U", "*", "é", "_"):
        with pytest.raises(NotRecognisedError, match="mistyped"):
            normalise_recovery_code(bad + code[1:])
    with pytest.raises(NotRecognisedError):
        normalise_recovery_code("")
    with pytest.raises(TypeError):
        normalise_recovery_code(code.encode())  # type: ignore[arg-type]


def test_error_carries_hint() -> None:
    with pytest.raises(NotRecognisedError) as info:
        normalise_recovery_code("0" * 29 + "1")
    assert info.value.hint
