"""What must hold before anything is minted, judged without I/O: each failure a :class:`Refused`.

The decision must be an allow in force (not expired, not older than ``--max-decision-age``, not
from the future), the policy file the one it was made under (same policy id), the provider one
the policy configures, the duration within the policy's ceiling, and this job the job the
decision names (repository, run, attempt, job; in GitHub Actions from a validated OIDC token).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from envsecops.errors import EnvsecopsError, ExitCode, UsageError
from envsecops.model.decision import Decision, Mode, Verdict
from envsecops.policy.model import CredentialsPolicy, Policy, ProviderSettings
from envsecops.verify.binding import duration
from envsecops.verify.job import UNKNOWN_PART, JobFacts

DEFAULT_MAX_DECISION_AGE = 300
"""Seconds a decision stays usable for minting, whatever its own expiry says (5 minutes)."""
FUTURE_SKEW = 60
"""Seconds a decision's issued_at may lie ahead of this clock (clock skew)."""
DEFAULT_LIFETIME = 900
"""The ceiling when the policy sets no `credentials.max-lifetime` (AWS STS's minimum)."""
JOB_PARTS = ("repository", "run_id", "run_attempt", "job")
"""The parts of ``Decision.job`` (``OWNER/REPO/RUN_ID/ATTEMPT/JOB``), in order."""
JOB_CODES = {
    "repository": "job.repository",
    "repository_id": "job.repository",
    "run_id": "job.run",
    "run_attempt": "job.attempt",
    "job": "job.job",
}
TOKEN_FACTS = ("repository", "repository_id", "run_id", "run_attempt", "job_workflow_ref", "sha")
"""Claims the provider token must share with the token the job was bound by."""
VERIFY_FIX = "run `envsecops verify` again in this job, then mint right after it"


class Refused(EnvsecopsError):
    """A precondition failed: nothing is minted (exit 1). ``code`` names the check."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, code: str, message: str, *, fix: str | None = None) -> None:
        super().__init__(f"refused ({code}): {message}", fix=fix)
        self.code = code


def parse_time(text: str, what: str) -> datetime:
    """An envsecops time (``2026-01-02T03:04:05Z``) as an aware datetime; Refused otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Refused("decision.invalid", f"the decision's {what} {text!r} is not a UTC time")
    return moment


def judge_decision(decision: Decision, *, now: datetime, max_age: int) -> None:
    """An allow, in force: not expired, issued at most ``max_age`` seconds ago, not ahead."""
    if decision.verdict is not Verdict.ALLOW:
        codes = ", ".join(sorted({r.code for r in decision.reasons})) or "none given"
        audit = (
            " (the policy is in audit mode: the step that verified passed, but an audit-mode "
            "deny mints nothing)"
            if decision.mode is Mode.AUDIT
            else ""
        )
        if any(r.code == "decision.unsigned" for r in decision.reasons):
            raise Refused(
                "decision.unsigned",
                f"decision {decision.decision_id} could not be signed, so it allows nothing",
                fix="fix the signer (see the verify step's error) and verify again",
            )
        raise Refused(
            "decision.deny",
            f"decision {decision.decision_id} is a DENY{audit}; reasons: {codes}",
            fix="fix what the verify step reported, then verify and mint again",
        )
    issued = parse_time(decision.issued_at, "issued_at")
    expires = parse_time(decision.expires_at, "expires_at")
    if now >= expires:
        raise Refused(
            "decision.expired",
            f"decision {decision.decision_id} expired at {decision.expires_at} "
            f"({duration((now - expires).total_seconds())} ago)",
            fix=VERIFY_FIX,
        )
    age = (now - issued).total_seconds()
    if age < -FUTURE_SKEW:
        raise Refused(
            "decision.future",
            f"decision {decision.decision_id} claims to be issued at {decision.issued_at}, "
            f"{duration(age)} in the future: a clock is wrong or the time was forged",
        )
    if age > max_age:
        raise Refused(
            "decision.age",
            f"decision {decision.decision_id} was issued at {decision.issued_at}, "
            f"{duration(age)} ago: older than --max-decision-age {duration(max_age)}",
            fix=VERIFY_FIX,
        )


def check_policy(policy: Policy, decision: Decision) -> None:
    """The policy file must be the one the signed decision was made under."""
    if policy.policy_id != decision.policy_id:
        raise Refused(
            "policy.mismatch",
            f"the policy file {policy.source} is {policy.policy_id}, but decision "
            f"{decision.decision_id} was made under {decision.policy_id or 'no policy'}: the "
            "policy was swapped or edited after verify",
            fix="pass the policy.yml that verify wrote beside the decision (its `policy-file` "
            "output), unchanged",
        )


def choose_provider(credentials: CredentialsPolicy, name: str | None) -> ProviderSettings:
    """The provider named (or the policy's only one); UsageError when it cannot be chosen."""
    configured = {p.provider: p for p in credentials.providers}
    if not configured:
        raise UsageError(
            "the policy configures no credential provider, so nothing may be minted",
            fix="add `credentials: providers:` (aws, gcp or vault) to the policy; see "
            "docs/policy.md",
        )
    if name is None:
        if len(configured) > 1:
            raise UsageError(
                f"the policy configures {', '.join(sorted(configured))}: say which with --provider",
            )
        return next(iter(configured.values()))
    if name not in configured:
        raise UsageError(
            f"--provider {name}: the policy configures only {', '.join(sorted(configured))}",
            fix=f"add `credentials.providers.{name}` to the policy, or mint from another one",
        )
    return configured[name]


def choose_duration(credentials: CredentialsPolicy, requested: int | None) -> int | None:
    """``requested`` when within the policy's ceiling (None: the provider's default)."""
    ceiling = credentials.max_lifetime or DEFAULT_LIFETIME
    if requested is None:
        return None
    if requested > ceiling:
        where = (
            f"`credentials.max-lifetime` {duration(ceiling)}"
            if credentials.max_lifetime
            else f"the default {duration(ceiling)} (the policy sets no `credentials.max-lifetime`)"
        )
        raise UsageError(
            f"--duration {requested} is longer than {where}; --duration may only shorten it",
            fix="ask for less, or raise `credentials.max-lifetime` in the policy (reviewed)",
        )
    return requested


@dataclass(frozen=True, slots=True)
class JobCheck:
    """Facts that neither the decision nor this job knows (a local run): not compared."""

    unchecked: tuple[str, ...]


def decision_job(decision: Decision) -> dict[str, str | None]:
    """``Decision.job`` split into its parts (None: unknown, written ``-``)."""
    parts = decision.job.rsplit("/", 3)
    if len(parts) != 4 or parts[0].count("/") != 1:
        raise Refused("decision.invalid", f"the decision's job {decision.job!r} is malformed")
    repository = None if parts[0] == f"{UNKNOWN_PART}/{UNKNOWN_PART}" else parts[0]
    rest = [None if part == UNKNOWN_PART else part for part in parts[1:]]
    return dict(zip(JOB_PARTS, [repository, *rest], strict=True))


def check_job(decision: Decision, job: JobFacts) -> JobCheck:
    """This job must be the decision's: repository, run, attempt and job (and repository id)."""
    if job.problem is not None:
        raise Refused("job.unknown", job.problem)
    if job.in_actions and decision.principal.origin != "oidc":
        raise Refused(
            "job.unverified",
            f"decision {decision.decision_id} names its job from {decision.principal.origin} "
            "facts, not a validated OIDC token; in GitHub Actions only a decision bound by "
            "the token is accepted",
            fix="give the job `permissions: id-token: write` and verify again",
        )
    facts = decision_job(decision)
    repository_id = decision.principal.get("repository_id")
    compared: list[tuple[str, str | None, str | None]] = [
        (name, facts[name], job.get(name)) for name in JOB_PARTS
    ]
    if repository_id is not None and job.get("repository_id") is not None:
        compared.append(("repository_id", repository_id, job.get("repository_id")))
    unchecked: list[str] = []
    for name, recorded, current in compared:
        if recorded is not None and current is not None:
            if recorded != current:
                raise Refused(
                    JOB_CODES[name],
                    f"decision {decision.decision_id} was made for {name} {recorded!r}, this "
                    f"job has {current!r}: a decision is good for the job attempt that made it",
                    fix=VERIFY_FIX,
                )
        elif recorded is None and current is None and not job.in_actions:
            unchecked.append(name)
        else:
            side = "the decision" if recorded is None else "this job"
            raise Refused(
                "job.unknown",
                f"{name} is unknown to {side}, and an unknown fact never matches",
                fix="verify and mint as steps of the same job, with the same GitHub environment",
            )
    return JobCheck(tuple(unchecked))


def check_token_claims(bound: Mapping[str, str], minted: Mapping[str, str]) -> None:
    """The provider token must come from the job the binding token named."""
    for name in TOKEN_FACTS:
        if bound.get(name) != minted.get(name):
            raise Refused(
                "token.job",
                f"the provider's OIDC token has {name} {minted.get(name)!r}, the job's "
                f"{bound.get(name)!r}: the token service answered for another job",
            )
