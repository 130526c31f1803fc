"""The policy loader on valid files: every section and form, the defaults, and the file API."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.bag.env import RISKY_ENV_PREFIXES, RISKY_ENV_VARS
from envsecops.model.decision import Mode
from envsecops.policy.ledger import S3Settings
from envsecops.policy.load import load_policy_file, load_policy_text
from envsecops.policy.load_components import default_forbidden
from envsecops.policy.model import (
    DEFAULT_MAX_ATTESTATION_AGE,
    ActionRule,
    DigestRule,
    EnvAllow,
    PackageRule,
    RunnerPolicy,
    ToolRule,
    VersionedName,
)
from tests.unit.policy.load_support import (
    D1,
    D2,
    D3,
    DISPLAY,
    FULL,
    SHA1,
    SHA2,
    VALID,
    load,
    write_policy,
)


def test_every_section_of_the_full_policy(tmp_path: Path) -> None:
    policy = load(tmp_path, FULL)
    assert (policy.name, policy.source, policy.mode) == ("payments-deploy", DISPLAY, Mode.AUDIT)
    assert policy.max_attestation_age == 90
    assert policy.runner == RunnerPolicy(
        environments=("github-hosted", "self-hosted"),
        images=(
            VersionedName("ubuntu24", ("20251110.*",), 9),
            VersionedName("ubuntu22", (), 11),
        ),
        os=(VersionedName("ubuntu", ("24.04", "3.10"), 13),),
        arch=("x86_64", "aarch64"),
        containers=(),
        line=7,
    )
    assert policy.binaries == (
        DigestRule("/usr/bin/git", (D1,), 18),
        DigestRule("python3*", (D1, D2), 19),
    )
    assert policy.tool_cache == (
        ToolRule("Python", "3.10", (D3,), 22),
        ToolRule("Python", "3.12.*", (D2,), 23),
    )
    assert policy.packages.allow == (
        PackageRule("pkg:deb/ubuntu/*", None, None, 26),
        PackageRule("pkg:pypi/requests", ">=2.32.0,<3", None, 27),
        PackageRule("pkg:npm/%40babel/core", ("7.26.0", "7.25.*"), None, 29),
    )
    assert policy.packages.deny == (
        PackageRule("pkg:pypi/urllib3", "<2.2.2", "CVE-2024-37891", 32),
    )
    assert policy.configs == (
        DigestRule("/etc/apt/sources.list", (D1,), 36),
        DigestRule("~/.npmrc", (), 37, withheld=True),
        DigestRule(".git/config", (D2, D3), 38),
    )
    assert policy.env.allowed == (
        EnvAllow("NODE_OPTIONS", (D1,), 42),
        EnvAllow("PYTHONPATH", None, 43),
    )
    assert policy.actions == (
        ActionRule("actions/checkout", (SHA1,), False, 45),
        ActionRule("actions/setup-python", (SHA2,), False, 46),
        ActionRule("my-org/*", None, False, 47),
        ActionRule("some/composite", (SHA1, SHA2), True, 48),
        ActionRule("other/composite", None, False, 51),
    )
    assert policy.sbom.deny == (
        PackageRule("pkg:pypi/ultralytics", ("8.3.41", "8.3.42"), "compromised release", 56),
    )
    assert policy.rule_count() == 2 + 2 + 3 + 1 + 3 + 2 + 5 + 1
    assert not policy.empty_allowlist


def test_pins_credentials_and_ledger_of_the_full_policy(tmp_path: Path) -> None:
    path = write_policy(tmp_path, FULL)
    policy = load_policy_file(path, DISPLAY)
    repo = path.parent.parent
    (exception,) = policy.pins.exceptions
    assert (exception.rule, exception.line) == ("unpinned-uses", 61)
    assert policy.pins.exclude == ("tests/fixtures/**",)
    assert policy.pins.root == repo
    assert policy.credentials.max_lifetime == 3600
    aws, gcp, vault = policy.credentials.providers
    assert aws.provider == "aws"
    assert aws.get("role-arn") == "arn:aws-us-gov:iam::123456789012:role/path/deploy"
    assert aws.get("session-duration") is None
    assert gcp.get("service-account") == "deploy@my-project.iam.gserviceaccount.com"
    assert (vault.get("url"), vault.get("namespace")) == (
        "https://vault.example.com:8200",
        "admin/ci",
    )
    assert policy.ledger is not None
    assert policy.ledger.file == repo / ".envsecops" / "ledger.jsonl"


def test_defaults_of_a_minimal_policy(tmp_path: Path) -> None:
    policy = load(tmp_path, VALID["minimal"])
    assert policy.mode is Mode.ENFORCE
    assert policy.max_attestation_age == DEFAULT_MAX_ATTESTATION_AGE == 600
    assert policy.runner == RunnerPolicy(line=0)
    assert policy.runner.environments == ("github-hosted",)
    assert (policy.runner.images, policy.runner.os, policy.runner.arch) == (None, None, None)
    assert policy.runner.containers is None
    assert policy.env.forbidden is None
    assert policy.env.allowed == ()
    assert policy.credentials.max_lifetime is None
    assert policy.credentials.providers == ()
    assert policy.ledger is None
    assert policy.pins.exceptions == ()
    assert policy.binaries == (DigestRule("git", (D1,), 3),)


@pytest.mark.parametrize("name", ["pins-only", "empty-sections", "s3-ledger"])
def test_a_policy_that_allows_nothing_loads_with_empty_allowlist(tmp_path: Path, name: str) -> None:
    policy = load(tmp_path, VALID[name])
    assert policy.empty_allowlist
    assert policy.rule_count() == 0


@pytest.mark.parametrize(
    "section",
    [
        f"binaries: {{git: {D1}}}",
        f"tool-cache: {{node: {{'22.*': {D1}}}}}",
        "packages: {allow: [{purl: 'pkg:pypi/*'}]}",
        f"configs: {{/etc/hosts: {D1}}}",
        f"actions: {{a/b: [{SHA1}]}}",
    ],
)
def test_any_allow_section_makes_the_allowlist_non_empty(tmp_path: Path, section: str) -> None:
    assert not load(tmp_path, f"name: x\n{section}\n").empty_allowlist


@pytest.mark.parametrize(
    "section",
    ["packages: {deny: [{purl: 'pkg:pypi/*'}]}", "env: {allowed: {LD_PRELOAD: any}}"],
)
def test_deny_rules_and_env_exceptions_allow_nothing(tmp_path: Path, section: str) -> None:
    assert load(tmp_path, f"name: x\n{section}\n").empty_allowlist


@pytest.mark.parametrize("written", ["3.10", '"3.10"', "'3.10'"])
def test_3_10_stays_the_text_3_10(tmp_path: Path, written: str) -> None:
    text = (
        "name: x\n"
        f"runner:\n  os:\n    - id: ubuntu\n      versions: [{written}]\n"
        f"tool-cache:\n  Python:\n    {written}: {D1}\n"
        f"packages:\n  allow:\n    - purl: pkg:pypi/x\n      versions: [{written}, 2.0, 010]\n"
    )
    policy = load(tmp_path, text)
    assert policy.runner.os is not None
    assert policy.runner.os[0].versions == ("3.10",)
    assert policy.tool_cache[0].version == "3.10"
    assert policy.packages.allow[0].versions == ("3.10", "2.0", "010")


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("1s", 1), ("90s", 90), ("10m", 600), ("1h", 3600), ("24h", 86400), ("1440m", 86400)],
)
def test_max_attestation_age_forms(tmp_path: Path, written: str, seconds: int) -> None:
    policy = load(tmp_path, f"name: x\nmax-attestation-age: {written}\n")
    assert policy.max_attestation_age == seconds


@pytest.mark.parametrize(("written", "seconds"), [("15m", 900), ("900s", 900), ("12h", 43200)])
def test_credential_lifetime_bounds_without_aws(tmp_path: Path, written: str, seconds: int) -> None:
    policy = load(tmp_path, f"name: x\ncredentials:\n  max-lifetime: {written}\n")
    assert policy.credentials.max_lifetime == seconds


def test_env_default_expands_to_the_risky_list_in_place(tmp_path: Path) -> None:
    policy = load(tmp_path, "name: x\nenv:\n  forbidden: [MY_HOOK, default, LD_PRELOAD]\n")
    forbidden = policy.env.forbidden
    assert forbidden is not None
    assert forbidden[0] == "MY_HOOK"
    assert set(forbidden[1:]) == set(RISKY_ENV_VARS) | {f"{p}*" for p in RISKY_ENV_PREFIXES}
    assert forbidden.count("LD_PRELOAD") == 1
    assert forbidden[1:] == default_forbidden()


def test_env_forbidden_empty_forbids_nothing(tmp_path: Path) -> None:
    policy = load(tmp_path, "name: x\nenv:\n  forbidden: []\n")
    assert policy.env.forbidden == ()


def test_quoted_default_is_still_a_name_check(tmp_path: Path) -> None:
    policy = load(tmp_path, "name: x\nenv:\n  forbidden: ['default']\n")
    assert policy.env.forbidden == ("default",)


def test_versions_and_version_number_forms(tmp_path: Path) -> None:
    for version in ("1", '"1"', "'1'"):
        assert load(tmp_path, f"version: {version}\nname: x\n").name == "x"


def test_anchors_and_merges_are_followed(tmp_path: Path) -> None:
    policy = load(tmp_path, VALID["anchors"])
    assert policy.binaries[0].digests == policy.binaries[1].digests == (D1, D2)
    merged = load(
        tmp_path,
        f"name: x\nactions:\n  a/b: &base {{shas: [{SHA1}]}}\n"
        "  c/d:\n    <<: *base\n    allow-pin-findings: true\n",
    )
    assert merged.actions[1] == ActionRule("c/d", (SHA1,), True, 4)


def test_load_policy_text_with_and_without_a_root(tmp_path: Path) -> None:
    text = "name: x\nledger:\n  file: ledger.jsonl\npins:\n  exclude: [a]\n"
    bare = load_policy_text(text, "inline")
    assert bare.source == "inline"
    assert bare.ledger is not None
    assert bare.ledger.file == Path("ledger.jsonl")
    assert bare.pins.root is None
    rooted = load_policy_text(text, "inline", root=tmp_path)
    assert rooted.ledger is not None
    assert rooted.ledger.file == tmp_path / "ledger.jsonl"
    assert rooted.pins.root == tmp_path


def test_a_policy_outside_dot_github_is_rooted_at_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("name: x\npins:\n  exclude: [a]\n", encoding="utf-8")
    policy = load_policy_file(path)
    assert policy.source == path.as_posix()
    assert policy.pins.root == tmp_path


def test_s3_ledger_section(tmp_path: Path) -> None:
    policy = load(tmp_path, VALID["s3-ledger"])
    assert policy.ledger is not None
    assert policy.ledger.s3 == S3Settings("org-envsecops-ledger", "ledger", "eu-west-1", 365)


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_valid_policy_loads(tmp_path: Path, name: str) -> None:
    policy = load(tmp_path, VALID[name])
    assert policy.policy_id.startswith(policy.name + "@sha256:")
