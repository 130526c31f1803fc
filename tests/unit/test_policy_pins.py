"""The policy file's `pins:` section: strict loading with line-precise errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from envsecops.errors import InputError
from envsecops.policy.pins import load_pins_policy

KNOWN = frozenset({"unpinned-uses", "parse-error"})


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "envsecops.yml"
    path.write_text(text, encoding="utf-8")
    return load_pins_policy(path, "envsecops.yml", KNOWN)


def test_exceptions_and_excludes_load(tmp_path: Path) -> None:
    policy = _load(
        tmp_path,
        "pins:\n  exceptions:\n    - rule: unpinned-uses\n      path: .github/workflows/*.yml\n"
        "      reference: actions/checkout@v4\n      reason: vendor requires it\n"
        "      expires: 2027-01-31\n  exclude:\n    - tests/fixtures/**\n",
    )
    (exception,) = policy.exceptions
    assert exception.expires == date(2027, 1, 31)
    assert exception.line == 3
    assert exception.matches("unpinned-uses", ".github/workflows/ci.yml", "actions/checkout@v4")
    assert not exception.matches("unpinned-uses", ".github/workflows/ci.yml", "actions/cache@v4")
    assert not exception.matches("parse-error", ".github/workflows/ci.yml", "actions/checkout@v4")
    assert policy.exclude == ("tests/fixtures/**",)


def test_no_pins_section_is_an_empty_pins_policy(tmp_path: Path) -> None:
    policy = _load(tmp_path, "mode: enforce\n")
    assert policy.exceptions == ()
    assert policy.exclude == ()


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        ("pins:\n  exceptoins: []\n", "unknown key 'exceptoins'", 2),
        ("pinz: {}\n", "unknown key 'pinz'", 1),
        (
            "pins:\n  exceptions:\n    - rule: nope\n      path: x\n      reason: r\n"
            "      expires: 2027-01-01\n",
            "unknown rule id 'nope'",
            3,
        ),
        (
            "pins:\n  exceptions:\n    - rule: unpinned-uses\n      path: x\n"
            "      expires: 2027-01-01\n",
            "non-empty `reason`",
            3,
        ),
        (
            "pins:\n  exceptions:\n    - rule: unpinned-uses\n      path: x\n      reason: r\n"
            "      expires: soon\n",
            "`expires` must be a date",
            6,
        ),
        (
            "pins:\n  exceptions:\n    - rule: unpinned-uses\n      rule: parse-error\n",
            "duplicate key 'rule'",
            4,
        ),
        ("pins:\n  exceptions: {}\n", "must be a list", 2),
        ("pins: [\n", "YAML syntax error", 2),
    ],
)
def test_defects_are_input_errors_with_a_line(
    tmp_path: Path, text: str, needle: str, line: int
) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, text)
    assert needle in info.value.message
    assert info.value.line == line
    assert info.value.path == "envsecops.yml"


def test_policy_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "envsecops.yml"
    path.write_bytes(b"pins: \xff\n")
    with pytest.raises(InputError, match="cannot read the policy file"):
        load_pins_policy(path, "envsecops.yml", KNOWN)
