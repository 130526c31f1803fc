"""Files that cannot be parsed or trusted: reported as findings, never skipped (fail closed)."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Rule

PARSE_ERROR = Rule(
    id="parse-error",
    title="File cannot be parsed",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="The file is not valid for its kind (YAML/JSON syntax, encoding, or structure), so "
    "nothing in it could be checked. Fix the syntax at the reported line and column.",
)
DUPLICATE_KEY = Rule(
    id="duplicate-key",
    title="Duplicate YAML key",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="YAML silently keeps only the last of two equal keys, so a reviewer can read one value "
    "while the runner uses another. Remove or rename the duplicate.",
)
INPUT_TOO_LARGE = Rule(
    id="input-too-large",
    title="File exceeds a safety limit",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="The file is larger, deeper or has more alias expansion than pin-check reads "
    "(a YAML alias bomb, or a generated file). Nothing in it was checked.",
)

RULES = (PARSE_ERROR, DUPLICATE_KEY, INPUT_TOO_LARGE)
RULE_BY_KIND = {rule.id: rule for rule in RULES}
