"""A small evaluator of IAM policy statements, for the subset `trust-policy aws` emits.

Semantics as AWS documents them: every operator block and every key in it must hold (AND);
several values for one key are alternatives (OR); a missing key fails every operator except
``Null`` (``"true"`` = absent) and the ``ForAllValues:`` set operators, which hold for a missing
or empty key; ``StringLike`` matches ``*`` (any run, ``:`` and ``/`` included) and ``?`` (one
character), case-sensitively; ``StringEquals`` is exact and case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Context = Mapping[str, str | Sequence[str]]


def like(pattern: str, value: str) -> bool:
    """IAM ``StringLike``: ``*`` and ``?`` are wildcards, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


COMPARE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": like,
}


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def condition_holds(operator: str, block: Mapping[str, Any], context: Context) -> bool:
    """One operator block, e.g. ``StringLike: {key: [patterns]}``."""
    qualifier, _, base = operator.rpartition(":")
    for key, expected_raw in block.items():
        expected = _as_list(expected_raw)
        present = key in context
        if base == "Null":
            if expected not in (["true"], ["false"]):
                raise AssertionError(f"Null takes 'true' or 'false', not {expected}")
            if present == (expected == ["true"]):
                return False
            continue
        compare = COMPARE[base]
        if qualifier == "ForAllValues":
            raw = context.get(key, [])
            values = [raw] if isinstance(raw, str) else list(raw)
            if not all(any(compare(e, v) for e in expected) for v in values):
                return False
            continue
        if qualifier:
            raise AssertionError(f"unsupported qualifier {qualifier}")
        if not present:
            return False
        actual = context[key]
        if not isinstance(actual, str):
            raise AssertionError(f"{key} is single-valued in this evaluator")
        if not any(compare(e, actual) for e in expected):
            return False
    return True


@dataclass(frozen=True)
class Request:
    """Who asks, for which action, with which request context."""

    principal_type: str
    principal: str
    action: str
    context: Context = field(default_factory=dict)


def statement_allows(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether one Allow statement allows the request (principal, action, every condition)."""
    assert statement["Effect"] == "Allow"
    principals = _as_list(statement["Principal"].get(request.principal_type, []))
    if request.principal not in principals:
        return False
    if request.action not in _as_list(statement["Action"]):
        return False
    conditions = statement.get("Condition", {})
    return all(condition_holds(op, block, request.context) for op, block in conditions.items())


def policy_allows(policy: Mapping[str, Any], request: Request) -> bool:
    """Any statement allows it (the subset has no Deny statements)."""
    assert policy["Version"] == "2012-10-17"
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    return any(statement_allows(s, request) for s in policy["Statement"])
