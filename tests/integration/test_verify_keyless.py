"""Keyless verify on a private Sigstore instance on 127.0.0.1: bundles in, decisions back.

The attestation is a real Sigstore bundle (Fulcio and Rekor stand-ins, sigstore-python on
both sides) over the statement `envsecops attest` made for a small tree; verify checks it
offline against the instance's trusted root for the exact workflow identity. A decision
signed the same way verifies back through `verify_decision`, as mint-creds will do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from envsecops.attest.dsse import Envelope
from envsecops.attest.interface import VerificationError
from envsecops.attest.sigstore_signer import SigstoreSigner
from envsecops.attest.sigstore_verify import SigstoreIdentity, SigstoreVerifier
from envsecops.attest.statement import PAYLOAD_TYPE, statement_bytes
from envsecops.model.decision import Decision, Verdict
from envsecops.verify.decision import (
    build_decision,
    decision_bytes,
    decision_statement,
    verify_decision,
)
from tests.integration.oidc_issuer.tokens import encode, github_claims, signing_key
from tests.integration.sigstore_services import fulcio_stand_in, rekor_stand_in
from tests.integration.sigstore_stand_in import IDENTITY, PrivateInstance, trust_config
from tests.integration.verify_job import Job, RunCli, job_fixture  # noqa: F401 - the `job` fixture
from tests.unit.verify.decision_samples import sample_facts

GITHUB = "https://token.actions.githubusercontent.com"


def _token() -> str:
    claims: dict[str, Any] = github_claims(GITHUB, "sigstore")
    key = signing_key("sigstore-test")
    return encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key.rs256())


@pytest.fixture(scope="module")
def instance() -> PrivateInstance:
    return PrivateInstance()


def _keyless(tmp_path: Path, instance: PrivateInstance, payload: bytes) -> tuple[bytes, Path]:
    """The payload signed keylessly, and the instance's trusted root."""
    with fulcio_stand_in(instance) as fulcio, rekor_stand_in(instance) as rekor:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor.url)
        signed = SigstoreSigner(_token(), trust_config=config).sign(PAYLOAD_TYPE, payload)
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(config.read_text())["trustedRoot"]), encoding="utf-8")
    return signed.content, root


def test_a_keyless_attestation_verifies_for_the_workflow_identity(
    job: Job, run_cli: RunCli, instance: PrivateInstance
) -> None:
    job.attest(run_cli)
    statement = Envelope.from_json((job.attested / "attestation.dsse.json").read_bytes()).payload
    bundle, root = _keyless(job.tmp, instance, statement)
    (job.attested / "attestation.sigstore.json").write_bytes(bundle)
    argv: list[str | Path] = [
        "verify", "--root", job.root, "--attestation", job.attested / "attestation.sigstore.json",
        "--bag", job.attested / "bag.json", "--no-syft", "--out", job.out,
        "--policy", job.policy(), "--signer", "sigstore", "--trusted-root", root,
    ]  # fmt: skip
    result = run_cli(*argv, "--identity", IDENTITY)
    assert result.code == 3, "verified, but outside Actions there is no token to sign with"
    decision = job.decision()
    assert [r.code for r in decision.reasons] == ["decision.unsigned"]
    assert f"attestation  sigstore:{IDENTITY} (issuer {GITHUB})" in result.out
    other = IDENTITY.replace("refs/heads/main", "refs/heads/dev")
    result = run_cli(*argv, "--identity", other)
    codes = {r.code for r in job.decision().reasons}
    assert codes == {"attestation.signature", "decision.unsigned"}


def test_a_keyless_decision_verifies_back(tmp_path: Path, instance: PrivateInstance) -> None:
    facts = sample_facts(repository="octo-org/octo-repo")
    decision = build_decision([], facts, now=datetime.now(UTC))
    content = decision_bytes(decision)
    bundle, root = _keyless(
        tmp_path, instance, statement_bytes(decision_statement(decision, content))
    )
    verifier = SigstoreVerifier(SigstoreIdentity(IDENTITY), trusted_root=root)
    back: Decision = verify_decision(bundle, content, verifier)
    assert back == decision
    assert back.verdict is Verdict.ALLOW
    with pytest.raises(VerificationError):
        verify_decision(bundle, content.replace(b"allow", b"deny "), verifier)
