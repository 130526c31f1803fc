"""The demo's chain after pin-check, on loopback: attest, verify, mint, record, then the deny.

It starts the local OIDC issuer and moto's server, changes the process environment to the
job's (:meth:`Runner.environ`), runs every stage in-process, and always stops both servers and
restores the environment, whatever happened. Every expectation is a :class:`Verdict`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from envsecops.demo.attest_step import Attested, run_attest_stage
from envsecops.demo.local_env import changed_environment
from envsecops.demo.mint_step import run_mint_stage, run_refused_mint
from envsecops.demo.outcome import Verdict
from envsecops.demo.record_step import audit_verify, audit_why, record, show_summary
from envsecops.demo.verify_step import planted_on_path, run_deny_stage, run_verify_stage

if TYPE_CHECKING:
    from envsecops.demo.cloud import Cloud
    from envsecops.demo.issuer import Issuer
    from envsecops.demo.runner import Runner


def run_chain(runner: Runner, pin_report: Path, stream: TextIO) -> list[Verdict]:
    """Start the services, run stages 2-5 and the deny in the job's environment, stop them.

    The AWS isolation (:meth:`Runner.isolated`) is in place before moto starts, so that not
    even the demo's own boto3 clients read this machine's AWS configuration.
    """
    from envsecops.demo.issuer import Issuer

    with changed_environment(runner.isolated()):
        issuer = Issuer()
        try:
            return _with_cloud(runner, pin_report, issuer, stream)
        finally:
            issuer.stop()


def _with_cloud(runner: Runner, pin_report: Path, issuer: Issuer, stream: TextIO) -> list[Verdict]:
    from envsecops.demo.cloud import Cloud

    try:
        cloud = Cloud()
    except Exception as exc:  # noqa: BLE001 - a cloud that did not start is a failed step
        return [Verdict(False, f"moto's server could not be started on loopback: {exc!r}")]
    try:
        stream.write(
            f"\nOn loopback: an OIDC issuer at {issuer.url} (GitHub-shaped claims, RS256, "
            f"JWKS) and moto at {cloud.endpoint} (STS, IAM roles {cloud.gate_arn} and "
            f"{cloud.target_arn}, Object-Lock bucket {cloud.bucket}); the job's files and "
            f"RUNNER_TEMP in {runner.temp}\n"
        )
        with changed_environment(runner.environ(issuer, cloud)):
            return _stages(runner, pin_report, (issuer, cloud), stream)
    finally:
        cloud.stop()


def _stages(
    runner: Runner, pin_report: Path, services: tuple[Issuer, Cloud], stream: TextIO
) -> list[Verdict]:
    issuer, cloud = services
    attested = run_attest_stage(runner.temp, stream, issuer.url)
    if attested is None:
        return [Verdict(False, "verify-bag, mint-creds and record were not run: attest failed")]
    verdicts = [Verdict(True, "the attestation verified and is bound by the issuer's token")]
    sections = cloud.policy_section() + cloud.ledger_section(str(runner.ledger_file))
    allow_dir = runner.temp / "decision-allow"
    allowed = run_verify_stage(
        attested, runner.policy, allow_dir, stream, sections=sections, issuer=issuer.url
    )
    verdicts += allowed.verdicts
    decision = allowed.outcome.decision if allowed.outcome else None
    if decision is None or not all(v.ok for v in allowed.verdicts):
        return [*verdicts, Verdict(False, "mint-creds and record were not run: no allow")]
    minted = run_mint_stage(attested, decision, allow_dir, runner.temp / "mint", services, stream)
    verdicts += minted.verdicts
    stream.write(
        "\nStage 5, record-decision: the decision goes to every ledger the policy names "
        "(mint already wrote its mint-intent and mint-issued entries there)\n"
    )
    verdicts.append(record(runner, allow_dir, pin_report, stream))
    shown = show_summary(runner, stream)
    if minted.key_id is None:
        verdicts.append(Verdict(False, "audit why was not asked: nothing was minted"))
    else:
        verdicts.append(audit_why(runner, minted.key_id, decision.decision_id, stream))
    verdicts += _deny(runner, attested, pin_report, services, stream, shown)
    verdicts.append(audit_verify(runner, stream))
    return verdicts


def _deny(
    runner: Runner,
    attested: Attested,
    pin_report: Path,
    services: tuple[Issuer, Cloud],
    stream: TextIO,
    shown: int,
) -> list[Verdict]:
    """Plant the binary, verify (deny), ask mint anyway (refused), record the deny."""
    deny_dir = runner.temp / "decision-deny"
    with planted_on_path(runner.home / "planted-bin", stream) as planted:
        verdict, denied = run_deny_stage(
            attested, runner.policy, deny_dir, planted, stream, services[0].url
        )
        if denied.decision is None:
            return [verdict, Verdict(False, "mint and record of the deny were not run")]
        refused = run_refused_mint(attested, deny_dir, runner.temp / "mint-deny", services, stream)
        stream.write("\nThe deny is recorded too:\n")
        recorded = record(runner, deny_dir, pin_report, stream, deny=True)
        show_summary(runner, stream, shown)
    return [verdict, refused, recorded]
