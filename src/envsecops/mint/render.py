"""What a mint shows: the table on stdout and a short job-summary section; never a secret.

Renderers decide nothing: they receive the finished :class:`Minted` (the public credential
record, where it went, the ledger receipts). Every value is printable-escaped (stdout) or
Markdown-escaped (summary); the caller wraps stdout in ``::stop-commands::`` in Actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from envsecops.report.decision_text import clean

if TYPE_CHECKING:
    from envsecops.mint.record import Written
    from envsecops.model.decision import Credential, Decision


@dataclass(frozen=True, slots=True)
class Minted:
    """A finished mint: the decision, the credential record, where things went."""

    decision: Decision
    credential: Credential
    audience: str
    exported_to: str
    record_path: str
    written: tuple[Written, ...]
    notes: tuple[str, ...] = ()


def _receipts(written: Written) -> str:
    if not written.receipts:
        return "not recorded"
    return "; ".join(
        f"{r.ledger} seq {r.seq if r.seq is not None else '-'} {r.digest}" for r in written.receipts
    )


def rows(minted: Minted) -> list[tuple[str, str]]:
    """The (label, value) rows both renderers show."""
    credential, decision = minted.credential, minted.decision
    out = [
        ("provider", credential.provider),
        ("role", credential.role),
        ("audience", minted.audience),
        ("session", credential.session_name),
        ("key id", credential.key_id),
        ("expires at", credential.expires_at),
        ("tags", ", ".join(f"{k}={v}" for k, v in credential.tags) or "none"),
    ]
    if credential.source_identity:
        out.append(("source identity", credential.source_identity))
    if credential.session_arn:
        out.append(("session arn", credential.session_arn))
    out += [
        ("decision", f"{decision.decision_id} ({decision.env_hash}, {decision.policy_id})"),
        ("exported to", minted.exported_to),
        ("record", minted.record_path),
    ]
    out += [(f"ledger {w.kind.value}", _receipts(w)) for w in minted.written]
    out += [("note", note) for note in minted.notes]
    return out


def render_text(minted: Minted) -> str:
    """The stdout table."""
    lines = [
        f"minted: {clean(minted.credential.provider)} credentials, expiring "
        f"{clean(minted.credential.expires_at)}"
    ]
    width = max(len(label) for label, _ in rows(minted))
    lines += [f"  {label:<{width}}  {clean(value)}" for label, value in rows(minted)]
    return "\n".join(lines) + "\n"


def render_summary(minted: Minted) -> str:
    """The job-summary section (Markdown)."""
    from envsecops.report.markdown import markdown_escape

    lines = [
        "### envsecops mint-creds: credentials issued",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [
        f"| {markdown_escape(label)} | {markdown_escape(value, 300)} |"
        for label, value in rows(minted)
    ]
    return "\n".join(lines) + "\n"


def render_refusal(code: str, message: str) -> str:
    """The job-summary section for a mint that issued nothing."""
    from envsecops.report.markdown import markdown_escape

    lines = [
        "### envsecops mint-creds: nothing issued",
        "",
        f"**{markdown_escape(code)}**: {markdown_escape(message, 2000)}",
    ]
    return "\n".join(lines) + "\n"
