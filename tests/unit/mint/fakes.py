"""Fakes for the mint engine's unit tests: ledgers, a provider, collaborators that log every call.

The decision files are real (signed by a fresh key, through verify's own publish step), so
``read_decision`` runs as in production; everything with a network behind it is a fake that
subclasses the real ABC and appends what happened to one shared ``events`` list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from envsecops.attest.interface import Verifier
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key, load_public_key
from envsecops.creds.interface import IssuedCredential, MintError, MintRequest, Provider
from envsecops.ledger.interface import Ledger, LedgerError, Problem, Receipt
from envsecops.mint.export import Destination
from envsecops.mint.inputs import DecisionFiles
from envsecops.mint.run import Claims, Collaborators, MintPlan
from envsecops.model.bag import Bag, RunnerFacts
from envsecops.model.decision import Credential, Decision, Mode, Principal, Verdict
from envsecops.model.ledger import EntryKind, LedgerEntry
from envsecops.policy.load import load_policy_text
from envsecops.policy.model import ProviderSettings
from envsecops.verify.decision import utc_text
from envsecops.verify.publish import publish

CLAIMS = {
    "repository": "octo-org/octo-repo",
    "repository_id": "74",
    "run_id": "1001",
    "run_attempt": "2",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/d.yml@refs/heads/main",
    "sha": "c" * 40,
}
ROLE = "arn:aws:iam::123456789012:role/deploy"
POLICY = (
    "name: unit-mint\nbinaries:\n  git: sha256:" + "1" * 64 + "\n"
    f"credentials:\n  providers:\n    aws:\n      role-arn: {ROLE}\n      region: eu-west-1\n"
)
SECRET = "wJalrXUtnFEMI/K7MDENG/unit-test-secret"
SESSION_TOKEN = "FQoGZXIvYXdzEBYaDunit-session-token"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1bml0In0.c2lnbmF0dXJl"


class MemoryLedger(Ledger):
    """An in-memory ledger that can be told to fail."""

    def __init__(self, name: str, events: list[str], *, fail: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail = fail
        self.kept: list[tuple[EntryKind, Mapping[str, Any]]] = []

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        self.events.append(f"{self.name}:{kind.value}")
        if self.fail:
            raise LedgerError(f"{self.name} is down", fix="bring it back")
        self.kept.append((kind, body))
        return Receipt(self.name, f"{self.name}#{len(self.kept)}", "sha256:" + "0" * 64)

    def entries(self) -> Iterator[LedgerEntry]:
        return iter(())

    def verify(self) -> list[Problem]:
        return []

    def kinds(self) -> list[str]:
        return [kind.value for kind, _ in self.kept]


class FakeProvider(Provider):
    """Returns a fixed credential, or raises ``error``; logs each mint."""

    name = "aws"

    def __init__(self, events: list[str], error: MintError | None = None) -> None:
        self.events = events
        self.error = error
        self.requests: list[MintRequest] = []

    def audience(self, settings: ProviderSettings) -> str:
        return "sts.amazonaws.com"

    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        self.events.append("provider")
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        credential = Credential(
            provider="aws",
            role=ROLE,
            session_name="envsecops-1001-2-eeee",
            key_id="ASIAUNITTESTKEY00001",
            expires_at="2026-03-01T12:15:00Z",
            session_arn="arn:aws:sts::123456789012:assumed-role/deploy/envsecops-1001-2-eeee",
        )
        exports = {
            "AWS_ACCESS_KEY_ID": credential.key_id,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
        }
        return IssuedCredential(
            credential, {"secret_access_key": SECRET, "session_token": SESSION_TOKEN}, exports
        )


@dataclass
class World:
    """Signed decision files in ``tmp``, the fakes, and the shared event log."""

    tmp: Path
    events: list[str] = field(default_factory=list)
    fresh_hash: str | None = None
    ledgers: list[MemoryLedger] = field(default_factory=list)
    provider: FakeProvider | None = None
    emitted: list[str] = field(default_factory=list)
    token_claims: dict[str, str] = field(default_factory=lambda: dict(CLAIMS))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        made = generate_key(self.tmp / "key.pem")
        self.signer = KeySigner.from_file(made.private_path)
        self.bag = Bag.build(RunnerFacts(), ())
        self.ledgers = [MemoryLedger("file:l", self.events)]
        self.provider = FakeProvider(self.events)
        self.decision_dir = self.tmp / "dec"
        self.decision_dir.mkdir()
        self.write_decision()

    def write_decision(self, **changes: Any) -> Decision:
        policy = load_policy_text(POLICY, "policy.yml")
        values: dict[str, Any] = {
            "decision_id": "dec_" + "1" * 32,
            "verdict": Verdict.ALLOW,
            "mode": Mode.ENFORCE,
            "reasons": (),
            "env_hash": self.bag.env_hash,
            "policy_id": policy.policy_id,
            "attestation_digest": "sha256:" + "a" * 64,
            "principal": Principal.from_claims(CLAIMS, "oidc"),
            "job": "octo-org/octo-repo/1001/2/deploy",
            "issued_at": utc_text(self.now - timedelta(seconds=5)),
            "expires_at": utc_text(self.now + timedelta(minutes=9)),
        }
        values.update(changes)
        decision = Decision(**values)
        publish(decision, None, self.decision_dir, lambda: self.signer, policy_text=POLICY)
        return decision

    def plan(self, **changes: Any) -> MintPlan:
        values: dict[str, Any] = {
            "files": DecisionFiles.beside(self.decision_dir / "decision.json", None, None, "key"),
            "provider": None,
            "duration": None,
            "max_decision_age": 300,
            "environ": {
                "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:1/token",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "bearer-for-the-token-service",
                "GITHUB_JOB": "deploy",
            },
            "in_actions": True,
            "destination": Destination(
                out_dir=self.tmp,
                github_env=self.tmp / "github-env",
                github_output=self.tmp / "github-output",
            ),
        }
        values.update(changes)
        return MintPlan(**values)

    def collaborators(self) -> Collaborators:
        def inventory(claims: Claims | None) -> Bag:
            self.events.append("inventory")
            if self.fresh_hash is None:
                return self.bag
            from envsecops.model.bag import Component, ComponentKind

            extra = Component(
                kind=ComponentKind.BINARY,
                name="x",
                source="t",
                digest="sha256:" + "9" * 64,
                path="/x",
            )
            return Bag.build(RunnerFacts(), (extra,))

        def verifier(claims: Claims | None) -> Verifier:
            return KeyVerifier([load_public_key(self.signer.public_pem, "key")])

        def request(audience: str) -> str:
            self.events.append(f"token:{audience}")
            return TOKEN

        def validate(token: str, audience: str) -> dict[str, str]:
            self.events.append("validate")
            return dict(self.token_claims)

        def emit(line: str) -> None:
            self.events.append("emit")
            self.emitted.append(line)

        assert self.provider is not None
        provider = self.provider
        return Collaborators(
            job_claims=lambda: dict(CLAIMS),
            build_verifier=verifier,
            take_inventory=inventory,
            build_ledgers=lambda path: list(self.ledgers),
            request_token=request,
            validate_token=validate,
            provider_for=lambda name: provider,
            emit=emit,
            clock=lambda: self.now,
        )
