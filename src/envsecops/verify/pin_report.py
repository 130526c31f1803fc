"""The pin-check findings verify weighs: a `pin-check --format json` report, judged again.

The report may have been made with another copy of the policy (the pull request's), so its
own verdict on exceptions is not trusted: every finding it holds, active or suppressed by a
policy exception, is checked again against the ``pins.exceptions`` of the policy verify
loaded (an expired exception does not count). Findings suppressed inline (``# envsecops:
ignore[rule] reason`` in the checked file itself) stay suppressed. A report that cannot be
read is a ``pins.finding`` reason: the findings it holds cannot be ruled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from envsecops.model.bag import ModelError
from envsecops.model.decision import Reason
from envsecops.model.findings import Confidence, Finding, Severity
from envsecops.policy.pins import PinsPolicy

MAX_REPORT_BYTES = 64 * 1024 * 1024


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise ModelError(f"finding `{name}` must be a string")
    return value


def _number(item: Mapping[str, Any], name: str) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ModelError(f"finding `{name}` must be a non-negative integer")
    return value


def parse_finding(item: Any) -> Finding:
    """One finding of the report (schemas/pin-check.v1.json `$defs/finding`)."""
    if not isinstance(item, Mapping):
        raise ModelError("a finding must be an object")
    try:
        severity = Severity(_text(item, "severity"))
        confidence = Confidence(_text(item, "confidence"))
    except ValueError as exc:
        raise ModelError(str(exc)) from exc
    return Finding(
        rule_id=_text(item, "rule"),
        severity=severity,
        confidence=confidence,
        path=_text(item, "path"),
        line=_number(item, "line"),
        column=_number(item, "column"),
        reference=_text(item, "reference"),
        message=_text(item, "message"),
        fix=_text(item, "fix") if item.get("fix") is not None else None,
        end_line=_number(item, "end_line") if item.get("end_line") is not None else None,
        end_column=_number(item, "end_column") if item.get("end_column") is not None else None,
    )


def candidate_findings(document: Any) -> list[Finding]:
    """Every finding a verify policy may judge: active ones and those a policy suppressed."""
    if not isinstance(document, Mapping) or document.get("version") != "1":
        raise ModelError("not a pin-check JSON report (version 1): run `pin-check --format json`")
    findings, suppressed = document.get("findings"), document.get("suppressed")
    if not isinstance(findings, list) or not isinstance(suppressed, list):
        raise ModelError("a pin-check report needs `findings` and `suppressed` lists")
    out = [parse_finding(item) for item in findings]
    for entry in suppressed:
        if not isinstance(entry, Mapping) or entry.get("by") not in {"inline", "policy"}:
            raise ModelError("a `suppressed` entry needs `finding` and `by` (inline or policy)")
        if entry["by"] == "policy":
            out.append(parse_finding(entry.get("finding")))
    return out


def read_pin_findings(
    path: Path, pins: PinsPolicy, *, today: date, base: Path
) -> tuple[list[Finding], tuple[Reason, ...]]:
    """The active findings under ``pins``; or none and a reason when the report is unusable."""
    from envsecops.attest.encoding import EncodingError, load_json_object
    from envsecops.pins.suppress import apply_policy

    subject = f"pin-report {path}"
    try:
        if path.exists() and not path.is_file():
            raise OSError(0, "not a regular file")
        data = path.read_bytes()
        if len(data) > MAX_REPORT_BYTES:
            raise ModelError(f"{len(data):,} bytes is more than a pin-check report may hold")
        candidates = candidate_findings(
            load_json_object(data, "the pin-check report", max_bytes=None)
        )
    except (OSError, EncodingError, ModelError) as exc:
        why = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        message = (
            f"the pin-check report cannot be used ({why}), so its findings cannot be ruled out "
            "(fix: pass the file `envsecops pin-check --format json` wrote)"
        )
        return [], (Reason("pins.finding", subject, message),)
    active, _accepted = apply_policy(pins, candidates, today, base)
    return active, ()
