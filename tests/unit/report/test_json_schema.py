"""schemas/pin-check.v1.json describes exactly what the JSON renderer emits, no more, no less."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from envsecops.model import Confidence, Severity
from envsecops.pins.kinds import FileKind
from envsecops.report import pins_json
from tests.unit.report.reports import CONTEXT, POLICY_CONTEXT, pin_check_schema, small_report


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = pin_check_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(pins_json.render(small_report(), POLICY_CONTEXT))
    return loaded


def test_rendered_reports_validate(validator: Draft202012Validator) -> None:
    assert _errors(validator, _document()) == []
    bare = json.loads(pins_json.render(small_report(), CONTEXT))
    assert bare["policy"] is None
    assert _errors(validator, bare) == []


def test_schema_identity_matches_the_renderer() -> None:
    schema = pin_check_schema()
    assert schema["$id"] == pins_json.SCHEMA_ID
    assert schema["properties"]["$schema"]["const"] == pins_json.SCHEMA_ID
    assert schema["properties"]["version"]["const"] == pins_json.SCHEMA_VERSION
    assert set(schema["required"]) == set(_document())
    finding = schema["$defs"]["finding"]
    assert set(finding["required"]) == set(_document()["findings"][0])


def test_enums_follow_the_model() -> None:
    defs = pin_check_schema()["$defs"]
    assert set(defs["kind"]["enum"]) == {k.value for k in FileKind}
    assert set(defs["severity"]["enum"]) == {s.value for s in Severity}
    assert set(defs["confidence"]["enum"]) == {c.value for c in Confidence}


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(document: dict[str, Any]) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return apply


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def apply(document: dict[str, Any]) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return apply


@pytest.mark.parametrize(
    "mutate",
    [
        _set(("surprise",), 1),
        _set(("version",), "2"),
        _set(("findings", 0, "severity"), "critical"),
        _set(("findings", 0, "line"), 0),
        _set(("findings", 0, "end_column"), "7"),
        _set(("findings", 0, "rule"), "Not Kebab"),
        _set(("findings", 0, "extra"), True),
        _drop(("findings", 0, "fix")),
        _set(("suppressed", 1, "expires"), "31/01/2027"),
        _set(("suppressed", 0, "by"), "magic"),
        _set(("files", 0, "kind"), "makefile"),
        _set(("stats", "workflow", "files"), 0),
        _set(("stats", "unknown-kind"), {"files": 1}),
        _set(("tool", "name"), "other"),
        _drop(("skipped",)),
    ],
)
def test_schema_rejects_what_the_renderer_never_emits(
    validator: Draft202012Validator, mutate: Callable[[dict[str, Any]], None]
) -> None:
    document = copy.deepcopy(_document())
    mutate(document)
    assert _errors(validator, document)
