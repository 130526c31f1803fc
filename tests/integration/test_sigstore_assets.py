"""Every case in ../shared/sigstore-assets passes or fails exactly as its case.json says, offline.

The assets are real Sigstore bundles (production and staging, Rekor v1 and v2). We verify
them through our SigstoreVerifier and facade, never sigstore directly, with the folder's
trusted_root.json or with the root embedded in sigstore-python. XDG_CACHE_HOME and
XDG_DATA_HOME point at an empty temporary directory, and each test proves it stayed empty:
verification neither reads nor writes sigstore's TUF cache. Failures must be our
VerificationError wrapping sigstore's (the type is the contract); the message substrings
of case.json are checked on the sigstore version they were observed with (4.5.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sigstore
import sigstore.errors

from envsecops.attest.interface import VerificationError
from envsecops.attest.sigstore_verify import SigstoreIdentity, SigstoreVerifier
from envsecops.attest.statement import StatementError
from envsecops.attest.verify import AttestationFormat, verify_attestation, verify_intoto
from tests.conftest import SHARED, shared_dir

ASSETS = SHARED / "sigstore-assets"
OBSERVED_WITH = "4.5.1"
SLSA = "https://slsa.dev/provenance/v1"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
BEACON_REPOSITORY_ID = "632596897"


def _case_names() -> list[str]:
    if not ASSETS.is_dir():
        return ["(absent)"]
    return sorted(p.name for p in ASSETS.iterdir() if (p / "case.json").is_file())


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(cache / "data"))
    yield
    assert not cache.exists(), "verification touched sigstore's TUF cache"


@dataclass(frozen=True)
class Check:
    """One verification to run: the primary case or one of its extra_checks."""

    folder: Path
    kind: str
    expect: str
    identity: str
    issuer: str
    root: str
    artifact: str | None
    error_contains: str

    def verifier(self) -> SigstoreVerifier:
        identity = SigstoreIdentity(self.identity, self.issuer)
        scheme, _, where = self.root.partition(":")
        if scheme == "file":
            return SigstoreVerifier(identity, trusted_root=self.folder / where)
        return SigstoreVerifier(identity, instance=where)

    def bundle(self, case: dict[str, Any]) -> bytes:
        return (self.folder / str(case["bundle"])).read_bytes()


def _checks(folder: Path) -> tuple[dict[str, Any], list[Check]]:
    case: dict[str, Any] = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    primary = Check(
        folder,
        case["kind"],
        case["expect"],
        case["identity"],
        case["issuer"],
        "file:" + case["trusted_root"],
        case.get("artifact"),
        case.get("error_contains") or "",
    )
    checks = [primary]
    for extra in case.get("extra_checks", []):
        checks.append(
            Check(
                folder,
                case["kind"],
                extra["expect"],
                extra.get("identity", primary.identity),
                extra.get("issuer", primary.issuer),
                extra.get("root", primary.root),
                extra.get("artifact", primary.artifact),
                extra.get("error_contains") or "",
            )
        )
    return case, checks


def _run(check: Check, case: dict[str, Any]) -> None:
    verifier = check.verifier()
    content = check.bundle(case)
    if check.kind == "dsse":
        verified = verifier.verify(content)
        assert verified.payload_type == "application/vnd.in-toto+json"
        assert verified.signer == f"sigstore:{check.identity} (issuer {check.issuer})"
        if "statement" not in case:  # a control run of a failure case: the signature is all
            return
        assert verified.payload == (check.folder / case["statement"]).read_bytes()
        # sigstore does not check the in-toto subject: our facade does
        subject = (check.folder / case["subject_artifact"]).read_bytes()
        result = verify_intoto(content, subject, verifier, expected_predicate=SLSA)
        assert result.format is AttestationFormat.SIGSTORE_BUNDLE
        with pytest.raises(StatementError, match="no subject of the statement matches"):
            verify_intoto(content, subject + b"x", verifier, expected_predicate=SLSA)
        return
    assert check.kind == "message_signature"
    assert check.artifact is not None
    signer = verifier.verify_artifact(content, (check.folder / check.artifact).read_bytes())
    assert signer == f"sigstore:{check.identity} (issuer {check.issuer})"


@pytest.mark.parametrize("name", _case_names())
def test_case_passes_or_fails_as_stated(name: str) -> None:
    folder = shared_dir("sigstore-assets") / name
    case, checks = _checks(folder)
    assert case["kind"] in {"dsse", "message_signature"}
    for check in checks:
        if check.expect == "pass":
            _run(check, case)
            continue
        assert check.expect == "fail", check
        with pytest.raises(VerificationError) as caught:
            _run(check, case)
        cause = caught.value.__cause__
        assert isinstance(cause, sigstore.errors.VerificationError), (check, caught.value)
        if sigstore.__version__ == OBSERVED_WITH and check.error_contains:
            assert check.error_contains in caught.value.message, (check, caught.value.message)
        assert caught.value.fix is not None


def test_every_kind_and_outcome_is_represented() -> None:
    root = shared_dir("sigstore-assets")
    seen = set()
    for name in _case_names():
        case = json.loads((root / name / "case.json").read_text(encoding="utf-8"))
        seen.add((case["kind"], case["expect"]))
    assert seen == {(k, e) for k in ("dsse", "message_signature") for e in ("pass", "fail")}


def _prod() -> Path:
    return shared_dir("sigstore-assets") / "pass-dsse-intoto-gha-prod"


def test_repository_id_and_runner_environment_policies() -> None:
    folder = _prod()
    content = (folder / "bundle.sigstore.json").read_bytes()
    root = folder / "trusted_root.json"
    good = SigstoreIdentity(
        BEACON, repository_id=BEACON_REPOSITORY_ID, runner_environment="github-hosted"
    )
    SigstoreVerifier(good, trusted_root=root).verify(content)
    # a repository deleted and re-created under the same name keeps the SAN, not the id
    for identity in (
        SigstoreIdentity(BEACON, repository_id="1"),
        SigstoreIdentity(BEACON, runner_environment="self-hosted"),
    ):
        with pytest.raises(VerificationError):
            SigstoreVerifier(identity, trusted_root=root).verify(content)


def test_github_workflow_identity_is_built_exactly() -> None:
    identity = SigstoreIdentity.github_workflow(
        "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
        ".github/workflows/extremely-dangerous-oidc-beacon.yml",
        "refs/heads/main",
    )
    assert identity.identity == BEACON
    assert identity.issuer == "https://token.actions.githubusercontent.com"


def test_our_facade_refuses_a_valid_bundle_with_another_predicate() -> None:
    folder = _prod()
    content = (folder / "bundle.sigstore.json").read_bytes()
    verifier = SigstoreVerifier(SigstoreIdentity(BEACON), trusted_root=folder / "trusted_root.json")
    with pytest.raises(StatementError, match=re.escape("expected 'https://envsecops.dev/bag/v1'")):
        verify_attestation(content, (folder / "a.txt").read_bytes(), verifier)


def test_wrong_container_for_the_path() -> None:
    root = shared_dir("sigstore-assets")
    message = (root / "pass-msg-gha-prod" / "bundle.sigstore.json").read_bytes()
    verifier = SigstoreVerifier(SigstoreIdentity(BEACON))
    with pytest.raises(VerificationError, match="message signature, not a DSSE envelope"):
        verifier.verify(message)
    dsse = (root / "pass-dsse-intoto-gha-prod" / "bundle.sigstore.json").read_bytes()
    with pytest.raises(VerificationError, match="Missing bundle message signature"):
        verifier.verify_artifact(dsse, b"anything")


def test_tampered_bundle_json_is_refused_before_sigstore_reads_it() -> None:
    content = (_prod() / "bundle.sigstore.json").read_text(encoding="utf-8")
    verifier = SigstoreVerifier(SigstoreIdentity(BEACON))
    duplicated = content.replace('"mediaType"', '"mediaType": "x", "mediaType"', 1)
    with pytest.raises(VerificationError, match="duplicate key 'mediaType'"):
        verifier.verify(duplicated.encode())
    with pytest.raises(VerificationError, match="not JSON"):
        verifier.verify(content[:-100].encode())
    gutted = json.loads(content)
    del gutted["verificationMaterial"]
    with pytest.raises(VerificationError, match="bundle parsing failed"):
        verifier.verify(json.dumps(gutted).encode())
    with pytest.raises(VerificationError, match="DSSE envelope: verify it with a public key"):
        verifier.verify(b'{"payload": "", "payloadType": "t", "signatures": []}')
