"""The four checks in order, every reason collected, and the unsigned decision they lead to.

Each check runs whenever its inputs exist: a bad signature does not skip the policy check of
the given bag.json, but a bag.json that cannot be parsed skips what needs a bag (the policy
evaluation and the drift check). The collaborators (verifier, inventory, policy loaders,
evaluator, clock) are passed in; only reading the two input files happens here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from envsecops.attest.encoding import MAX_DOCUMENT_BYTES, load_json_object
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Bag
from envsecops.model.decision import Decision, Principal, Reason
from envsecops.policy.model import DEFAULT_MAX_ATTESTATION_AGE
from envsecops.verify.attestation import AttestationCheck, check_attestation, explain
from envsecops.verify.binding import check_binding
from envsecops.verify.decision import DecisionFacts, build_decision
from envsecops.verify.drift import DriftCheck, check_drift
from envsecops.verify.job import JobFacts
from envsecops.verify.policy_input import (
    PolicyCheck,
    PolicyLoaders,
    PolicyRequest,
    effective_mode,
    obtain_policy,
    where,
)

if TYPE_CHECKING:
    from envsecops.attest.interface import Verifier
    from envsecops.model.findings import Finding
    from envsecops.policy.model import Policy

MAX_BAG_BYTES = 512 * 1024 * 1024


class Evaluator(Protocol):
    """envsecops.policy.evaluate.evaluate."""

    def __call__(
        self, policy: Policy, bag: Bag, *, pin_findings: Sequence[Finding] = ()
    ) -> list[Reason]:
        """The reasons the policy refuses the bag; empty when it allows it."""


def default_evaluator() -> Evaluator:
    """The real evaluator, imported lazily."""
    from envsecops.policy.evaluate import evaluate

    return evaluate


@dataclass(frozen=True, slots=True)
class VerifyInputs:
    """What to verify, as the command line gave it."""

    attestation: Path
    bag: Path
    policy: PolicyRequest
    nonce: str | None = None
    pin_report: Path | None = None
    mode: str | None = None
    base: Path = field(default_factory=Path.cwd)  # what pin-check report paths are relative to
    preliminary: tuple[Reason, ...] = ()  # found before the checks (e.g. a rejected OIDC token)


@dataclass(frozen=True, slots=True)
class Collaborators:
    """Everything with I/O or a clock that the checks use."""

    build_verifier: Callable[[], Verifier]
    take_inventory: Callable[[], Bag]
    loaders: PolicyLoaders
    evaluator: Callable[[], Evaluator] = default_evaluator
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """The decision (not yet signed) and what the checks found on the way."""

    decision: Decision
    attestation: AttestationCheck | None
    bag: Bag | None
    policy: PolicyCheck
    drift: DriftCheck | None
    notes: tuple[str, ...]


def _read(path: Path, limit: int, what: str) -> tuple[bytes | None, Reason | None]:
    try:
        if path.exists() and not path.is_file():
            raise OSError(0, "not a regular file")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return None, Reason(
            "attestation.unreadable",
            f"{what} {path}",
            f"cannot read the {what} file: {exc.strerror or exc} (fix: pass the file "
            "`envsecops attest` wrote in this job)",
        )
    if len(data) > limit:
        return None, Reason(
            "attestation.unreadable", f"{what} {path}", f"the {what} file exceeds {limit:,} bytes"
        )
    return data, None


def _parse_bag(data: bytes, path: Path) -> tuple[Bag | None, Reason | None]:
    try:
        return Bag.from_json(load_json_object(data, "bag.json", max_bytes=None)), None
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: any failure is a reason
        return None, Reason(
            "attestation.unreadable",
            f"bag {path}",
            f"the bag file is not a valid bag manifest: {explain(exc)} (fix: pass the bag.json "
            "`envsecops attest` wrote in this job)",
        )


def run_checks(
    inputs: VerifyInputs, job: JobFacts, principal: Principal, collab: Collaborators
) -> VerifyOutcome:
    """Run the four checks and build the decision; UsageError only for a lowering --mode."""
    reasons: list[Reason] = list(inputs.preliminary)
    notes: list[str] = []
    content, problem = _read(inputs.attestation, MAX_DOCUMENT_BYTES, "attestation")
    bag_json, bag_problem = _read(inputs.bag, MAX_BAG_BYTES, "bag")
    reasons += [r for r in (problem, bag_problem) if r is not None]
    bag: Bag | None = None
    if bag_json is not None:
        bag, parse_problem = _parse_bag(bag_json, inputs.bag)
        reasons += [parse_problem] if parse_problem is not None else []
    # 1. the attestation
    attestation: AttestationCheck | None = None
    if content is not None and bag_json is not None:
        attestation = check_attestation(
            content, bag_json, collab.build_verifier, display=str(inputs.attestation), parsed=bag
        )
        reasons += attestation.reasons
    verified = attestation.verified if attestation is not None else None
    # 4a. the policy (read before the binding: it sets the age limit and the mode)
    policy_check = obtain_policy(inputs.policy, collab.loaders)
    reasons += policy_check.reasons
    mode, mode_note = effective_mode(policy_check, inputs.mode)
    notes += [mode_note] if mode_note else []
    policy = policy_check.policy
    max_age = policy.max_attestation_age if policy is not None else DEFAULT_MAX_ATTESTATION_AGE
    now = collab.clock()
    # 2. the binding
    if verified is not None:
        age_source: str | Callable[[], str] = (
            partial(where, policy_check, "max-attestation-age")
            if policy is not None
            else "the default"
        )
        binding = check_binding(
            verified.binding,
            job,
            nonce=inputs.nonce,
            now=now,
            max_age=max_age,
            age_source=age_source,
        )
        reasons += binding.reasons
        if binding.unchecked:
            notes.append(
                "binding facts unknown on both sides, so not compared (a local run outside "
                f"GitHub Actions): {', '.join(binding.unchecked)}"
            )
        if inputs.nonce is None:
            notes.append("no --nonce given: the attestation's nonce was not compared")
    elif content is not None:
        notes.append("the binding was not checked: the attestation did not verify")
    # 4b. the allowlist, over the given bag.json
    if policy is not None and policy_check.usable and bag is not None:
        reasons += _evaluate(policy, bag, inputs, collab, now.date())
    # 3. drift
    drift = check_drift(bag, collab.take_inventory) if bag is not None else None
    reasons += drift.reasons if drift is not None else ()
    if content is not None:
        attestation_digest = verified.attestation_digest if verified else digest_bytes(content)
    else:
        attestation_digest = ""
    facts = DecisionFacts(
        mode=mode,
        env_hash=verified.env_hash if verified else (bag.env_hash if bag else ""),
        policy_id=policy.policy_id if policy is not None else "",
        policy_source=inputs.policy.source,
        attestation_digest=attestation_digest,
        principal=principal,
        job=job.job_id(),
        max_age=max_age,
        policy_ref=policy.source if policy is not None else "",
    )
    decision = build_decision(reasons, facts, now=now)
    return VerifyOutcome(decision, attestation, bag, policy_check, drift, tuple(notes))


def _evaluate(
    policy: Policy, bag: Bag, inputs: VerifyInputs, collab: Collaborators, today: date
) -> list[Reason]:
    """The evaluator's reasons, with the pin-check report's active findings."""
    from envsecops.verify.pin_report import read_pin_findings

    findings: list[Finding] = []
    reasons: list[Reason] = []
    if inputs.pin_report is not None:
        findings, problems = read_pin_findings(
            inputs.pin_report, policy.pins, today=today, base=inputs.base
        )
        reasons += problems
    try:
        reasons += collab.evaluator()(policy, bag, pin_findings=findings)
    except Exception as exc:  # noqa: BLE001 - a policy that cannot be evaluated denies
        reasons.append(
            Reason(
                "policy.invalid",
                f"policy {policy.source}",
                f"the policy could not be evaluated against this bag: {explain(exc)}",
            )
        )
    return reasons
