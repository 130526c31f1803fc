"""Strict CycloneDX 1.6 validation of an SBOM, in linear time, with the library's validator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from envsecops.canonical import canonical_json
from envsecops.errors import EnvsecopsError, ExitCode

LONG_ARRAYS = ("components", "dependencies")
VALIDATION_SLICE = 200


class SbomError(EnvsecopsError):
    """The SBOM could not be built or did not validate against the CycloneDX 1.6 schema."""

    exit_code = ExitCode.INFRA


def validate_sbom(text: str) -> bool:
    """Validate CycloneDX 1.6 JSON strictly; False when the validator's dependency is missing.

    jsonschema checks ``uniqueItems`` over arrays of objects pair by pair, which is quadratic:
    minutes for a runner's thousands of components. So the two long arrays, ``components``
    and ``dependencies``, are checked for duplicates here (by RFC 8785 form, which equals
    exactly when JSON Schema equality does), and the library's strict validator then runs
    over the document in slices of at most ``VALIDATION_SLICE`` items of each, so every item
    and every other constraint is still checked by the schema. Raises SbomError naming the
    first violations.
    """
    from cyclonedx.exception import MissingOptionalDependencyException
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise SbomError(f"the SBOM is not JSON: {exc}") from exc
    messages = _duplicates(document)
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    for part in _slices(document):
        try:
            errors = validator.validate_str(json.dumps(part), all_errors=True)
        except MissingOptionalDependencyException:
            return False
        messages += [str(error.data.message) for error in errors or ()]
    if not messages:
        return True
    raise SbomError(
        "the SBOM does not validate against CycloneDX 1.6: " + "; ".join(messages[:5]),
        fix="this is a bug in envsecops; please report it with the bag.json that caused it",
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _duplicates(document: Any) -> list[str]:
    """``uniqueItems`` for the long arrays, in linear time."""
    if not isinstance(document, dict):
        return []
    problems = []
    for name in LONG_ARRAYS:
        items = document.get(name)
        if isinstance(items, list):
            seen = {canonical_json(item) for item in items}
            if len(seen) != len(items):
                problems.append(f"`{name}` has {len(items) - len(seen)} duplicate item(s)")
    return problems


def _slices(document: Any) -> Iterator[Any]:
    """The document with each long array cut to one slice at a time (at least once)."""
    if not isinstance(document, dict):
        yield document
        return
    lengths = [len(v) for k, v in document.items() if k in LONG_ARRAYS and isinstance(v, list)]
    count = max([1, *(-(-n // VALIDATION_SLICE) for n in lengths)])
    for index in range(count):
        part = dict(document)
        for name in LONG_ARRAYS:
            if isinstance(part.get(name), list):
                part[name] = part[name][index * VALIDATION_SLICE : (index + 1) * VALIDATION_SLICE]
        yield part
