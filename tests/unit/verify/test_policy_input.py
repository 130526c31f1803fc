"""Check 4a: reading the policy (file or default branch) and the mode it sets, as reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsecops.errors import InfraError, InputError, UsageError
from envsecops.model.decision import Mode
from envsecops.verify.policy_input import (
    Fetched,
    PolicyLoaders,
    PolicyRequest,
    effective_mode,
    obtain_policy,
    where,
)

POLICY = """\
version: "1"
name: unit
mode: {mode}
max-attestation-age: 5m
binaries:
  /usr/bin/git: [sha256:{digest}]
"""


@dataclass(frozen=True)
class Text:
    text: str
    source: str


def _file(tmp_path: Path, text: str) -> PolicyRequest:
    path = tmp_path / "envsecops.yml"
    path.write_text(text, encoding="utf-8")
    return PolicyRequest("local", "envsecops.yml", path=path)


def _good(mode: str = "enforce") -> str:
    return POLICY.format(mode=mode, digest="a" * 64)


def test_a_good_policy_loads_with_its_text(tmp_path: Path) -> None:
    check = obtain_policy(_file(tmp_path, _good()), PolicyLoaders.default())
    assert check.reasons == ()
    assert check.usable
    assert check.policy is not None
    assert check.policy.max_attestation_age == 300
    assert where(check, "max-attestation-age") == "envsecops.yml:4"
    assert where(check, "runner") == "the default, envsecops.yml does not set `runner`"


def test_missing_invalid_and_empty_policies_are_reasons(tmp_path: Path) -> None:
    loaders = PolicyLoaders.default()
    missing = obtain_policy(PolicyRequest("local", "absent.yml", path=tmp_path / "a"), loaders)
    assert [r.code for r in missing.reasons] == ["policy.missing"]
    assert "envsecops policy init --from bag.json" in missing.reasons[0].message
    invalid = obtain_policy(_file(tmp_path, _good() + "surprise: yes\n"), loaders)
    assert [r.code for r in invalid.reasons] == ["policy.invalid"]
    assert "envsecops.yml:7:1" in invalid.reasons[0].message
    assert invalid.policy is None
    empty = obtain_policy(_file(tmp_path, 'version: "1"\nname: empty\n'), loaders)
    assert [r.code for r in empty.reasons] == ["policy.empty"]
    assert empty.policy is not None
    assert not empty.usable


def _fetching(result: Fetched | Exception) -> PolicyLoaders:
    default = PolicyLoaders.default()

    def fetch(repository: str, path: str, token: str | None, api_url: str) -> Fetched:
        assert (repository, path, token, api_url) == ("o/r", ".github/p.yml", "t", "https://api")
        if isinstance(result, Exception):
            raise result
        return result

    return PolicyLoaders(default.load_file, default.load_text, fetch)


REMOTE = PolicyRequest(
    "default-branch",
    "o/r@default-branch:.github/p.yml",
    repository="o/r",
    repo_path=".github/p.yml",
    token="t",
    api_url="https://api",
)


def test_the_default_branch_copy_is_loaded_under_its_source() -> None:
    source = "o/r@main:.github/p.yml (commit abc)"
    check = obtain_policy(REMOTE, _fetching(Text(_good("audit"), source)))
    assert check.reasons == ()
    assert check.source == source
    assert check.policy is not None
    assert check.policy.source == source
    assert effective_mode(check, None) == (Mode.AUDIT, None)


@pytest.mark.parametrize(
    "error",
    [
        InfraError("the GitHub API at https://api answered 503"),
        InputError("no policy on the default branch", fix="merge one"),
    ],
)
def test_a_failed_fetch_is_a_fetch_reason(error: Exception) -> None:
    check = obtain_policy(REMOTE, _fetching(error))
    assert [r.code for r in check.reasons] == ["policy.fetch"]
    assert check.reasons[0].subject == "policy o/r@default-branch:.github/p.yml"
    assert str(error) in check.reasons[0].message


def test_a_fetch_that_cannot_be_attempted_is_a_fetch_reason() -> None:
    request = PolicyRequest("default-branch", "x", problem="no validated OIDC token")
    check = obtain_policy(request, _fetching(InfraError("never called")))
    assert [(r.code, r.message) for r in check.reasons] == [
        ("policy.fetch", "no validated OIDC token")
    ]


def test_a_fetched_policy_that_does_not_load_is_invalid() -> None:
    check = obtain_policy(REMOTE, _fetching(Text("name: [", "o/r@main:.github/p.yml")))
    assert [r.code for r in check.reasons] == ["policy.invalid"]
    assert "o/r@main:.github/p.yml:2:1: YAML syntax error" in check.reasons[0].message


def test_mode_may_only_be_raised(tmp_path: Path) -> None:
    loaders = PolicyLoaders.default()
    audit = obtain_policy(_file(tmp_path, _good("audit")), loaders)
    assert effective_mode(audit, "audit") == (Mode.AUDIT, None)
    mode, note = effective_mode(audit, "enforce")
    assert mode is Mode.ENFORCE
    assert note == "--mode enforce raised the policy's audit mode (envsecops.yml:3)"
    enforce = obtain_policy(_file(tmp_path, _good()), loaders)
    with pytest.raises(UsageError, match=r"lower the policy's enforce mode \(envsecops.yml:3\)"):
        effective_mode(enforce, "audit")
    unset = obtain_policy(_file(tmp_path, _good().replace("mode: enforce\n", "")), loaders)
    with pytest.raises(
        UsageError, match=re.escape("the default, envsecops.yml does not set `mode`")
    ):
        effective_mode(unset, "audit")
    nothing = obtain_policy(PolicyRequest("local", "a", path=tmp_path / "a"), loaders)
    mode, note = effective_mode(nothing, "audit")
    assert mode is Mode.ENFORCE
    assert note is not None
    assert "not applied" in note
