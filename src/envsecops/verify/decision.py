"""The decision record: built from the reasons, stated in in-toto form, and verified back.

The decision is signed the way a bag is: an in-toto Statement v1 whose subject is
``decision.json`` (the sha256 of its exact bytes, the canonical JSON of the decision) and whose
predicate (type ``https://envsecops.dev/decision/v1``) is that same decision JSON. mint-creds
reads it back with :func:`verify_decision`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.attest.interface import VerificationError, Verifier
from envsecops.attest.statement import STATEMENT_TYPE, StatementError
from envsecops.canonical import canonical_json
from envsecops.model.bag import ModelError
from envsecops.model.decision import Decision, Mode, Principal, Reason, Verdict
from envsecops.policy.reasons import MAX_REASONS

DECISION_PREDICATE_TYPE = "https://envsecops.dev/decision/v1"
DECISION_FILE = "decision.json"
DECISION_STEM = "decision"
MAX_DECISION_BYTES = 64 * 1024 * 1024


def utc_text(moment: datetime) -> str:
    """RFC 3339 UTC with seconds, as every envsecops time is written."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_decision_id() -> str:
    """``dec_`` and 32 hex digits of a random UUID."""
    return f"dec_{uuid.uuid4().hex}"


def _text(value: str) -> str:
    """``value`` as valid Unicode: a lone surrogate (from hostile JSON or a non-UTF-8 file
    name) is written as its escape, so the decision always has canonical JSON."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def finish_reasons(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """Sorted by (code, subject), exact duplicates dropped, capped at MAX_REASONS.

    Over the cap the first MAX_REASONS - 1 are kept and one ``reasons.truncated`` reason
    gives the counts by code of everything (the evaluator does the same for its own list).
    """
    cleaned = {Reason(_text(r.code), _text(r.subject), _text(r.message)) for r in reasons}
    unique = sorted(cleaned, key=lambda r: (r.code, r.subject, r.message))
    if len(unique) <= MAX_REASONS:
        return tuple(unique)
    counts: dict[str, int] = {}
    for reason in unique:
        counts[reason.code] = counts.get(reason.code, 0) + 1
    summary = ", ".join(f"{code} {count}" for code, count in sorted(counts.items()))
    kept = unique[: MAX_REASONS - 1]
    return (
        *kept,
        Reason(
            "reasons.truncated",
            "decision",
            f"{len(unique)} reasons, {len(unique) - len(kept)} not listed; by code: {summary}",
        ),
    )


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What a decision records besides its reasons."""

    mode: Mode
    env_hash: str
    policy_id: str
    policy_source: str
    attestation_digest: str
    principal: Principal
    job: str
    max_age: int
    policy_ref: str = ""


def build_decision(
    reasons: Iterable[Reason],
    facts: DecisionFacts,
    *,
    now: datetime,
    decision_id: str | None = None,
) -> Decision:
    """Allow exactly when there is no reason; expires ``max_age`` seconds after ``now``."""
    finished = finish_reasons(reasons)
    return Decision(
        decision_id=decision_id or new_decision_id(),
        verdict=Verdict.DENY if finished else Verdict.ALLOW,
        mode=facts.mode,
        reasons=finished,
        env_hash=facts.env_hash,
        policy_id=facts.policy_id,
        attestation_digest=facts.attestation_digest,
        principal=facts.principal,
        job=facts.job,
        issued_at=utc_text(now),
        expires_at=utc_text(now + timedelta(seconds=facts.max_age)),
        policy_source=facts.policy_source,
        policy_ref=facts.policy_ref,
    )


def unsigned(decision: Decision, why: str) -> Decision:
    """The same decision as a deny that says it could not be signed."""
    reason = Reason("decision.unsigned", f"decision {decision.decision_id}", why)
    return replace(
        decision, verdict=Verdict.DENY, reasons=finish_reasons((*decision.reasons, reason))
    )


def decision_bytes(decision: Decision) -> bytes:
    """``decision.json``: the canonical JSON of the decision."""
    return canonical_json(decision.to_json())


def decision_statement(decision: Decision, content: bytes) -> dict[str, Any]:
    """The in-toto statement about ``decision.json`` (whose bytes are ``content``)."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": DECISION_FILE, "digest": {"sha256": hashlib.sha256(content).hexdigest()}}
        ],
        "predicateType": DECISION_PREDICATE_TYPE,
        "predicate": decision.to_json(),
    }


def verify_decision(content: bytes, decision_json: bytes, verifier: Verifier) -> Decision:
    """The decision in ``decision_json``, after its attestation ``content`` verified.

    Checks the signature and signer (through ``verifier``), the in-toto payload, the decision
    predicate type, a single ``decision.json`` subject with the sha256 of ``decision_json``,
    and that the signed predicate is exactly that decision. It does not judge the decision
    (verdict, expiry, job): the caller does. Any defect raises VerificationError.
    """
    from envsecops.attest.verify import verify_intoto

    result = verify_intoto(
        content,
        decision_json,
        verifier,
        expected_predicate=DECISION_PREDICATE_TYPE,
        subject_name=DECISION_FILE,
    )
    if len(result.statement.subjects) != 1:
        raise StatementError(
            f"a decision statement has exactly one subject ({DECISION_FILE}), this one has "
            f"{len(result.statement.subjects)}"
        )
    try:
        data = load_json_object(decision_json, DECISION_FILE, max_bytes=MAX_DECISION_BYTES)
        decision = Decision.from_json(data)
    except (EncodingError, ModelError) as exc:
        raise VerificationError(
            f"{DECISION_FILE} is signed but not a valid decision: {exc}"
        ) from exc
    if canonical_json(dict(result.statement.predicate)) != canonical_json(data):
        raise StatementError(
            f"the signed predicate is not the decision in {DECISION_FILE}: the statement was "
            "made inconsistently or altered",
            fix="use the decision files exactly as `envsecops verify` wrote them",
        )
    return decision
