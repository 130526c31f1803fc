"""`policy propose` (amend_policy): add what a new bag needs, keep the rest, refuse what it must."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace

import pytest

from envsecops.model.bag import Bag, Component
from envsecops.policy.amend import FIXABLE, Amendment, amend_policy
from envsecops.policy.evaluate import evaluate
from envsecops.policy.load import load_policy_text
from envsecops.policy.render import render_policy
from tests.unit.policy.evaluate_support import SHA, digest
from tests.unit.policy.init_bags import (
    BLOCKED_CODES,
    action,
    allowable_components,
    binary,
    blocked_components,
    c,
    env,
    make_bag,
    package,
)

SOURCE = ".github/envsecops.yml"
NEW_SHA = "f" * 40


def baseline() -> list[Component]:
    """The allowable components without the action whose pin findings stay denied."""
    return [x for x in allowable_components() if x.name != "some-org/composite"]


def amend(text: str, bag: Bag) -> Amendment:
    """Load ``text`` and amend it for ``bag``; the result must load and leave only refusals."""
    result = amend_policy(text, load_policy_text(text, SOURCE), bag)
    left = evaluate(load_policy_text(result.text, SOURCE), bag)
    assert len(result.refused) == len(left)
    for line, reason in zip(result.refused, left, strict=True):
        assert line.startswith(f"{reason.code} {reason.subject}: {reason.message}")
    return result


def remaining(result: Amendment, bag: Bag) -> list[tuple[str, str]]:
    """What the amended policy still denies the bag for."""
    policy = load_policy_text(result.text, SOURCE)
    return [(r.code, r.subject) for r in evaluate(policy, bag)]


def is_subsequence(short: str, long: str) -> bool:
    """Whether every character of ``short`` appears in ``long``, in order."""
    rest = iter(long)
    return all(char in rest for char in short)


def assert_only_proposed_edits(old: str, new: str) -> None:
    """Every line of ``old`` survives: unchanged, or with text only inserted into it; every new
    or changed line carries a `# proposed:` comment."""
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        assert tag in {"insert", "replace"}, (tag, a[i1:i2])
        assert all("# proposed: " in line for line in b[j1:j2]), b[j1:j2]
        if tag == "replace":
            assert i2 - i1 <= j2 - j1
            for before in a[i1:i2]:
                assert any(is_subsequence(before, after) for after in b[j1:j2]), before


Change = Callable[[list[Component]], list[Component]]


def _swap(name: str, new: str) -> Change:
    return lambda comps: [replace(x, digest=new) if name in (x.name, x.path) else x for x in comps]


def _add(*extra: Component) -> Change:
    return lambda comps: [*comps, *extra]


FIXES: list[tuple[str, Change, str]] = [
    ("binary.unlisted", _add(binary("/usr/bin/newtool", "nt")), "binary /usr/bin/newtool sha256:"),
    ("binary.digest", _swap("/usr/bin/git", digest("git2")), "binary /usr/bin/git sha256:"),
    ("config.unlisted", _add(c("config", "/etc/pip.conf", "configs", path="/etc/pip.conf",
                               digest=digest("pip"))), "config /etc/pip.conf sha256:"),
    ("config.digest", _swap("/etc/apt/sources.list", digest("s2")), "config /etc/apt/"),
    ("toolchain.unlisted", _add(c("toolchain", "go", "tool-cache", version="1.22",
                                  digest=digest("go"), path="/opt/hostedtoolcache/go/1.22/x64",
                                  properties={"arch": "x64"})), "toolchain go 1.22 sha256:"),
    ("toolchain.digest", _swap("/opt/hostedtoolcache/Python/3.10/x64", digest("py")),
     "toolchain Python 3.10 sha256:"),
    ("package.unlisted", _add(package("pkg:pypi/requests@2.32.3", "2.32.3", "python-packages")),
     "package pkg:pypi/requests 2.32.3"),
    ("package.version", _add(package("pkg:pypi/pyyaml@6.0.2", "6.0.2", "python-packages")),
     "package pkg:pypi/pyyaml 6.0.2"),
    ("env.forbidden", _add(env("BASH_ENV", "/etc/x", risky="true", risk="shell-startup")),
     "env BASH_ENV sha256:"),
    ("env.value", _swap("NODE_EXTRA_CA_CERTS", digest("other-ca")),
     "env NODE_EXTRA_CA_CERTS sha256:"),
    ("action.unlisted", _add(action("actions/cache", NEW_SHA)), f"action actions/cache {NEW_SHA}"),
    ("action.sha", _add(action("actions/checkout", NEW_SHA)), f"action actions/checkout {NEW_SHA}"),
]  # fmt: skip


def test_every_fixable_code_has_a_case() -> None:
    assert sorted(FIXABLE) == sorted(code for code, _change, _line in FIXES)


@pytest.mark.parametrize(("code", "change", "line"), FIXES, ids=[f[0] for f in FIXES])
def test_each_fixable_reason_is_proposed_in_place(code: str, change: Change, line: str) -> None:
    text = render_policy(make_bag(baseline()), name="t")
    bag = make_bag(change(baseline()))
    before = load_policy_text(text, SOURCE)
    assert code in {r.code for r in evaluate(before, bag)}
    result = amend(text, bag)
    assert remaining(result, bag) == []
    assert result.refused == ()
    assert any(added.startswith(line) and added.endswith(f"({code})") for added in result.added)
    assert f"# proposed: {code}" in result.text
    assert_only_proposed_edits(text, result.text)


def test_all_changes_at_once_keep_every_comment() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    components = allowable_components()
    for _code, change, _line in FIXES:
        components = change(components)
    bag = make_bag(components)
    result = amend(text, bag)
    assert remaining(result, bag) == [
        ("action.pin-findings", "action some-org/composite@" + "0123456789abcdef" * 2 + "01234567")
    ]
    assert len(result.added) == len(FIXES)
    assert_only_proposed_edits(text, result.text)


def test_new_entries_land_in_their_group_in_sorted_place() -> None:
    text = render_policy(make_bag(baseline()), name="t")
    bag = make_bag(
        [*baseline(), binary("/usr/bin/htop", "h"), package("pkg:deb/ubuntu/curl@8", "8")]
    )
    new = amend(text, bag).text.splitlines()
    at = new.index(next(line for line in new if line.startswith("  /usr/bin/htop:")))
    assert new[at + 1].startswith("  /usr/bin/sudo:")
    at = new.index(next(line for line in new if "pkg:deb/ubuntu/curl" in line))
    assert new[at - 1] == "    # deb: 2 Debian/Ubuntu packages (dpkg)"


def test_refused_reasons_are_listed_and_never_edited() -> None:
    text = render_policy(make_bag(baseline()), name="t")
    bag = make_bag([*baseline(), *blocked_components(), action("some-org/composite", SHA, 3)])
    result = amend(text, bag)
    refused = {line.split(" ", 1)[0] for line in result.refused}
    assert refused == BLOCKED_CODES
    assert all("[not proposed: " in line for line in result.refused)
    assert "setup-node" not in result.text.split("\nactions:", 1)[1].split("\n#", 1)[0]
    assert "allow-pin-findings: true" not in result.text.replace("# allow-pin-findings", "")
    assert [a for a in result.added if "composite" in a] == [
        f"action some-org/composite {SHA} (action.unlisted)"
    ]


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("package.denied", "packages:\n  deny:\n    - {purl: pkg:pypi/pyyaml, reason: banned}\n"),
        ("sbom.denied", "sbom:\n  deny:\n    - {purl: pkg:pypi/pyyaml, reason: compromised}\n"),
    ],
)
def test_deny_rules_are_never_amended_away(code: str, extra: str) -> None:
    text = f"name: t\nbinaries:\n  /usr/bin/git: [{digest('git')}]\n{extra}"
    bag = make_bag([package("pkg:pypi/pyyaml@6.0.1", "6.0.1")])
    result = amend(text, bag)
    assert [line.split(" ", 2)[:2] for line in result.refused] == [[code, "package"]]
    assert "reason: " in result.text


def test_runner_reasons_are_refused() -> None:
    text = f"name: t\nrunner:\n  arch: [aarch64]\nbinaries:\n  git: [{digest('git')}]\n"
    bag = make_bag([])
    result = amend(text, bag)
    assert result.text == text
    assert [line.split(":", 1)[0] for line in result.refused] == ["runner.arch runner arch"]


def test_an_allowed_bag_needs_nothing() -> None:
    bag = make_bag(baseline())
    text = render_policy(bag, name="t")
    result = amend(text, bag)
    assert (result.text, result.added, result.refused, result.changed) == (text, (), (), False)


def test_missing_sections_are_appended_at_the_end() -> None:
    text = "# a pins-only policy\nname: t   # keep me\npins:\n  exclude: [tests/**]\n"
    bag = make_bag(baseline())
    result = amend(text, bag)
    assert result.text.startswith(text + "\n# proposed by `envsecops policy propose`:\n")
    assert remaining(result, bag) == []
    tail = result.text[len(text) :]
    for section in ("binaries:", "tool-cache:", "packages:", "configs:", "env:", "actions:"):
        assert f"\n{section}\n" in tail
    assert tail.index("binaries:") < tail.index("packages:") < tail.index("actions:")
    assert "policy.empty" not in " ".join(result.refused)


def test_many_reasons_are_amended_over_several_rounds() -> None:
    extra = [binary(f"/opt/bin/tool{n:05d}", f"t{n}") for n in range(5_200)]
    bag = make_bag(extra)
    text = f"name: t\nbinaries:\n  /usr/bin/git: [{digest('git')}]\n"
    before = evaluate(load_policy_text(text, SOURCE), bag)
    assert before[-1].code == "reasons.truncated"
    result = amend(text, bag)
    assert len(result.added) == 5_200
    assert remaining(result, bag) == []
