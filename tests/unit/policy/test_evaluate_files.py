"""evaluate() over binaries, tool-cache trees and config files: keys, globs, digests, fixes."""

from __future__ import annotations

import dataclasses

import pytest

from envsecops.model.bag import Status
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import DigestRule, ToolRule
from tests.unit.policy.evaluate_support import (
    SOURCE,
    allowing,
    binary,
    codes,
    config,
    digest,
    make_bag,
    tool,
)

GIT = binary("/usr/bin/git")


def _binaries(*rules: DigestRule) -> dict[str, tuple[DigestRule, ...]]:
    return {"binaries": rules}


@pytest.mark.parametrize(
    "pattern",
    ["/usr/bin/git", "git", "/usr/bin/*", "/usr/*/git", "g?t", "[fg]it", "*", "/usr/bin/[a-z]*"],
)
def test_a_binary_is_allowed_by_a_path_or_name_key(pattern: str) -> None:
    bag = make_bag(GIT)
    policy = allowing(bag, **_binaries(DigestRule(pattern, (GIT.digest or "",), 7)))
    assert evaluate(policy, bag) == []


@pytest.mark.parametrize("pattern", ["/usr/local/bin/git", "gitk", "/usr/bin/g", "Git", "/bin/*"])
def test_a_binary_no_key_matches_is_unlisted_with_the_line_to_add(pattern: str) -> None:
    bag = make_bag(GIT)
    policy = allowing(bag, **_binaries(DigestRule(pattern, (GIT.digest or "",), 7)))
    reasons = evaluate(policy, bag)
    assert codes(reasons) == [("binary.unlisted", "binary /usr/bin/git")]
    assert f"add `/usr/bin/git: [{GIT.digest}]` under `binaries:`" in reasons[0].message
    assert "or remove it from the runner" in reasons[0].message


def test_a_name_key_is_not_a_path_key() -> None:
    bag = make_bag(binary("/usr/bin/usr"))
    policy = allowing(bag, **_binaries(DigestRule("/usr", (digest("/usr/bin/usr"),), 7)))
    assert codes(evaluate(policy, bag)) == [("binary.unlisted", "binary /usr/bin/usr")]


def test_a_listed_binary_with_another_digest_names_the_lines() -> None:
    bag = make_bag(binary("/usr/bin/git", "new build"))
    rules = (
        DigestRule("/usr/bin/git", (digest("a"), digest("b")), 14),
        DigestRule("g*", (digest("c"),), 20),
    )
    reasons = evaluate(allowing(bag, **_binaries(*rules)), bag)
    assert codes(reasons) == [("binary.digest", "binary /usr/bin/git")]
    message = reasons[0].message
    assert message.startswith(digest("new build")[:19] + "… is not among the 3 digests")
    assert f"{SOURCE}:14 and :20" in message
    assert f"add `{digest('new build')}` to that entry" in message


def test_digests_of_every_matching_key_count() -> None:
    bag = make_bag(binary("/usr/bin/git", "b"))
    rules = (DigestRule("/usr/bin/git", (digest("a"),), 14), DigestRule("git", (digest("b"),), 15))
    assert evaluate(allowing(bag, **_binaries(*rules)), bag) == []


def test_a_binary_without_a_digest_is_never_allowed() -> None:
    bag = make_bag(dataclasses.replace(GIT, digest=None))
    reasons = evaluate(allowing(make_bag(GIT)), bag)
    assert codes(reasons) == [("binary.digest", "binary /usr/bin/git")]
    assert "the bag records no digest" in reasons[0].message


# --- tool-cache --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version"), [("Python", "3.12.7"), ("Py*", "3.12.*"), ("*", "*")])
def test_a_tool_is_allowed_by_name_and_version_globs(name: str, version: str) -> None:
    bag = make_bag(tool("Python", "3.12.7"))
    rule = ToolRule(name, version, (digest("tree"),), 30)
    assert evaluate(allowing(bag, tool_cache=(rule,)), bag) == []


def test_an_unlisted_tool_version_names_the_listed_versions() -> None:
    bag = make_bag(tool("Python", "3.13.0"))
    rules = (ToolRule("Python", "3.12.*", (digest("tree"),), 30),)
    reasons = evaluate(allowing(bag, tool_cache=rules), bag)
    assert codes(reasons) == [
        ("toolchain.unlisted", "toolchain /opt/hostedtoolcache/Python/3.13.0/x64")
    ]
    assert f"{SOURCE}:30" in reasons[0].message
    assert "`3.12.*`" in reasons[0].message


def test_an_unlisted_tool_says_what_to_add() -> None:
    bag = make_bag(tool("node", "20.1.0"))
    reasons = evaluate(allowing(make_bag(tool("Python", "3.12.7"))), bag)
    assert codes(reasons) == [
        ("toolchain.unlisted", "toolchain /opt/hostedtoolcache/node/20.1.0/x64")
    ]
    assert f'`node: {{"20.1.0": [{digest("tree")}]}}` under `tool-cache:`' in reasons[0].message


def test_a_tool_with_another_tree_digest() -> None:
    bag = make_bag(tool("Python", "3.12.7", seed="patched"))
    reasons = evaluate(allowing(make_bag(tool("Python", "3.12.7"))), bag)
    assert codes(reasons) == [
        ("toolchain.digest", "toolchain /opt/hostedtoolcache/Python/3.12.7/x64")
    ]
    assert "x64" in reasons[0].message


def test_an_unexpected_tool_cache_entry_needs_a_star_version() -> None:
    stray = dataclasses.replace(
        tool("Python", "x"), version=None, purl=None, properties=(("layout", "unexpected"),)
    )
    bag = make_bag(stray)
    exact = (ToolRule("Python", "3.12.7", (digest("tree"),), 30),)
    reasons = evaluate(allowing(bag, tool_cache=exact), bag)
    assert [r.code for r in reasons] == ["toolchain.unlisted"]
    assert "unexpected entry" in reasons[0].message
    star = (ToolRule("Python", "*", (digest("tree"),), 30),)
    assert evaluate(allowing(bag, tool_cache=star), bag) == []


# --- configs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["/etc/hosts", "/etc/*", "*hosts"])
def test_a_config_is_allowed_by_name_or_glob(pattern: str) -> None:
    bag = make_bag(config("/etc/hosts"))
    rule = DigestRule(pattern, (digest("/etc/hosts"),), 40)
    assert evaluate(allowing(bag, configs=(rule,)), bag) == []


def test_a_home_config_matches_by_its_name_or_its_runner_path() -> None:
    bag = make_bag(config("~/.gitconfig"))
    for pattern in ("~/.gitconfig", "/home/runner/.gitconfig"):
        rule = DigestRule(pattern, (digest("~/.gitconfig"),), 40)
        assert evaluate(allowing(bag, configs=(rule,)), bag) == []


def test_config_unlisted_and_digest() -> None:
    bag = make_bag(config("/etc/hosts", "edited"), config("/etc/resolv.conf"))
    policy = allowing(make_bag(config("/etc/hosts")))
    reasons = evaluate(policy, bag)
    assert codes(reasons) == [
        ("config.digest", "config /etc/hosts"),
        ("config.unlisted", "config /etc/resolv.conf"),
    ]
    assert f"add `/etc/resolv.conf: [{digest('/etc/resolv.conf')}]` under `configs:`" in (
        reasons[1].message
    )


def test_a_withheld_config_needs_a_withheld_entry() -> None:
    bag = make_bag(config("~/.npmrc", withheld=True))
    assert evaluate(allowing(bag), bag) == []
    by_digest = (DigestRule("~/.npmrc", (digest("x"),), 41),)
    reasons = evaluate(allowing(bag, configs=by_digest), bag)
    assert codes(reasons) == [("config.digest", "config /home/runner/.npmrc")]
    assert "write `~/.npmrc: withheld`" in reasons[0].message
    other = (DigestRule("/etc/hosts", (digest("x"),), 41),)
    reasons = evaluate(allowing(bag, configs=other), bag)
    assert codes(reasons) == [("config.unlisted", "config /home/runner/.npmrc")]
    assert "`~/.npmrc: withheld`" in reasons[0].message


def test_a_withheld_entry_does_not_allow_a_file_that_now_has_a_digest() -> None:
    bag = make_bag(config("~/.npmrc"))
    rules = (DigestRule("~/.npmrc", (), 41, withheld=True),)
    reasons = evaluate(allowing(bag, configs=rules), bag)
    assert codes(reasons) == [("config.digest", "config /home/runner/.npmrc")]
    assert "allows only a withheld digest" in reasons[0].message


def test_a_config_glob_that_matched_nothing_is_a_problem() -> None:
    missing = dataclasses.replace(
        config("/opt/hook.sh"), digest=None, path=None, status=Status.VANISHED
    )
    reasons = evaluate(allowing(make_bag(config("/etc/hosts"))), make_bag(missing))
    assert codes(reasons) == [("component.problem", "config /opt/hook.sh")]


@pytest.mark.parametrize("path", ["/usr/bin/[", "/usr/bin/[abc]", "/opt/x/a*b?"])
def test_a_pattern_always_matches_its_own_spelling(path: str) -> None:
    bag = make_bag(binary(path))
    assert evaluate(allowing(bag), bag) == []


def test_a_bracket_pattern_is_still_a_glob() -> None:
    bag = make_bag(binary("/usr/bin/b"))
    rule = DigestRule("/usr/bin/[abc]", (digest("/usr/bin/b"),), 7)
    assert evaluate(allowing(bag, **_binaries(rule)), bag) == []
