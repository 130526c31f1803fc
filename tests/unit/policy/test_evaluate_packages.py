"""evaluate() over packages and sbom gates: purl patterns, PEP 440 ranges, Debian versions, deny."""

from __future__ import annotations

import dataclasses

import pytest

from envsecops.model.bag import Component
from envsecops.model.decision import Reason
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import PackageRule, PackagesPolicy, SbomPolicy, ToolRule
from envsecops.policy.rules.purl_base import base_purl
from envsecops.policy.rules.purls import VersionMatch
from envsecops.policy.rules.versions import VersionCache
from tests.unit.policy.evaluate_support import (
    SHA,
    SOURCE,
    action,
    allowing,
    binary,
    codes,
    digest,
    make_bag,
    package,
    tool,
)

GIT_DEB = package(
    "pkg:deb/ubuntu/git@1%3A2.39.2-1.1?arch=amd64&distro=ubuntu-24.04", "1:2.39.2-1.1"
)
REQUESTS = package("pkg:pypi/requests@2.31.0", "2.31.0", "requests", "python-packages")
ANGULAR = package("pkg:npm/%40angular/core@17.0.0", "17.0.0", "@angular/core", "node-packages")
BIN = binary("/usr/bin/git")


def _allow(*rules: PackageRule, deny: tuple[PackageRule, ...] = ()) -> PackagesPolicy:
    return PackagesPolicy(allow=rules, deny=deny)


def _run(
    component: Component, packages: PackagesPolicy, sbom: SbomPolicy | None = None
) -> list[Reason]:
    bag = make_bag(BIN, component)
    extra = {"sbom": sbom} if sbom is not None else {}
    return evaluate(allowing(make_bag(BIN), packages=packages, **extra), bag)


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        ("pkg:pypi/requests@2.31.0", "pkg:pypi/requests"),
        ("pkg:PyPI/Typing_Extensions@4.0", "pkg:pypi/typing-extensions"),
        ("pkg:deb/ubuntu/git@1%3A2.39.2-1.1?arch=amd64&distro=ubuntu-24.04", "pkg:deb/ubuntu/git"),
        ("pkg:npm/%40angular/core@17.0.0", "pkg:npm/@angular/core"),
        ("pkg:npm/@angular/core", "pkg:npm/@angular/core"),
        ("pkg:npm/Left-Pad@1.0", "pkg:npm/Left-Pad"),
        ("pkg:github/Actions/Checkout@v4#sub/dir", "pkg:github/actions/checkout"),
        ("pkg:generic/Python@3.12.7?arch=x64", "pkg:generic/Python"),
        ("pkg:deb/ubuntu/*", "pkg:deb/ubuntu/*"),
        ("pkg://pypi/requests", "pkg:pypi/requests"),
        ("pkg:golang/github.com/Foo/bar@v1", "pkg:golang/github.com/Foo/bar"),
    ],
)
def test_base_purl(purl: str, expected: str) -> None:
    assert base_purl(purl) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "pkg:pypi/requests",
        "pkg:pypi/Requests",
        "pkg:pypi/*",
        "pkg:*/requests",
        "pkg:*",
        "pkg:pypi/req*",
    ],
)
def test_purl_patterns_allow(pattern: str) -> None:
    assert _run(REQUESTS, _allow(PackageRule(pattern, line=50))) == []


@pytest.mark.parametrize("pattern", ["pkg:pypi/request", "pkg:npm/requests", "pkg:pypi/requests/x"])
def test_purl_patterns_that_do_not_match(pattern: str) -> None:
    reasons = _run(REQUESTS, _allow(PackageRule(pattern, line=50)))
    assert codes(reasons) == [("package.unlisted", "package pkg:pypi/requests@2.31.0")]
    assert '`- {purl: pkg:pypi/requests, versions: ["2.31.0"]}`' in reasons[0].message


def test_a_scoped_npm_pattern_matches_encoded_and_plain() -> None:
    for pattern in ("pkg:npm/@angular/*", "pkg:npm/%40angular/core"):
        assert _run(ANGULAR, _allow(PackageRule(pattern, line=50))) == []


@pytest.mark.parametrize(
    ("versions", "allowed"),
    [
        (None, True),
        (("2.31.0",), True),
        (("2.31.*",), True),
        (("2.30.0", "2.31.0"), True),
        (("2.31",), False),
        (">=2.31,<3", True),
        ("==2.31.*", True),
        ("<2.31.0", False),
        ("~=2.30.0", False),
    ],
)
def test_pypi_versions(versions: str | tuple[str, ...] | None, allowed: bool) -> None:
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:pypi/requests", versions, line=50)))
    assert codes(reasons) == ([] if allowed else [("package.version", REQUESTS_SUBJECT)])
    if not allowed:
        assert f"{SOURCE}:50" in reasons[0].message


REQUESTS_SUBJECT = "package pkg:pypi/requests@2.31.0"
GIT_SUBJECT = f"package {GIT_DEB.purl}"


def test_a_pre_release_inside_a_range_is_inside() -> None:
    beta = package("pkg:pypi/requests@2.32.0rc1", "2.32.0rc1")
    assert _run(beta, _allow(PackageRule("pkg:pypi/requests", ">=2.31", line=50))) == []


@pytest.mark.parametrize("versions", [("1:2.39.2-1.1",), ("1:2.39.*",), None])
def test_debian_versions_listed_exactly_or_by_glob(versions: tuple[str, ...] | None) -> None:
    assert _run(GIT_DEB, _allow(PackageRule("pkg:deb/ubuntu/git", versions, line=50))) == []


def test_a_debian_version_cannot_satisfy_an_allow_range() -> None:
    reasons = _run(GIT_DEB, _allow(PackageRule("pkg:deb/ubuntu/git", ">=2", line=50)))
    assert codes(reasons) == [("package.version", GIT_SUBJECT)]
    assert "1:2.39.2-1.1 is not a PEP 440 version" in reasons[0].message
    assert 'list exact versions instead (`versions: ["1:2.39.2-1.1"]`)' in reasons[0].message


def test_an_unreadable_range_admits_nothing() -> None:
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:pypi/requests", "latest!", line=50)))
    assert codes(reasons) == [("package.version", REQUESTS_SUBJECT)]
    assert "not a PEP 440 specifier set" in reasons[0].message


def test_a_package_without_a_version_only_matches_any_version() -> None:
    bare = dataclasses.replace(REQUESTS, version=None)
    assert _run(bare, _allow(PackageRule("pkg:pypi/requests", line=50))) == []
    reasons = _run(bare, _allow(PackageRule("pkg:pypi/requests", ("1",), line=50)))
    assert [r.code for r in reasons] == ["package.version"]
    assert "it has no version" in reasons[0].message


def test_any_matching_allow_rule_suffices() -> None:
    rules = (
        PackageRule("pkg:pypi/*", ("1.0",), line=50),
        PackageRule("pkg:pypi/requests", ">=2", line=51),
    )
    assert _run(REQUESTS, _allow(*rules)) == []


def test_a_package_without_a_purl_is_unlisted() -> None:
    nameless = dataclasses.replace(REQUESTS, purl=None)
    reasons = _run(nameless, _allow(PackageRule("pkg:*", line=50)))
    assert [r.code for r in reasons] == ["package.unlisted"]
    assert "has no purl" in reasons[0].message


# --- deny --------------------------------------------------------------------------------------


def test_deny_beats_allow() -> None:
    deny = (PackageRule("pkg:pypi/requests", "<2.32.0", "CVE-2024-35195", 60),)
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:pypi/*", line=50), deny=deny))
    assert codes(reasons) == [("package.denied", REQUESTS_SUBJECT)]
    assert f"{SOURCE}:60" in reasons[0].message
    assert "`CVE-2024-35195`" in reasons[0].message


def test_a_denied_and_unlisted_package_gets_both_reasons() -> None:
    deny = (PackageRule("pkg:pypi/requests", line=60),)
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:npm/*", line=50), deny=deny))
    assert codes(reasons) == [
        ("package.denied", REQUESTS_SUBJECT),
        ("package.unlisted", REQUESTS_SUBJECT),
    ]


@pytest.mark.parametrize(
    ("versions", "denied"),
    [(">=2.32", False), ("<2.32", True), (("2.31.0",), True), (("2.30.*",), False), (None, True)],
)
def test_deny_versions(versions: str | tuple[str, ...] | None, denied: bool) -> None:
    deny = (PackageRule("pkg:pypi/requests", versions, line=60),)
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:pypi/*", line=50), deny=deny))
    assert codes(reasons) == ([("package.denied", REQUESTS_SUBJECT)] if denied else [])


def test_a_deny_range_over_a_debian_version_fails_closed() -> None:
    deny = (PackageRule("pkg:deb/ubuntu/git", ">=3", line=60),)
    reasons = _run(GIT_DEB, _allow(PackageRule("pkg:deb/*", line=50), deny=deny))
    assert codes(reasons) == [("package.denied", GIT_SUBJECT)]
    assert "not a PEP 440 version" in reasons[0].message
    assert "fail closed" in reasons[0].message


def test_a_deny_pattern_is_case_folded_for_case_insensitive_types() -> None:
    pyyaml = package("pkg:pypi/pyyaml@6.0", "6.0", "PyYAML", "python-packages")
    deny = (PackageRule("pkg:pypi/PyYAML", line=60),)
    reasons = _run(pyyaml, _allow(PackageRule("pkg:*", line=50), deny=deny))
    assert [r.code for r in reasons] == ["package.denied"]


def test_version_match_describe_and_deny_notes() -> None:
    assert VersionMatch(None).describe() == "any version"
    assert VersionMatch(">=1").describe() == "versions `>=1`"
    assert VersionMatch(("1", "2")).describe() == "versions `1` and `2`"
    hit, note = VersionMatch("nonsense range").denies("1.0", VersionCache())
    assert hit
    assert "cannot be read" in note
    hit, note = VersionMatch(("1.0",)).denies(None, VersionCache())
    assert hit
    assert "no version" in note


# --- sbom gates ---------------------------------------------------------------------------------


def test_sbom_gates_deny_packages_whatever_allows_them() -> None:
    gate = SbomPolicy(deny=(PackageRule("pkg:pypi/requests", ("2.31.0",), "bad release", 70),))
    reasons = _run(REQUESTS, _allow(PackageRule("pkg:pypi/*", line=50)), gate)
    assert codes(reasons) == [("sbom.denied", REQUESTS_SUBJECT)]
    assert "`sbom.deny` rule at .github/envsecops.yml:70" in reasons[0].message
    assert "`bad release`" in reasons[0].message


def test_sbom_gates_cover_actions_and_toolchains() -> None:
    bad_action = action("tj-actions/changed-files", SHA)
    python = tool("Python", "3.12.7")
    bag = make_bag(BIN, bad_action, python)
    gate = SbomPolicy(
        deny=(
            PackageRule("pkg:github/tj-actions/changed-files", line=70),
            PackageRule("pkg:generic/Python", "<3.12.8", line=71),
        )
    )
    policy = allowing(bag, sbom=gate)
    reasons = evaluate(policy, bag)
    assert codes(reasons) == [
        ("sbom.denied", f"action tj-actions/changed-files@{SHA}"),
        ("sbom.denied", "toolchain /opt/hostedtoolcache/Python/3.12.7/x64"),
    ]
    fine = SbomPolicy(deny=(PackageRule("pkg:generic/Python", ">=3.13", line=71),))
    assert evaluate(allowing(bag, sbom=fine), bag) == []


def test_sbom_gates_over_a_tag_ref_fail_closed() -> None:
    tagged = action("evil/thing", "v1")
    gate = SbomPolicy(deny=(PackageRule("pkg:github/evil/*", "<2", line=70),))
    bag = make_bag(BIN, tagged)
    reasons = evaluate(allowing(bag, sbom=gate), bag)
    assert ("sbom.denied", "action evil/thing@v1") in codes(reasons)


def test_no_gate_means_no_sbom_reason() -> None:
    tools = (ToolRule("*", "*", (digest("tree"),), 30),)
    bag = make_bag(BIN, tool("Python", "3.12.7"))
    assert evaluate(allowing(bag, tool_cache=tools), bag) == []
