"""The readable verify table: headline, facts, reasons grouped by code, untrusted text escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from envsecops.model.decision import Mode, Reason
from envsecops.report.decision_text import DecisionView, clean, render_decision
from envsecops.verify.decision import build_decision
from tests.unit.verify.decision_samples import sample_facts

FACTS = sample_facts()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _view(reasons: list[Reason], mode: Mode = Mode.ENFORCE) -> DecisionView:
    facts = replace(FACTS, mode=mode)
    decision = build_decision(reasons, facts, now=NOW, decision_id="dec_1")
    return DecisionView(
        decision=decision,
        policy_source="o/r@main:.github/envsecops.yml (commit abc)",
        attestation_signer="key:sha256:cc",
        decision_path="/out/decision.json",
        decision_attestation="/out/decision.dsse.json",
    )


def test_an_allow_lists_the_facts() -> None:
    text = render_decision(_view([]))
    assert text.splitlines()[0] == "verdict: ALLOW (enforce mode)"
    assert "  policy       p@sha256:0123456789ab from o/r@main:.github/envsecops.yml" in text
    assert "(default-branch)" in text
    assert "  attestation  key:sha256:cc" in text
    assert "  job          o/r/1/1/deploy (facts from oidc)" in text
    assert text.endswith("no reasons: every check passed\n")


def test_reasons_are_grouped_by_code_and_capped() -> None:
    reasons = [
        Reason("binary.unlisted", f"binary /usr/bin/b{i:02}", "not listed") for i in range(13)
    ]
    reasons.append(Reason("binding.run", "binding run_id", "another run"))
    text = render_decision(_view(reasons), rows_per_code=10)
    assert "reasons: 14 in 2 codes" in text
    assert "  binary.unlisted (13)" in text
    assert "    binary /usr/bin/b09: not listed" in text
    assert "b10" not in text
    assert "    ... and 3 more binary.unlisted reasons (all in decision.json)" in text
    assert text.index("binary.unlisted (13)") < text.index("binding.run (1)")


def test_an_audit_deny_says_so_loudly() -> None:
    text = render_decision(_view([Reason("binding.run", "s", "m")], Mode.AUDIT))
    assert text.startswith("verdict: DENY (AUDIT MODE: the decision is deny, the step passes")


def test_untrusted_text_cannot_break_lines_or_issue_commands() -> None:
    hostile = Reason("binary.unlisted", "binary /opt/x\n::add-mask::y", "m\r\x1b[31m")
    text = render_decision(_view([hostile]))
    assert "/opt/x\\n::add-mask::y: m\\r\\x1b[31m" in text
    assert not any(line.startswith("::") for line in text.splitlines())
    assert clean("x" * 500, 10) == "x" * 9 + "…"
