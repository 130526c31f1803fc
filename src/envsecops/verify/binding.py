"""Check 2, the binding: same repository, workflow, run, attempt and job; the nonce; the age.

A fact known on one side and unknown on the other is ``binding.unknown`` (an unknown never
matches). In GitHub Actions the repository, run, attempt and job must be known on both sides.
Outside Actions, a fact that neither side knows (no GitHub environment at all, the common local
case) is allowed: there is no job to replay into. Such facts are returned as a note, so the
CLI says which facts went unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from envsecops.attest.binding import Binding
from envsecops.model.decision import Reason
from envsecops.verify.job import JobFacts

COMPARED = (
    ("repository", "binding.repository"),
    ("repository_id", "binding.repository"),
    ("workflow_ref", "binding.workflow"),
    ("job_workflow_ref", "binding.workflow"),
    ("run_id", "binding.run"),
    ("run_attempt", "binding.attempt"),
    ("job", "binding.job"),
)
"""Binding facts compared with this job's, and the code a mismatch carries."""
REQUIRED_IN_ACTIONS = ("repository", "run_id", "run_attempt", "job")
"""Facts that must be known on both sides when verify runs in GitHub Actions."""
FUTURE_SKEW = 60
"""Seconds an attestation's created_at may lie ahead of this clock (clock skew)."""


@dataclass(frozen=True, slots=True)
class BindingCheck:
    """The binding reasons, and the facts that went unchecked because nobody knew them."""

    reasons: tuple[Reason, ...]
    unchecked: tuple[str, ...]


def duration(seconds: float) -> str:
    """``1h 2m 3s`` style, for messages."""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s"]
    text = " ".join(p for p in parts if p and (p != "0s" or total == 0))
    return text or "0s"


def _side(origin: object) -> str:
    return f" ({origin})" if origin else ""


def check_binding(
    binding: Binding,
    job: JobFacts,
    *,
    nonce: str | None,
    now: datetime,
    max_age: int,
    age_source: str | Callable[[], str],
) -> BindingCheck:
    """Compare the attested ``binding`` with this ``job``; ``age_source`` names where the age
    limit comes from (a policy line or the default), for the message."""
    reasons: list[Reason] = []
    unchecked: list[str] = []
    if job.problem is not None:
        reasons.append(Reason("binding.unknown", "job", job.problem))
    for name, code in COMPARED:
        attested, current = getattr(binding, name), job.get(name)
        if attested is not None and current is not None:
            if attested != current:
                reasons.append(
                    Reason(
                        code,
                        f"binding {name}",
                        f"the attestation was made with {name} {attested!r}"
                        f"{_side(binding.origin(name))}, this job has {current!r}"
                        f"{_side(job.origin(name))}",
                    )
                )
            continue
        if attested is None and current is None:
            if job.in_actions and name in REQUIRED_IN_ACTIONS:
                reasons.append(
                    Reason(
                        "binding.unknown",
                        f"binding {name}",
                        f"{name} is unknown both in the attestation and in this job, so the "
                        "attestation cannot be tied to this job (fix: run attest and verify as "
                        "steps of the same job, with `permissions: id-token: write`)",
                    )
                )
            else:
                unchecked.append(name)
            continue
        known_side = "the attestation" if attested is not None else "this job"
        other_side = "this job" if attested is not None else "the attestation"
        reasons.append(
            Reason(
                "binding.unknown",
                f"binding {name}",
                f"{known_side} knows {name} ({attested or current!r}) but {other_side} does "
                "not, and an unknown fact never matches (fix: attest and verify in the same "
                "job, both with a validated OIDC token or both with the same GitHub environment)",
            )
        )
    if nonce is None and job.in_actions:
        reasons.append(
            Reason(
                "binding.nonce",
                "binding nonce",
                "no expected nonce was given: in GitHub Actions the attestation must be tied to "
                "this job's attest step by its nonce, or an earlier attestation made in this "
                "same job could stand in for it (fix: pass `--nonce` the `nonce` output of the "
                "attest step, e.g. `nonce: ${{ steps.attest.outputs.nonce }}`)",
            )
        )
    if nonce is not None and binding.nonce != nonce:
        reasons.append(
            Reason(
                "binding.nonce",
                "binding nonce",
                f"the attestation's nonce {binding.nonce!r} is not the expected {nonce!r} "
                "(fix: pass the nonce output of this job's attest step)",
            )
        )
    reasons.extend(_age(binding, now, max_age, age_source))
    return BindingCheck(tuple(reasons), tuple(unchecked))


def _age(
    binding: Binding, now: datetime, max_age: int, age_source: str | Callable[[], str]
) -> list[Reason]:
    created = datetime.strptime(binding.created_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    age = (now - created).total_seconds()
    if age > max_age:
        if callable(age_source):  # finding the policy line re-reads the policy: only on a deny
            age_source = age_source()
        return [
            Reason(
                "binding.age",
                "binding created_at",
                f"the attestation was made at {binding.created_at}, {duration(age)} ago: older "
                f"than max-attestation-age {duration(max_age)} ({age_source}) (fix: attest "
                "again right before verifying)",
            )
        ]
    if age < -FUTURE_SKEW:
        return [
            Reason(
                "binding.age",
                "binding created_at",
                f"the attestation claims to be made at {binding.created_at}, {duration(age)} in "
                f"the future (more than the {FUTURE_SKEW} s allowed for clock skew): the "
                "attesting machine's clock is wrong or the time was forged",
            )
        ]
    return []
