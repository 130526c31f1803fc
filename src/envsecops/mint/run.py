"""One mint, in order; every refusal before any provider call, every outcome in the ledgers.

1. this job's OIDC token service is there, and its token (audience ``envsecops``) validates;
2. the decision verifies (signature, signer, subject), is an allow, unexpired, recent enough;
3. policy.yml hashes to the decision's policy id; it names the provider and the lifetime;
4. this job is the decision's job (repository, run, attempt, job);
5. a fresh inventory has the decision's env hash (else drift.json, a drift entry, refusal);
6. mint-intent reaches every configured ledger (else no token at all);
7. the provider's OIDC token is requested, masked at once, validated and tied to the job;
8. the provider mints; a failure is a mint-failed entry;
9. every credential value is masked before anything else prints; the exports go to
   ``$GITHUB_ENV`` (or credentials.env locally); mint-issued reaches every ledger.

All I/O is behind :class:`Collaborators`, so tests can run the sequence with fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from envsecops.errors import EnvsecopsError, InfraError
from envsecops.mint.export import Destination, ExportFailed, export, mask_lines
from envsecops.mint.inputs import DecisionFiles, load_policy, read_decision
from envsecops.mint.preconditions import (
    Refused,
    check_job,
    check_policy,
    check_token_claims,
    choose_duration,
    choose_provider,
    judge_decision,
)
from envsecops.mint.record import MintLedger, NotRecorded, held
from envsecops.mint.render import Minted
from envsecops.mint.timing import Timings

if TYPE_CHECKING:
    from envsecops.attest.interface import Verifier
    from envsecops.creds.interface import IssuedCredential, Provider
    from envsecops.ledger.interface import Ledger
    from envsecops.model.bag import Bag
    from envsecops.model.decision import Decision
    from envsecops.policy.model import ProviderSettings
    from envsecops.verify.job import JobFacts

Claims = Mapping[str, str]
TARGET_SETTINGS = ("role-arn", "service-account", "workload-identity-provider", "url")


@dataclass(frozen=True, slots=True)
class MintPlan:
    """What the command line asked for, and the one environment snapshot everything reads."""

    files: DecisionFiles
    provider: str | None
    duration: int | None
    max_decision_age: int
    environ: Mapping[str, str]
    in_actions: bool
    destination: Destination
    attested_bag: Path | None = None


@dataclass(frozen=True, slots=True)
class Collaborators:
    """Everything with I/O or a clock."""

    job_claims: Callable[[], dict[str, str] | None]
    build_verifier: Callable[[Claims | None], Verifier]
    take_inventory: Callable[[Claims | None], Bag]
    build_ledgers: Callable[[Path], list[Ledger]]
    request_token: Callable[[str], str]
    validate_token: Callable[[str, str], dict[str, str]]
    provider_for: Callable[[str], Provider]
    emit: Callable[[str], None]
    clock: Callable[[], datetime]


class MintAborted(EnvsecopsError):
    """A failure after the intent was recorded: it says what was recorded, keeps the exit code;
    ``message`` is the cause's, scrubbed of the OIDC token."""

    def __init__(self, cause: EnvsecopsError, message: str, recorded: str) -> None:
        super().__init__(f"{message}\n  {recorded}", fix=cause.fix)
        self.exit_code = cause.exit_code
        self.code = getattr(cause, "code", "mint.failed")


def target_of(settings: ProviderSettings) -> str:
    """What the provider is asked for: the role, service account, pool or Vault address."""
    return next((v for k in TARGET_SETTINGS if (v := settings.get(k))), settings.provider)


def preflight(provider: str, duration: int | None) -> None:
    """Provider limits that need no call, checked before anything is recorded."""
    if provider == "aws":
        from envsecops.creds.aws_names import check_duration

        check_duration(duration)


def require_token_service(environ: Mapping[str, str]) -> None:
    """Minting needs this job's OIDC token: refuse before anything when it cannot be had."""
    from envsecops.gh.oidc import PERMISSION_FIX, REQUEST_TOKEN_ENV, REQUEST_URL_ENV

    missing = [name for name in (REQUEST_URL_ENV, REQUEST_TOKEN_ENV) if not environ.get(name)]
    if missing:
        raise Refused(
            "token.unavailable",
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, so this "
            "job cannot request the OIDC token a provider exchanges",
            fix=PERMISSION_FIX,
        )


def mint(plan: MintPlan, collab: Collaborators, timings: Timings) -> Minted:
    """Run steps 1-9 (module docstring); raises Refused, EnvsecopsError or MintAborted."""
    from envsecops.verify.job import current_job

    require_token_service(plan.environ)
    with timings.phase("token"):
        claims = collab.job_claims()
    if claims is None:
        raise Refused(
            "token.unavailable",
            "this job's OIDC token (audience envsecops) could not be had, so the job the "
            "decision names cannot be checked against it",
            fix="re-run the job; check `permissions: id-token: write`",
        )
    with timings.phase("decision"):
        decision = read_decision(plan.files, lambda: collab.build_verifier(claims))
        judge_decision(decision, now=collab.clock(), max_age=plan.max_decision_age)
        policy = load_policy(plan.files.policy)
        check_policy(policy, decision)
        settings = choose_provider(policy.credentials, plan.provider)
        duration = choose_duration(policy.credentials, plan.duration)
        provider = collab.provider_for(settings.provider)
        audience = provider.audience(settings)
        preflight(settings.provider, duration)
        job = current_job(claims, plan.environ, in_actions=plan.in_actions)
        checked = check_job(decision, job)
        ledgers = collab.build_ledgers(plan.files.policy)
    intent = {
        "provider": settings.provider,
        "target": target_of(settings),
        "audience": audience,
        "duration_seconds": str(duration) if duration is not None else "provider default",
        "job": job.job_id(),
    }
    book = MintLedger(ledgers, decision, intent)
    with timings.phase("re-inventory"):
        fresh = _inventory(collab, claims)
    if fresh.env_hash != decision.env_hash:
        with timings.phase("ledgers"):
            _drift(plan, book, decision, fresh)
    with timings.phase("ledgers"):
        book.intent()
    token = ""
    try:
        with timings.phase("token"):
            token = collab.request_token(audience)
            if plan.in_actions:
                for line in mask_lines([token]):
                    collab.emit(line)
            minted_claims = collab.validate_token(token, audience)
            check_token_claims(claims, minted_claims)
        with timings.phase("provider"):
            issued = _exchange(provider, settings, decision, job, duration, token)
    except EnvsecopsError as exc:
        _abort(book, exc, token, timings)
    except Exception as exc:  # noqa: BLE001 - recorded as a failed mint, then exit 3
        _abort(book, InfraError(f"internal error ({type(exc).__name__}: {exc})"), token, timings)
    notes = (
        (
            f"not compared, unknown to the decision and to this job (a local run): "
            f"{', '.join(checked.unchecked)}",
        )
        if checked.unchecked
        else ()
    )
    minted = _hand_over(plan, collab, book, decision, issued, audience, timings)
    return replace(minted, notes=(*minted.notes, *notes))


def _inventory(collab: Collaborators, claims: Claims | None) -> Bag:
    from envsecops.verify.attestation import explain

    try:
        return collab.take_inventory(claims)
    except Exception as exc:  # an inventory that fails proves nothing
        raise Refused(
            "drift.inventory",
            f"the fresh inventory could not be taken, so drift cannot be ruled out: {explain(exc)}",
        ) from exc


def _exchange(
    provider: Provider,
    settings: ProviderSettings,
    decision: Decision,
    job: JobFacts,
    duration: int | None,
    token: str,
) -> IssuedCredential:
    from envsecops.creds.interface import MintRequest

    request = MintRequest(
        decision_id=decision.decision_id,
        env_hash=decision.env_hash,
        policy_id=decision.policy_id,
        run_id=job.get("run_id") or "",
        run_attempt=job.get("run_attempt") or "",
        settings=settings,
        duration_seconds=duration,
    )
    return provider.mint(request, token)


def _abort(book: MintLedger, exc: EnvsecopsError, token: str, timings: Timings) -> NoReturn:
    """Record mint-failed where the intent is, then raise with what was recorded."""
    from envsecops.creds.interface import scrub

    error = scrub(exc.message, [token] if token else [], limit=2000)
    with timings.phase("ledgers"):
        written = book.failed(error)
    if written.problem is None:
        recorded = f"recorded mint-failed in {held(written.receipts)}"
    else:
        recorded = (
            f"mint-failed could NOT be recorded everywhere (in {held(written.receipts)} only): "
            f"{written.problem.splitlines()[0]}; the intent is in {held(book.intent_receipts)}"
        )
    raise MintAborted(exc, error, recorded) from exc


def _drift(plan: MintPlan, book: MintLedger, decision: Decision, fresh: Bag) -> NoReturn:
    """Write the fresh bag (and the diff when the attested bag is known), record, refuse."""
    from envsecops.attest.outputs import write_atomic
    from envsecops.canonical import canonical_json
    from envsecops.model.bag import diff_bags
    from envsecops.verify.drift import summarise

    out = plan.destination.out_dir
    fresh_path = out / "fresh-bag.json"
    write_atomic(fresh_path, canonical_json(fresh.to_json()))
    attested = _attested_bag(plan.attested_bag, decision.env_hash)
    diff = diff_bags(attested, fresh) if attested is not None else None
    if attested is not None and diff is not None:
        write_atomic(out / "drift.json", canonical_json(diff.to_json()))
        summary = summarise(attested, fresh, diff)
    else:
        summary = (
            f"a fresh inventory has env hash {fresh.env_hash}, the decision "
            f"{decision.env_hash}; the fresh bag is in {fresh_path} (pass --bag with the "
            "attested bag.json to get the component diff)"
        )
    written = book.drift(diff, summary)
    recorded = (
        f"; recorded as drift in {held(written.receipts)}"
        if written.problem is None
        else f"; the drift entry could NOT be recorded everywhere: {written.problem}"
    )
    raise Refused(
        "drift.env-hash",
        f"the runner changed after verify: {summary}{recorded}",
        fix="find what changed the runner between verify and mint; nothing was minted",
    )


def _attested_bag(path: Path | None, env_hash: str) -> Bag | None:
    """The attested bag.json, when given and it is the decision's bag."""
    if path is None:
        return None
    from envsecops.attest.encoding import load_json_object
    from envsecops.model.bag import Bag

    try:
        bag = Bag.from_json(load_json_object(path.read_bytes(), "bag.json", max_bytes=None))
    except (OSError, EnvsecopsError, ValueError):
        return None
    return bag if bag.env_hash == env_hash else None


def _hand_over(
    plan: MintPlan,
    collab: Collaborators,
    book: MintLedger,
    decision: Decision,
    issued: IssuedCredential,
    audience: str,
    timings: Timings,
) -> Minted:
    """Mask, export, record mint-issued; fail loudly (exit 3) if the record or export failed."""
    if plan.in_actions:
        for line in mask_lines(issued.mask_values()):
            collab.emit(line)
    failure: ExportFailed | None = None
    with timings.phase("export"):
        try:
            exported = export(issued, plan.destination)
        except ExportFailed as exc:
            failure = exc
    with timings.phase("ledgers"):
        written = book.issued(issued.credential)
    credential = issued.credential
    if written.problem is not None:
        raise NotRecorded(
            f"credentials WERE issued ({credential.provider} {credential.role}, key id "
            f"{credential.key_id}, expiring {credential.expires_at}) but mint-issued is recorded "
            f"only in {held(written.receipts)}: {written.problem}; the intent is in "
            f"{held(book.intent_receipts)}",
            fix="the record is incomplete: revoke the session if your policy requires it, make "
            "every ledger reachable, and mint again",
            recorded=written.receipts,
        )
    if failure is not None:
        raise ExportFailed(
            f"credentials were issued and recorded ({held(written.receipts)}) but not handed "
            f"to the following steps: {failure.message}",
            fix=failure.fix,
        )
    return Minted(
        decision=decision,
        credential=credential,
        audience=audience,
        exported_to=exported.where,
        record_path=str(exported.record),
        written=tuple(book.written),
        notes=issued.notes,
    )
