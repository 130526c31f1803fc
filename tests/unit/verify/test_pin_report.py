"""The pin-check report verify reads: findings judged again by the verify policy's exceptions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from envsecops.policy.pins import PinException, PinsPolicy
from envsecops.verify.pin_report import read_pin_findings

TODAY = date(2026, 3, 1)


def _finding(reference: str, path: str = ".github/workflows/ci.yml") -> dict[str, Any]:
    return {
        "rule": "unpinned-uses",
        "severity": "high",
        "confidence": "high",
        "path": path,
        "line": 7,
        "column": 15,
        "end_line": 7,
        "end_column": 40,
        "reference": reference,
        "message": f"{reference} is not pinned to a full commit SHA",
        "fix": None,
    }


def _report(tmp_path: Path) -> Path:
    document = {
        "$schema": "https://envsecops.dev/schemas/pin-check.v1.json",
        "version": "1",
        "tool": {"name": "envsecops", "version": "0.1.0"},
        "policy": ".github/envsecops.yml",
        "fail_on": "low",
        "files": [{"path": ".github/workflows/ci.yml", "kind": "workflow"}],
        "findings": [_finding("actions/checkout@v4")],
        "suppressed": [
            {"finding": _finding("pr/added-exception@main"), "by": "policy", "reason": "r",
             "expires": "2027-01-01"},
            {"finding": _finding("inline/ignored@v1"), "by": "inline", "reason": "r",
             "expires": None},
        ],
        "skipped": [],
        "stats": {},
    }  # fmt: skip
    path = tmp_path / "pins.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _exception(reference: str, expires: date) -> PinException:
    return PinException(
        "unpinned-uses", ".github/workflows/*", reference, "accepted", expires, line=12
    )


def test_findings_suppressed_by_another_policy_are_judged_again(tmp_path: Path) -> None:
    findings, reasons = read_pin_findings(
        _report(tmp_path), PinsPolicy(source="p.yml"), today=TODAY, base=tmp_path
    )
    assert reasons == ()
    assert sorted(f.reference for f in findings) == [
        "actions/checkout@v4",
        "pr/added-exception@main",
    ], "an inline ignore stays; a policy exception the verify policy lacks does not"


def test_the_verify_policys_unexpired_exceptions_accept_findings(tmp_path: Path) -> None:
    pins = PinsPolicy(
        source="p.yml",
        exceptions=(
            _exception("actions/checkout@*", date(2027, 1, 1)),
            _exception("pr/added-exception@main", date(2026, 2, 1)),
        ),
    )
    findings, _ = read_pin_findings(_report(tmp_path), pins, today=TODAY, base=tmp_path)
    assert [f.reference for f in findings] == ["pr/added-exception@main"]
    assert "expired on 2026-02-01" in findings[0].message


def test_an_unusable_report_is_a_reason(tmp_path: Path) -> None:
    pins = PinsPolicy(source="p.yml")
    for name, content in [("a.json", b"{"), ("b.json", b'{"version": "2"}')]:
        (tmp_path / name).write_bytes(content)
        findings, reasons = read_pin_findings(tmp_path / name, pins, today=TODAY, base=tmp_path)
        assert findings == []
        assert [r.code for r in reasons] == ["pins.finding"]
        assert reasons[0].subject == f"pin-report {tmp_path / name}"
    bad = json.loads(_report(tmp_path).read_text())
    bad["findings"][0]["severity"] = "catastrophic"
    (tmp_path / "c.json").write_text(json.dumps(bad))
    _, reasons = read_pin_findings(tmp_path / "c.json", pins, today=TODAY, base=tmp_path)
    assert "catastrophic" in reasons[0].message
    _, reasons = read_pin_findings(tmp_path / "absent.json", pins, today=TODAY, base=tmp_path)
    assert "No such file" in reasons[0].message
