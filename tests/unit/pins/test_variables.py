"""`$VAR` / `${VAR:-default}` interpolation from declared values only, never the environment."""

from __future__ import annotations

import pytest

from envsecops.pins.documents.variables import expand

KNOWN: dict[str, str | None] = {"TAG": "1.2", "EMPTY": "", "BARE": None}


@pytest.mark.parametrize(
    ("text", "value", "unresolved"),
    [
        ("img:$TAG", "img:1.2", []),
        ("img:${TAG}", "img:1.2", []),
        ("img:${MISSING:-3}", "img:3", []),
        ("img:${EMPTY:-3}", "img:3", []),
        ("img:${EMPTY-3}", "img:", []),
        ("img:${MISSING-3}", "img:3", []),
        ("img:${BARE:-4}", "img:4", []),
        ("img:${TAG:+x}", "img:x", []),
        ("img:${EMPTY:+x}", "img:", []),
        ("img:${MISSING:+x}", None, ["MISSING"]),
        ("img:${MISSING:?required}", None, ["MISSING"]),
        ("img:${TAG:?required}", "img:1.2", []),
        ("img:${A:-${B:-nested}}", "img:nested", []),
        ("img:${MISSING}", None, ["MISSING"]),
        ("img:$BARE", None, ["BARE"]),
        ("img:${TAG#1}", None, ["${TAG#1}"]),
        ("img:${open", None, ["${open"]),
        ("price: $5", "price: $5", []),
        ("trailing $", "trailing $", []),
    ],
)
def test_expand(text: str, value: str | None, unresolved: list[str]) -> None:
    result = expand(text, KNOWN)
    assert result.value == value
    assert result.unresolved == unresolved


def test_dollar_escape_and_origins() -> None:
    assert expand("a$$b", {}, dollar_escape=True).value == "a$b"
    assert expand("a$$b", {}).value is None  # without the escape, `$b` is a variable
    result = expand("${REG:-docker.io}/x:$TAG", KNOWN)
    assert result.value == "docker.io/x:1.2"
    assert result.used == ["TAG=1.2"]
    assert result.defaults == ["${REG:-docker.io}"]
    assert result.substituted
