"""The CLI's one exit-code table: every error type of facevault.errors has a code, the help
text and the README say the same, and a subclass takes its parent's code."""

from __future__ import annotations

import re
from pathlib import Path

from facevault import errors
from facevault.cli.exit_codes import EXIT_CODES, HELP, exit_code

README = Path(__file__).resolve().parent.parent / "README.md"


def _error_types() -> list[type[errors.FaceVaultError]]:
    return [getattr(errors, n) for n in errors.__all__
            if isinstance(getattr(errors, n), type) and issubclass(getattr(errors, n), errors.FaceVaultError)]


def test_every_error_type_has_a_documented_code() -> None:
    documented = {int(m) for m in re.findall(r"^\s+(\d)\s", HELP, re.M)}
    for cls in _error_types():
        code = exit_code(cls("x"))
        assert code in documented, cls
    assert exit_code(errors.TrustError("x")) == EXIT_CODES[errors.IntegrityError] == 3
    assert exit_code(errors.CameraError("x")) == 4


def test_the_readme_table_lists_the_same_codes() -> None:
    text = README.read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\d) \| (.+?) \|$", text, re.M))
    helped = dict(re.findall(r"^\s+(\d)\s+(.+)$", HELP, re.M))
    assert set(table) == set(helped) == {"0", "1", "2", "3", "4", "5"}
