"""pin-check JSON output, version 1: explicit types described by schemas/pin-check.v1.json."""

from __future__ import annotations

import json
from typing import Any

from envsecops.model import Finding
from envsecops.pins.engine import PinReport
from envsecops.report.context import RenderContext

SCHEMA_VERSION = "1"
SCHEMA_ID = "https://envsecops.dev/schemas/pin-check.v1.json"


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "severity": str(finding.severity),
        "confidence": str(finding.confidence),
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "reference": finding.reference,
        "message": finding.message,
        "fix": finding.fix,
    }


def document(report: PinReport, context: RenderContext) -> dict[str, Any]:
    """The JSON document as Python data."""
    return {
        "$schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "tool": {"name": "envsecops", "version": context.version},
        "policy": context.policy_source,
        "fail_on": str(context.fail_on),
        "files": [{"path": rel, "kind": str(kind)} for rel, kind in report.files],
        "findings": [_finding(f) for f in report.findings],
        "suppressed": [
            {
                "finding": _finding(s.finding),
                "by": s.by,
                "reason": s.reason,
                "expires": s.expires.isoformat() if s.expires else None,
            }
            for s in report.suppressed
        ],
        "skipped": [{"path": path, "reason": why} for path, why in report.skipped],
        "stats": report.stats(),
    }


def render(report: PinReport, context: RenderContext) -> str:
    """Render as indented, key-sorted JSON."""
    return json.dumps(document(report, context), indent=2, sort_keys=True) + "\n"
