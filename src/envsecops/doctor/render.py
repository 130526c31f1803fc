"""The doctor's outputs: a text table (check, status, detail, fix) and JSON version 1.

The JSON form has its own explicit shape, described by schemas/doctor.v1.json; it grows only
by optional additions. Text from the API is made printable before it reaches a terminal.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from envsecops.doctor.model import CheckResult, Report, Status

SCHEMA_VERSION = "1"
SCHEMA_ID = "https://envsecops.dev/schemas/doctor.v1.json"
LABEL = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.CANNOT_CHECK: "CANNOT CHECK"}
ID_WIDTH = 26
STATUS_WIDTH = 13
WIDTH = 110


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _check(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "title": result.title,
        "status": str(result.status),
        "detail": result.detail,
        "fix": result.fix or None,
        "evidence": list(result.evidence),
    }


def document(report: Report, version: str) -> dict[str, Any]:
    """The JSON document as Python data."""
    return {
        "$schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "tool": {"name": "envsecops", "version": version},
        "target": {"kind": report.target.kind, "name": report.target.name},
        "summary": {str(status): report.count(status) for status in Status},
        "exit_code": int(report.exit_code),
        "checks": [_check(result) for result in report.results],
    }


def render_json(report: Report, version: str) -> str:
    """Indented, key-sorted JSON."""
    return (
        json.dumps(document(report, version), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def _wrapped(label: str, text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(
        _printable(text),
        width=WIDTH,
        initial_indent=pad + label,
        subsequent_indent=pad + " " * len(label),
        break_on_hyphens=False,
        break_long_words=False,
    ) or [pad + label]


def render_text(report: Report) -> str:
    """The table: one row per check; its detail, then its fix, under the row."""
    kind = "organization" if report.target.kind == "org" else "repository"
    lines = [
        f"envsecops doctor: {kind} {_printable(report.target.name)}",
        "",
        f"{'CHECK':<{ID_WIDTH}}{'STATUS':<{STATUS_WIDTH}}DETAIL / FIX",
    ]
    indent = ID_WIDTH + STATUS_WIDTH
    for result in report.results:
        detail = _wrapped("", result.detail, indent)
        detail[0] = (
            f"{result.id:<{ID_WIDTH}}{LABEL[result.status]:<{STATUS_WIDTH}}" + detail[0][indent:]
        )
        lines.extend(detail)
        if result.fix:
            lines.extend(_wrapped("fix: ", result.fix, indent))
    counts = ", ".join(f"{report.count(status)} {status}" for status in Status)
    verdict = "every check passed" if report.exit_code == 0 else "not every check passed"
    lines += ["", f"{counts}: {verdict} (exit {int(report.exit_code)})"]
    return "\n".join(lines) + "\n"
