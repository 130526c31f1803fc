"""The explicit list of pin-check checks, and the index of every rule id."""

from __future__ import annotations

from envsecops.pins.rules import parse_error
from envsecops.pins.rules.base import Check, Rule

CHECKS: tuple[Check, ...] = ()

RULES: dict[str, Rule] = {rule.id: rule for rule in parse_error.RULES}
for _check in CHECKS:
    for _rule in _check.rules:
        if _rule.id in RULES and RULES[_rule.id] is not _rule:
            raise RuntimeError(f"rule id {_rule.id} is defined twice")
        RULES[_rule.id] = _rule
