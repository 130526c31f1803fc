"""`envsecops verify` with a policy that is missing, empty or cannot be loaded: a written deny
naming the file, line and column and the fix, never allow-all; and audit mode, which may
record a deny without failing the step but never turns it into an allow.

The attestation in every case is good (it is allowed by the matching policy in the control
test of test_verify_bad_input.py), so the only reason to deny is the policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envsecops.attest.binding import Binding
from tests.integration.verify_scene_fixtures import keys_fixture, scene_fixture  # noqa: F401
from tests.integration.verify_support.builder import (
    BINARY,
    ENVIRONMENTS,
    binary_digest,
    write_policy,
)
from tests.integration.verify_support.scene import (
    RunCli,
    Scene,
    assert_allowed,
    assert_denied,
    run_verify,
)

INIT_FIX = "envsecops policy init --from bag.json"
SHA = "0123456789abcdef0123456789abcdef01234567"


def _valid_head(scene: Scene) -> str:
    return (
        "name: verify-bad-input\n"
        f"runner:\n  environments: {ENVIRONMENTS}\n"
        f"binaries:\n  {BINARY}: [{binary_digest(scene.root)}]\n"
    )


def _denied_by_policy(scene: Scene, run_cli: RunCli, text: str, *, line: int | str) -> str:
    """Verify under ``text``; the deny must be policy.invalid at ``envsecops.yml:LINE:COL``
    (``line`` may be an alternation like ``7|8`` where key and value lines both name it)."""
    policy = write_policy(scene.tmp / "bad", text)
    outcome = run_verify(run_cli, scene.args(policy=policy), scene.out)
    found = assert_denied(outcome, "policy.invalid")
    message = found[0]["message"]
    assert re.search(rf"envsecops\.yml:({line}):\d+", message), (line, message)
    assert outcome.decision is not None
    assert set(outcome.codes) <= {"policy.invalid"}, outcome.explain()
    return message


@pytest.mark.parametrize(
    ("tail", "line"),
    [
        pytest.param("runnr:\n  environments: [unknown]\n", 6, id="top-level"),
        pytest.param("packages:\n  allow:\n    - purl: pkg:deb/ubuntu/*\n      verison: '1'\n", 9,
                     id="nested"),
        pytest.param(f"actions:\n  some/composite:\n    shas: [{SHA}]\n    pin: true\n", 9,
                     id="action-setting"),
    ],
)  # fmt: skip
def test_a_policy_with_an_unknown_key_is_denied(
    scene: Scene, run_cli: RunCli, tail: str, line: int
) -> None:
    _denied_by_policy(scene, run_cli, _valid_head(scene) + tail, line=line)


@pytest.mark.parametrize(
    ("tail", "line"),
    [
        pytest.param("tool-cache: [Python]\n", 6, id="list-for-a-mapping"),
        pytest.param("env:\n  forbidden:\n    LD_PRELOAD: true\n", "7|8", id="mapping-for-a-list"),
        pytest.param("max-attestation-age: [10m]\n", 6, id="list-for-a-duration"),
        pytest.param("mode: strict\n", 6, id="unknown-mode"),
        pytest.param("max-attestation-age: 48h\n", 6, id="duration-out-of-range"),
        pytest.param("configs:\n  /etc/hosts: md5:abc\n", 7, id="not-a-sha256-digest"),
    ],
)
def test_a_policy_with_a_wrong_type_is_denied(
    scene: Scene, run_cli: RunCli, tail: str, line: int | str
) -> None:
    _denied_by_policy(scene, run_cli, _valid_head(scene) + tail, line=line)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n"])
def test_yaml_1_1_booleans_are_refused_with_the_fix(
    scene: Scene, run_cli: RunCli, word: str
) -> None:
    tail = f"actions:\n  some/composite:\n    shas: [{SHA}]\n    allow-pin-findings: {word}\n"
    message = _denied_by_policy(scene, run_cli, _valid_head(scene) + tail, line=9)
    assert "true or false" in message, message


def test_a_number_like_3_10_is_not_a_duration(scene: Scene, run_cli: RunCli) -> None:
    """YAML 1.1 reads `3.10` as the float 3.1; here it is the text `3.10`, not a duration."""
    text = _valid_head(scene) + "max-attestation-age: 3.10\n"
    message = _denied_by_policy(scene, run_cli, text, line=6)
    assert "3.10" in message, message


def test_a_number_like_3_10_is_kept_as_written(scene: Scene, run_cli: RunCli) -> None:
    """`name: 3.10` is the name "3.10" (not 3.1): the policy id says so."""
    head = _valid_head(scene).replace("name: verify-bad-input", "name: 3.10")
    policy = write_policy(scene.tmp / "named", head)
    outcome = run_verify(run_cli, scene.args(policy=policy), scene.out)
    assert_allowed(outcome)
    assert outcome.decision is not None
    assert outcome.decision["policy_id"].startswith("3.10@sha256:"), outcome.decision


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("binaries:\n  /usr/bin/env: [sha256:{z}]\n", 6, id="top-level"),
        pytest.param("name: again\n", 6, id="name-twice"),
    ],
)
def test_a_policy_with_a_duplicate_key_is_denied(
    scene: Scene, run_cli: RunCli, text: str, line: int
) -> None:
    tail = text.replace("{z}", "0" * 64)
    message = _denied_by_policy(scene, run_cli, _valid_head(scene) + tail, line=line)
    assert "duplicate" in message.lower(), message


def test_a_duplicate_key_inside_a_mapping_is_denied(scene: Scene, run_cli: RunCli) -> None:
    digest = binary_digest(scene.root)
    tail = f"  {BINARY}: [{digest}]\n"  # the binaries mapping, continued: a second /usr/bin/true
    message = _denied_by_policy(scene, run_cli, _valid_head(scene) + tail, line=6)
    assert "duplicate" in message.lower(), message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("name: nothing-allowed\n", id="name-only"),
        pytest.param(f"name: runner-only\nrunner:\n  environments: {ENVIRONMENTS}\n", id="runner"),
        pytest.param("name: env-only\nenv:\n  forbidden: [default]\n", id="env-only"),
        pytest.param("name: pins-only\npins:\n  exclude: ['vendor/**']\n", id="pins-only"),
    ],
)
def test_an_empty_allowlist_is_a_deny_with_the_fix_never_allow_all(
    scene: Scene, run_cli: RunCli, text: str
) -> None:
    policy = write_policy(scene.tmp / "empty", text)
    outcome = run_verify(run_cli, scene.args(policy=policy), scene.out)
    assert_denied(outcome, "policy.empty", contains=INIT_FIX)


def test_a_missing_policy_file_is_a_deny_with_the_fix(scene: Scene, run_cli: RunCli) -> None:
    missing = scene.tmp / "nowhere" / ".github" / "envsecops.yml"
    outcome = run_verify(run_cli, scene.args(policy=missing), scene.out)
    found = assert_denied(outcome, "policy.missing", contains=INIT_FIX)
    assert any("envsecops.yml" in r["message"] for r in found), found


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("name: [unclosed\nbinaries: {\n", id="not-yaml"),
        pytest.param("", id="empty-file"),
        pytest.param("# only a comment\n", id="only-a-comment"),
        pytest.param("name: a\n---\nname: b\n", id="two-documents"),
        pytest.param("- name: a\n", id="a-list"),
        pytest.param("name: &x a\nmode: *x\n", id="alias"),
        pytest.param("version: '2'\nname: a\n", id="version-2"),
        pytest.param("name: a b c\n", id="bad-name"),
        pytest.param("name: a\x00b\n", id="nul-byte"),
    ],
)
def test_a_policy_that_cannot_be_read_as_one_policy_document_is_denied(
    scene: Scene, run_cli: RunCli, text: str
) -> None:
    policy = write_policy(scene.tmp / "garbage", text)
    outcome = run_verify(run_cli, scene.args(policy=policy), scene.out)
    assert_denied(outcome, "policy.invalid", contains="envsecops.yml")


def test_a_policy_path_that_is_a_directory_is_denied(scene: Scene, run_cli: RunCli) -> None:
    folder = scene.tmp / "folder" / ".github" / "envsecops.yml"
    folder.mkdir(parents=True)
    outcome = run_verify(run_cli, scene.args(policy=folder), scene.out)
    assert_denied(outcome, "policy.invalid", "policy.missing", contains="envsecops.yml")


def test_a_policy_that_is_not_utf8_is_denied(scene: Scene, run_cli: RunCli) -> None:
    policy = write_policy(scene.tmp / "latin1", "name: x\n")
    policy.write_bytes(b"name: caf\xe9\n")
    outcome = run_verify(run_cli, scene.args(policy=policy), scene.out)
    assert_denied(outcome, "policy.invalid", contains="envsecops.yml")


def test_mode_audit_cannot_rescue_a_policy_that_does_not_load(
    scene: Scene, run_cli: RunCli
) -> None:
    """With no policy loaded there is no mode to honour: enforce, exit 1."""
    missing = scene.tmp / "nowhere" / ".github" / "envsecops.yml"
    outcome = run_verify(run_cli, scene.args("--mode", "audit", policy=missing), scene.out)
    assert_denied(outcome, "policy.missing")
    assert outcome.decision is not None
    assert outcome.decision["mode"] == "enforce"


def test_an_audit_policy_still_writes_deny_for_a_bad_attestation(
    scene: Scene, run_cli: RunCli
) -> None:
    """Audit mode exits 0 but the decision says deny and why: never an allow."""
    outcome = run_verify(run_cli, _stranger_under_audit_policy(scene), scene.out)
    assert_denied(outcome, "attestation.signature", exit_code=0)
    assert outcome.decision is not None
    assert outcome.decision["mode"] == "audit"


def test_enforce_on_the_command_line_overrides_an_audit_policy(
    scene: Scene, run_cli: RunCli
) -> None:
    argv = _stranger_under_audit_policy(scene, "--mode", "enforce")
    outcome = run_verify(run_cli, argv, scene.out)
    assert_denied(outcome, "attestation.signature")


def _stranger_under_audit_policy(scene: Scene, *extra: str) -> list[str | Path]:
    """verify's arguments for a stranger-signed attestation under a policy in `mode: audit`."""
    policy = write_policy(scene.tmp / "audit", _valid_head(scene) + "mode: audit\n")
    stranger = scene.attest(_binding_of(scene), key=scene.other_key, name="stranger")
    return scene.args(*extra, attested=stranger, policy=policy)


def _binding_of(scene: Scene) -> Binding:
    return Binding.from_json(scene.attested.statement["predicate"]["binding"])
