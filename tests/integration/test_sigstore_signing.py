"""Keyless signing on loopback: every failure is a SigningError, and a success verifies.

Real sigstore-python runs against a private Sigstore instance on 127.0.0.1: a closed port
(Fulcio or Rekor unreachable), stand-ins that refuse, echo the token or answer garbage,
and well-behaved ones (a certificate with a valid embedded SCT; a logged entry with a
signed checkpoint and SET), so the whole keyless path, signing and then our offline
verification against the instance's trusted root, runs without leaving the machine. The
identity tokens are GitHub-shaped JWTs (audience `sigstore`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from envsecops.attest.interface import SigningError, VerificationError
from envsecops.attest.sigstore_signer import SigstoreSigner
from envsecops.attest.sigstore_verify import SigstoreIdentity, SigstoreVerifier
from envsecops.attest.statement import PAYLOAD_TYPE, statement_bytes
from envsecops.attest.verify import AttestationFormat, verify_attestation
from envsecops.errors import ExitCode, InputError
from tests.integration.oidc_issuer.tokens import encode, github_claims, signing_key
from tests.integration.sigstore_services import fulcio_stand_in, rekor_stand_in
from tests.integration.sigstore_stand_in import (
    IDENTITY,
    PrivateInstance,
    closed_port_url,
    trust_config,
)
from tests.unit.attest.samples import b64, sample_statement

GITHUB = "https://token.actions.githubusercontent.com"


def _token(**changes: Any) -> str:
    claims = github_claims(GITHUB, "sigstore")
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = signing_key("sigstore-test")
    return encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key.rs256())


def _payload() -> bytes:
    return statement_bytes(sample_statement()[2])


@pytest.fixture(scope="module")
def instance() -> PrivateInstance:
    return PrivateInstance()


def _refused(tmp_path: Path, instance: PrivateInstance) -> Path:
    url = closed_port_url()
    return trust_config(tmp_path / "trust.json", instance, fulcio=url, rekor=url)


def test_unreachable_fulcio_is_a_signing_error_naming_it(
    tmp_path: Path, instance: PrivateInstance
) -> None:
    config = _refused(tmp_path, instance)
    fulcio = json.loads(config.read_text())["signingConfig"]["caUrls"][0]["url"]
    token = _token()
    with pytest.raises(SigningError) as caught:
        SigstoreSigner(token, trust_config=config).sign(PAYLOAD_TYPE, _payload())
    error = caught.value
    assert error.exit_code is ExitCode.INFRA
    assert f"Fulcio at {fulcio} did not issue a signing certificate" in error.message
    assert "ConnectionError" in error.message
    assert error.fix is not None
    assert "id-token: write" in error.fix
    assert token not in error.diagnostics()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("reject", 'the service said: {"code":16,"message":"error processing the identity'),
        ("echo", "bad token Bearer <identity token>"),
        ("garbage", "JSONDecodeError"),
    ],
)
def test_fulcio_refusing_or_babbling_is_a_signing_error(
    tmp_path: Path, instance: PrivateInstance, mode: str, reason: str
) -> None:
    token = _token()
    with fulcio_stand_in(instance, mode) as fulcio:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=fulcio.url)
        with pytest.raises(SigningError, match=f"Fulcio at {fulcio.url}") as caught:
            SigstoreSigner(token, trust_config=config).sign(PAYLOAD_TYPE, _payload())
    assert reason in caught.value.message
    assert [r["path"] for r in fulcio.requests] == ["/api/v2/signingCert"]
    assert fulcio.requests[0]["authorization"] == f"Bearer {token}"
    assert token not in caught.value.diagnostics()
    assert "eyJ" not in caught.value.diagnostics()  # not even a truncated prefix


def _root(tmp_path: Path, config: Path) -> Path:
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(json.loads(config.read_text())["trustedRoot"]), encoding="utf-8")
    return root


def test_keyless_round_trip_on_a_private_instance(
    tmp_path: Path, instance: PrivateInstance
) -> None:
    bag, raw, statement = sample_statement()
    with fulcio_stand_in(instance) as fulcio, rekor_stand_in(instance) as rekor:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor.url)
        signed = SigstoreSigner(_token(), trust_config=config).sign(
            PAYLOAD_TYPE, statement_bytes(statement)
        )
    assert [r["path"] for r in fulcio.requests] == ["/api/v2/signingCert"]
    assert [r["path"] for r in rekor.requests] == ["/api/v1/log/entries"]
    assert signed.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert signed.suffix == ".sigstore.json"
    # the signer is named by the certificate's identity, what a verifier must expect
    assert signed.signer == f"sigstore:{IDENTITY} (issuer {GITHUB})"
    verifier = SigstoreVerifier(SigstoreIdentity(IDENTITY), trusted_root=_root(tmp_path, config))
    result = verify_attestation(signed.content, raw, verifier)
    assert result.env_hash == bag.env_hash
    assert result.signer == signed.signer
    assert result.format is AttestationFormat.SIGSTORE_BUNDLE

    other = SigstoreIdentity(IDENTITY.replace("refs/heads/main", "refs/heads/dev"))
    with pytest.raises(VerificationError, match="SANs do not match"):
        SigstoreVerifier(other, trusted_root=_root(tmp_path, config)).verify(signed.content)
    with pytest.raises(VerificationError, match="failed to build timestamp certificate chain"):
        SigstoreVerifier(SigstoreIdentity(IDENTITY)).verify(signed.content)  # public-good root


def test_a_tampered_keyless_bundle_fails(tmp_path: Path, instance: PrivateInstance) -> None:
    _, raw, statement = sample_statement()
    with fulcio_stand_in(instance) as fulcio, rekor_stand_in(instance) as rekor:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor.url)
        signed = SigstoreSigner(_token(), trust_config=config).sign(
            PAYLOAD_TYPE, statement_bytes(statement)
        )
    verifier = SigstoreVerifier(SigstoreIdentity(IDENTITY), trusted_root=_root(tmp_path, config))
    bundle = json.loads(signed.content)
    forged = dict(statement, predicateType="https://envsecops.dev/bag/v2")
    bundle["dsseEnvelope"]["payload"] = b64(statement_bytes(forged))
    with pytest.raises(VerificationError, match="DSSE: invalid signature"):
        verifier.verify(json.dumps(bundle).encode())
    with pytest.raises(VerificationError, match="no subject of the statement matches"):
        verify_attestation(signed.content, raw + b"\n", verifier)


def test_sigstore_python_cli_verifies_our_keyless_attestation(
    tmp_path: Path, instance: PrivateInstance
) -> None:
    _, raw, statement = sample_statement()
    with fulcio_stand_in(instance) as fulcio, rekor_stand_in(instance) as rekor:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor.url)
        signed = SigstoreSigner(_token(), trust_config=config).sign(
            PAYLOAD_TYPE, statement_bytes(statement)
        )
    bundle = tmp_path / "attestation.sigstore.json"
    bundle.write_bytes(signed.content)
    (tmp_path / "bag.json").write_bytes(raw)
    (tmp_path / "changed.json").write_bytes(raw + b"\n")
    blackhole = closed_port_url()  # the subprocess is outside the socket guard: any fetch fails
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HTTP_PROXY": blackhole,
        "HTTPS_PROXY": blackhole,
    }

    def sigstore_verify(artifact: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-I", "-m", "sigstore", "--trust-config", str(config)]
        argv += ["verify", "identity", "--offline", "--bundle", str(bundle)]
        argv += ["--cert-identity", IDENTITY, "--cert-oidc-issuer", GITHUB]
        argv.append(str(tmp_path / artifact))
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)

    good = sigstore_verify("bag.json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["predicateType"] == "https://envsecops.dev/bag/v1"
    changed = sigstore_verify("changed.json")
    assert changed.returncode != 0
    assert "no subject for digest" in " ".join(changed.stderr.split())


@pytest.mark.parametrize(
    ("mode", "reason"), [("reject", "401 Client Error"), ("garbage", "JSONDecodeError")]
)
def test_rekor_refusing_or_babbling_is_a_signing_error(
    tmp_path: Path, instance: PrivateInstance, mode: str, reason: str
) -> None:
    with fulcio_stand_in(instance) as fulcio, rekor_stand_in(instance, mode) as rekor:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor.url)
        with pytest.raises(SigningError, match=f"Rekor at {rekor.url}") as caught:
            SigstoreSigner(_token(), trust_config=config).sign(PAYLOAD_TYPE, _payload())
    assert reason in caught.value.message
    assert len(rekor.requests) == 1


def test_after_a_valid_certificate_an_unreachable_rekor_is_a_signing_error(
    tmp_path: Path, instance: PrivateInstance
) -> None:
    rekor = closed_port_url()
    with fulcio_stand_in(instance) as fulcio:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=rekor)
        with pytest.raises(SigningError) as caught:
            SigstoreSigner(_token(), trust_config=config).sign(PAYLOAD_TYPE, _payload())
    assert len(fulcio.requests) == 1  # the certificate (and its SCT) were accepted
    assert f"Rekor at {rekor}" in caught.value.message
    assert "no attestation was produced" in caught.value.message


@pytest.mark.parametrize(
    ("token", "needle"),
    [
        ("", "no OIDC identity token"),
        ("not.a.jwt", "Identity token is malformed"),
        (_token(aud="sts.amazonaws.com"), "Identity token is malformed"),
        (_token(exp=int(time.time()) - 60), "Identity token is malformed"),
        (_token(sub=None), 'missing the "sub" claim'),
    ],
)
def test_unusable_tokens_fail_before_any_connection(
    tmp_path: Path, instance: PrivateInstance, token: str, needle: str
) -> None:
    with fulcio_stand_in(instance) as fulcio:
        config = trust_config(tmp_path / "t.json", instance, fulcio=fulcio.url, rekor=fulcio.url)
        with pytest.raises(SigningError, match=needle) as caught:
            SigstoreSigner(token, trust_config=config).sign(PAYLOAD_TYPE, _payload())
    assert fulcio.requests == []
    assert caught.value.fix is not None
    assert "audience `sigstore`" in caught.value.fix


def test_only_in_toto_statements_are_signed(tmp_path: Path, instance: PrivateInstance) -> None:
    config = _refused(tmp_path, instance)
    signer = SigstoreSigner(_token(), trust_config=config)
    with pytest.raises(SigningError, match="in-toto statements only"):
        signer.sign("application/json", _payload())
    with pytest.raises(SigningError, match="not an in-toto statement"):
        signer.sign(PAYLOAD_TYPE, b'{"_type": "https://in-toto.io/Statement/v0.1"}')


def test_bad_trust_configs_are_input_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"mediaType": "nope"}', encoding="utf-8")
    with pytest.raises(InputError, match="not a Sigstore client trust config"):
        SigstoreSigner(_token(), trust_config=broken).sign(PAYLOAD_TYPE, _payload())
    with pytest.raises(InputError, match="cannot read"):
        SigstoreSigner(_token(), trust_config=tmp_path / "missing.json").sign(
            PAYLOAD_TYPE, _payload()
        )
    with pytest.raises(InputError, match="unknown Sigstore instance"):
        SigstoreSigner(_token(), instance="prod")
