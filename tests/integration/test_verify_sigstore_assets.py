"""The real Sigstore bundles of ../shared/sigstore-assets through `envsecops verify`'s keyless path.

Each case is verified offline (`--signer sigstore`) against its folder's trusted_root.json
(`--trusted-root`) with the identity its case.json states (`--identity`), beside a valid
bag.json of a tiny tree and a policy that allows it, so the attestation is the only thing
that can be wrong:

- a failing DSSE case is an `attestation.signature` deny whose message carries the reason
  case.json states (checked on the sigstore version the substrings were observed with);
- a passing DSSE case's signature is accepted: its only attestation reason is
  `attestation.predicate`, because SLSA provenance about `a.txt` is not the bag predicate;
- a message-signature bundle (pass or fail) carries no statement at all, so verify refuses it
  as an attestation before its signature is looked at; those signatures are checked against
  their artifacts by tests/integration/test_sigstore_assets.py.

Keyless verify also signs its decision keylessly, and a test machine has no OIDC token, so
every decision here is written as a deny that also carries `decision.unsigned`, exit 3 (the
contract). XDG_CACHE_HOME and XDG_DATA_HOME point at a directory that must stay absent:
verify neither reads nor writes sigstore's TUF cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sigstore

from tests.conftest import SHARED, shared_dir
from tests.integration.verify_scene_fixtures import keys_fixture  # noqa: F401 - `keys`
from tests.integration.verify_support.builder import KeyPair
from tests.integration.verify_support.scene import (
    Outcome,
    RunCli,
    Scene,
    assert_denied,
    clean_environment,
    run_verify,
)

ASSETS = SHARED / "sigstore-assets"
OBSERVED_WITH = "4.5.1"
SIGNATURE = "attestation.signature"
UNSIGNED = "decision.unsigned"


def _case_names() -> list[str]:
    if not ASSETS.is_dir():
        return ["(absent)"]
    return sorted(p.name for p in ASSETS.iterdir() if (p / "case.json").is_file())


@pytest.fixture
def scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[KeyPair, KeyPair]
) -> Iterator[Scene]:
    clean_environment(monkeypatch, tmp_path)
    yield Scene(tmp_path, *keys)
    assert not (tmp_path / "xdg").exists(), "verification touched sigstore's TUF cache"


def _asset(name: str) -> tuple[Path, dict[str, Any]]:
    """An asset's folder under ../shared (skip when absent) and its case.json."""
    folder = shared_dir("sigstore-assets") / name
    case: dict[str, Any] = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    return folder, case


def _verify_bundle(run_cli: RunCli, scene: Scene, folder: Path, case: dict[str, Any]) -> Outcome:
    """verify the case's bundle as the attestation of the scene's (valid) bag.json."""
    argv = scene.args(
        "--identity", case["identity"],
        "--trusted-root", folder / case["trusted_root"],
        keyless=True,
    )  # fmt: skip
    index = argv.index("--attestation")
    argv[index + 1] = folder / case["bundle"]
    return run_verify(run_cli, argv, scene.out)


def _assert_only(outcome: Outcome, code: str) -> dict[str, str]:
    """A deny whose only reasons are ``code`` and `decision.unsigned`.

    Keyless verify signs its decision keylessly too, and this machine has no OIDC token: the
    decision is written as a deny carrying `decision.unsigned`, exit 3 (the contract).
    """
    found = assert_denied(outcome, code, exit_code=3)
    assert sorted(set(outcome.codes)) == sorted({code, UNSIGNED}), outcome.explain()
    assert outcome.codes.count(code) == 1, outcome.explain()
    return found[0]


@pytest.mark.parametrize("name", _case_names())
def test_each_real_bundle_is_decided_for_its_stated_reason(
    scene: Scene, run_cli: RunCli, name: str
) -> None:
    folder, case = _asset(name)
    outcome = _verify_bundle(run_cli, scene, folder, case)
    if case["kind"] == "message_signature":
        reason = _assert_only(outcome, SIGNATURE)
        assert "message signature, not a DSSE envelope" in reason["message"], reason
        return
    assert case["kind"] == "dsse", case
    if case["expect"] == "fail":
        reason = _assert_only(outcome, SIGNATURE)
        if sigstore.__version__ == OBSERVED_WITH:
            assert case["error_contains"] in reason["message"], (case, reason)
        return
    assert case["expect"] == "pass", case
    reason = _assert_only(outcome, "attestation.predicate")
    assert "https://slsa.dev/provenance/v1" in reason["message"], reason


def test_a_passing_bundle_checked_against_another_identity_is_a_signature_deny(
    scene: Scene, run_cli: RunCli
) -> None:
    """The control: the same good bundle, another repository's workflow as the identity."""
    folder, case = _asset("pass-dsse-intoto-gha-prod")
    case["identity"] = (
        "https://github.com/octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main"
    )
    outcome = _verify_bundle(run_cli, scene, folder, case)
    reason = _assert_only(outcome, SIGNATURE)
    if sigstore.__version__ == OBSERVED_WITH:
        assert "Certificate's SANs do not match" in reason["message"], reason


def test_a_passing_bundle_checked_against_the_wrong_instance_root_is_a_signature_deny(
    scene: Scene, run_cli: RunCli
) -> None:
    """A production bundle against the staging root: the chain cannot be built."""
    prod, case = _asset("pass-dsse-intoto-gha-prod")
    staging = ASSETS / "pass-dsse-intoto-gha-staging-rekor2" / "trusted_root.json"
    case["trusted_root"] = str(staging)
    outcome = _verify_bundle(run_cli, scene, prod, case)
    _assert_only(outcome, SIGNATURE)


def test_a_bundle_whose_json_was_tampered_with_is_refused(
    scene: Scene, run_cli: RunCli, tmp_path: Path
) -> None:
    """A duplicated key, read differently by different parsers: refused before sigstore."""
    prod, case = _asset("pass-dsse-intoto-gha-prod")
    text = (prod / case["bundle"]).read_text(encoding="utf-8")
    forged = tmp_path / "forged" / "bundle.sigstore.json"
    forged.parent.mkdir()
    forged.write_text(text.replace('"mediaType"', '"mediaType": "x", "mediaType"', 1))
    case["bundle"] = str(forged)
    case["trusted_root"] = str(prod / case["trusted_root"])
    outcome = _verify_bundle(run_cli, scene, prod, case)
    found = assert_denied(outcome, "attestation.unreadable", SIGNATURE, exit_code=3)
    assert "duplicate key" in found[0]["message"], found
