"""`envsecops verify` with a bad command line: exit 2 naming the flag or file, nothing written.

A usage error (an unreadable signing key, a malformed nonce, a --mode that would relax the
policy, an --out that cannot be a directory) is refused before any decision exists, so no
decision.json is left for a later step to mistake for one. An extra trusted key that cannot be
read is different: the attestation cannot be verified, which is a written deny.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.verify_scene_fixtures import keys_fixture, scene_fixture  # noqa: F401
from tests.integration.verify_support.builder import payload_of, write_policy
from tests.integration.verify_support.scene import (
    RunCli,
    Scene,
    assert_denied,
    assert_usage_error,
    run_verify,
)


def _replace(argv: list[str | Path], flag: str, value: str | Path) -> list[str | Path]:
    out = list(argv)
    out[out.index(flag) + 1] = value
    return out


def test_a_signing_key_that_cannot_be_read_is_a_usage_error(scene: Scene, run_cli: RunCli) -> None:
    missing = scene.tmp / "missing.pem"
    argv = _replace(scene.args(), "--key", missing)
    outcome = run_verify(run_cli, argv, scene.out)
    assert_usage_error(outcome, f"{missing}: cannot read the key")


def test_a_signing_key_that_is_not_a_key_is_a_usage_error(scene: Scene, run_cli: RunCli) -> None:
    garbage = scene.tmp / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    outcome = run_verify(run_cli, _replace(scene.args(), "--key", garbage), scene.out)
    assert_usage_error(outcome, str(garbage))


def test_no_signing_key_at_all_names_the_variable_and_the_flag(
    scene: Scene, run_cli: RunCli
) -> None:
    argv = scene.args()
    index = argv.index("--key")
    del argv[index : index + 2]
    outcome = run_verify(run_cli, argv, scene.out)
    assert_usage_error(outcome, "ENVSECOPS_SIGNING_KEY", "--key")


@pytest.mark.parametrize("nonce", ["short", "has spaces in it, sixteen+", "x" * 129])
def test_a_malformed_nonce_is_a_usage_error(scene: Scene, run_cli: RunCli, nonce: str) -> None:
    outcome = run_verify(run_cli, scene.args(nonce=nonce), scene.out)
    assert_usage_error(outcome, "--nonce")


def test_a_trusted_public_key_that_cannot_be_read_denies(scene: Scene, run_cli: RunCli) -> None:
    missing = scene.tmp / "extra.pub"
    outcome = run_verify(run_cli, scene.args("--public-key", missing), scene.out)
    if outcome.code == 2:
        assert_usage_error(outcome, str(missing))
    else:
        assert_denied(outcome, "attestation.signature", contains=str(missing))


def test_a_private_key_given_as_a_public_key_denies(scene: Scene, run_cli: RunCli) -> None:
    argv = scene.args("--public-key", scene.other_key.private)
    outcome = run_verify(run_cli, argv, scene.out)
    if outcome.code == 2:
        assert_usage_error(outcome, str(scene.other_key.private))
    else:
        assert_denied(outcome, "attestation.signature", contains="not a PEM public key")


def test_mode_audit_cannot_relax_an_enforce_policy(scene: Scene, run_cli: RunCli) -> None:
    outcome = run_verify(run_cli, scene.args("--mode", "audit"), scene.out)
    assert_usage_error(outcome, "--mode audit", "envsecops.yml")


def test_keyless_flags_in_key_mode_are_a_usage_error(scene: Scene, run_cli: RunCli) -> None:
    argv = scene.args("--trusted-root", scene.tmp / "trusted_root.json")
    outcome = run_verify(run_cli, argv, scene.out)
    assert_usage_error(outcome, "--trusted-root")


def test_policy_source_default_branch_outside_actions_needs_the_repository(
    scene: Scene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY")
    argv = scene.args("--policy-source", "default-branch", policy=Path(".github/envsecops.yml"))
    outcome = run_verify(run_cli, argv, scene.out)
    assert_usage_error(outcome, "GITHUB_REPOSITORY")


@pytest.mark.parametrize("policy", ["../outside.yml", "/etc/envsecops.yml", ".github/../../x.yml"])
def test_a_default_branch_policy_path_outside_the_repository_is_a_usage_error(
    scene: Scene, run_cli: RunCli, policy: str
) -> None:
    argv = scene.args("--policy-source", "default-branch", policy=Path(policy))
    outcome = run_verify(run_cli, argv, scene.out)
    assert_usage_error(outcome, f"--policy {policy}")


@pytest.mark.parametrize("kind", ["under-a-file", "is-a-file"])
def test_an_out_dir_that_cannot_be_written_is_a_usage_error(
    scene: Scene, run_cli: RunCli, kind: str
) -> None:
    """Running as root, permissions do not stop a write; a regular file in the way does."""
    blocker = scene.tmp / "blocker"
    blocker.write_text("not a directory\n")
    out = blocker / "decision" if kind == "under-a-file" else blocker
    outcome = run_verify(run_cli, scene.args(out=out), out)
    assert_usage_error(outcome, f"--out {out}")
    assert blocker.read_text() == "not a directory\n"


def test_an_out_dir_holding_a_stale_allow_is_overwritten_by_the_deny(
    scene: Scene, run_cli: RunCli
) -> None:
    """A decision dir reused across runs: an old signed allow must not survive a new deny."""
    allowed = run_verify(run_cli, scene.args(), scene.out)
    assert allowed.code == 0, allowed.explain()
    assert (scene.out / "decision.dsse.json").is_file()
    empty = write_policy(scene.tmp / "empty", "name: nothing\n")
    denied = run_verify(run_cli, scene.args(policy=empty), scene.out)
    assert_denied(denied, "policy.empty")
    statement = payload_of((scene.out / "decision.dsse.json").read_bytes())
    assert statement["predicate"]["verdict"] == "deny", "the signed decision is the new deny"
    assert statement["predicate"] == denied.decision
