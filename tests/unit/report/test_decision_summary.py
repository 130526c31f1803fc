"""The record-decision job summary and annotations: structure, hostile text, and the caps."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from envsecops.gh.commands import STEP_SUMMARY_LIMIT, append_step_summary
from envsecops.ledger.interface import Receipt
from envsecops.model.bag import BagDiff, Component, ComponentKind, ModelError
from envsecops.model.decision import Credential, Mode, Reason, Verdict
from envsecops.model.ledger import EntryKind
from envsecops.report import pins_json
from envsecops.report.decision_summary import (
    MAX_REASON_ROWS,
    Recorded,
    annotation_lines,
    pin_check_counts,
    render_summary,
)
from tests.unit.ledger.test_audit import CREDENTIAL, decision
from tests.unit.report.reports import CONTEXT, small_report
from tests.unit.report.test_summary import _html, _table, _tables

FIELD = ["Field", "Value"]
REASONS = ["Code", "Subject", "Message"]
DRIFT = ["Change", "Kind", "Name", "Path", "Before", "After"]
PINS = ["Severity", "Findings", "Suppressed"]
WHERE = ["Ledger", "Location", "Seq", "Digest"]
RECEIPTS = (
    Receipt(
        "file:/var/lib/envsecops/ledger.jsonl",
        "/var/lib/envsecops/ledger.jsonl",
        "sha256:" + "c" * 64,
        41,
    ),
    Receipt(
        "s3://org-ledger/ledger",
        "ledger/4242/2026/11/22/" + "d" * 64 + ".json",
        "sha256:" + "d" * 64,
    ),
)


def _binary(name: str, digest: str) -> Component:
    return Component(ComponentKind.BINARY, name, "path", path=f"/usr/bin/{name}", digest=digest)


DIFF = BagDiff(
    added=(_binary("curl", "sha256:" + "1" * 64),),
    removed=(_binary("wget", "sha256:" + "2" * 64),),
    changed=((_binary("bash", "sha256:" + "3" * 64), _binary("bash", "sha256:" + "4" * 64)),),
)


def recorded(**changes: Any) -> Recorded:
    base = Recorded(
        kind=EntryKind.MINT_ISSUED,
        decision=decision(),
        receipts=RECEIPTS,
        credential=CREDENTIAL,
        pin_check=pin_check_counts(pins_json.document(small_report(), CONTEXT)),
        drift=DIFF,
        version="0.0.0-test",
    )
    return replace(base, **changes)


def _pairs(markdown: str, header: list[str]) -> dict[str, str]:
    return {row[0]: row[1] for row in _table(_tables(markdown), header)}


def test_allow_summary_has_every_section_and_no_secret() -> None:
    markdown = render_summary(recorded())
    assert "### ✅ Allowed" in markdown
    parsed = _tables(markdown)
    headers = [head for head, _ in parsed.tables]
    assert headers == [FIELD, ["Claim", "Value"], DRIFT, PINS, FIELD, WHERE]
    fields = _pairs(markdown.split("### Principal")[0], FIELD)
    assert fields["Env hash"] == "sha256:" + "a" * 64
    assert fields["Policy"] == "deploy@sha256:0123456789ab (from default-branch)"
    assert fields["Valid until"] == "2026-11-22T10:05:00Z"
    claims = _pairs(markdown, ["Claim", "Value"])
    assert claims["repository"] == "octo/app"
    assert claims["run_attempt"] == "2"
    assert _table(parsed, DRIFT) == [
        ["added", "binary", "curl", "/usr/bin/curl", "", "sha256:" + "1" * 64],
        ["removed", "binary", "wget", "/usr/bin/wget", "sha256:" + "2" * 64, ""],
        ["changed", "binary", "bash", "/usr/bin/bash", "sha256:" + "3" * 64, "sha256:" + "4" * 64],
    ]
    assert _table(parsed, PINS)[0] == ["high", "2", "2"]
    credential = _pairs(markdown.split("### Credential")[1], FIELD)
    assert credential["Role"] == CREDENTIAL.role
    assert credential["Session"] == CREDENTIAL.session_name
    assert credential["Tag decision_id"] == "dec-7"
    assert CREDENTIAL.key_id not in markdown, "the key id stays in the ledger (it is masked)"
    assert _table(parsed, WHERE) == [
        [RECEIPTS[0].ledger, RECEIPTS[0].location, "41", RECEIPTS[0].digest],
        [RECEIPTS[1].ledger, RECEIPTS[1].location, "\u2013", RECEIPTS[1].digest],
    ]


@pytest.mark.parametrize(
    ("changes", "banner"),
    [
        ({"decision": decision(Verdict.DENY, reasons=2)}, "### ❌ Denied"),
        (
            {"decision": replace(decision(Verdict.DENY, reasons=1), mode=Mode.AUDIT)},
            "### ⚠️ Denied in audit mode (recorded and shown, not enforced)",
        ),
        ({"receipts": ()}, "**❗ NOT RECORDED**"),
        ({"failures": (("s3://x/ledger", "timed out"),)}, "**❗ PARTLY RECORDED**: 1 of 3"),
        (
            {"kind": EntryKind.MINT_FAILED, "error": "STS said no"},
            "### ✅ Allowed · minting failed",
        ),
    ],
)
def test_banners(changes: dict[str, Any], banner: str) -> None:
    assert banner in render_summary(recorded(**changes))


HOSTILE = (
    "a | b <script>alert(1)</script> `tick` **bold** [x](http://evil)\n::error::forged\r\n"
    "# heading \u202egnp.exe"
)


def test_hostile_reason_text_stays_inert_in_its_cell() -> None:
    hostile = Reason("code|`x`", "binary:/tmp/<img src=x>|y", HOSTILE)
    made = replace(decision(Verdict.DENY), reasons=(hostile,) * 3)
    markdown = render_summary(recorded(decision=made, credential=None, kind=EntryKind.DECISION))
    html = _html(markdown)
    parsed = _tables(markdown)
    assert not {"script", "img", "strong", "em", "h1", "a"} & set(parsed.tags)
    for tag in ("<script", "<img", "<strong>bold"):
        assert tag not in html
    assert "<code>tick</code>" not in html
    assert 'href="http://evil"' not in html
    rows = _table(parsed, REASONS)
    assert len(rows) == 3
    assert all(len(row) == 3 for row in rows)
    expected = HOSTILE.replace("\r", " ").replace("\n", " ").replace("\u202e", "⟨U+202E⟩")
    assert rows[0] == ["code|`x`", "binary:/tmp/<img src=x>|y", expected]
    assert not any(line.startswith("::") for line in markdown.splitlines())
    assert "\u202e" not in markdown


def test_fifty_thousand_reasons_stay_under_one_mebibyte(tmp_path: Path) -> None:
    many = tuple(
        Reason(f"code-{i}", f"binary:/usr/bin/tool-{i}", "x" * 2000) for i in range(50_000)
    )
    made = replace(decision(Verdict.DENY), reasons=many)
    markdown = render_summary(recorded(decision=made))
    size = len(markdown.encode("utf-8"))
    assert size < STEP_SUMMARY_LIMIT
    rows = _table(_tables(markdown), REASONS)
    assert len(rows) == MAX_REASON_ROWS
    assert f"…and {50_000 - MAX_REASON_ROWS} more reasons not listed here" in markdown
    path = tmp_path / "summary.md"
    written = append_step_summary(path, markdown)
    assert not written.truncated
    assert path.stat().st_size == size


def test_a_tight_budget_halves_the_rows_until_it_fits() -> None:
    many = tuple(Reason(f"c{i}", f"s{i}", "m" * 250) for i in range(1000))
    markdown = render_summary(
        recorded(decision=replace(decision(Verdict.DENY), reasons=many)), budget=40_000
    )
    assert len(markdown.encode("utf-8")) <= 40_000
    assert 0 < len(_table(_tables(markdown), REASONS)) < MAX_REASON_ROWS


def test_deny_reasons_are_annotated_capped_with_an_aggregate() -> None:
    made = decision(Verdict.DENY, reasons=25)
    lines = annotation_lines(made)
    assert len(lines) == 10
    assert all(line.startswith("::error title=envsecops deny") for line in lines)
    assert "16 more deny reasons are not annotated" in lines[-1]
    audit = annotation_lines(replace(made, mode=Mode.AUDIT))
    assert all(line.startswith("::warning ") for line in audit)
    assert annotation_lines(decision()) == []


def test_ledger_failures_share_the_error_cap_and_hostile_text_is_escaped() -> None:
    hostile = Reason("c", "s", "line1\n::error::forged %0A")
    made = replace(decision(Verdict.DENY), reasons=(hostile,) * 12)
    failures = [("s3://b/ledger", "connection refused\n::add-mask::x")] * 2
    lines = annotation_lines(made, failures)
    assert len(lines) == 10
    assert lines[0].startswith("::error title=envsecops record%3A ledger failed::")
    assert all("\n" not in line for line in lines)
    assert "line1%0A::error::forged %250A" in lines[2]
    assert "5 more deny reasons" in lines[-1]


def test_a_deny_without_reasons_is_still_annotated() -> None:
    (line,) = annotation_lines(decision(Verdict.DENY))
    assert "no-reason-given" in line


def test_pin_check_counts_and_bad_reports() -> None:
    counts = pin_check_counts(pins_json.document(small_report(), CONTEXT))
    assert counts["findings"] == {"high": 2, "medium": 1, "low": 0, "info": 1}
    assert counts["suppressed"]["high"] == 2
    for bad in (
        {},
        {"version": "1"},
        {"version": "1", "findings": [{}], "suppressed": [], "files": []},
    ):
        with pytest.raises(ModelError):
            pin_check_counts(bad)
    strange = {
        "version": "1",
        "findings": [{"severity": "critical"}],
        "suppressed": [],
        "files": [],
    }
    with pytest.raises(ModelError, match="critical"):
        pin_check_counts(strange)


def test_bag_diff_round_trips_through_json() -> None:
    assert BagDiff.from_json(json.loads(json.dumps(DIFF.to_json()))) == DIFF
    with pytest.raises(ModelError):
        BagDiff.from_json({"added": [], "removed": []})
    with pytest.raises(ModelError):
        BagDiff.from_json({"added": [], "removed": [], "changed": [["x"]]})


def test_credential_fields_come_from_the_model() -> None:
    assert "secret" not in json.dumps(Credential.from_json(CREDENTIAL.to_json()).to_json()).lower()
