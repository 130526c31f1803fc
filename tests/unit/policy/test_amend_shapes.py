"""`policy propose` edits every way a policy may be written: block or flow, scalar or list."""

from __future__ import annotations

import pytest

from envsecops.errors import EnvsecopsError
from envsecops.model.bag import Bag
from envsecops.policy.amend import Amendment, amend_policy
from envsecops.policy.evaluate import evaluate
from envsecops.policy.load import load_policy_text
from tests.unit.policy.evaluate_support import SHA, digest
from tests.unit.policy.init_bags import (
    action,
    binary,
    c,
    env,
    make_bag,
    package,
)
from tests.unit.policy.test_amend import assert_only_proposed_edits

SOURCE = ".github/envsecops.yml"
GIT, GIT2 = digest("git"), digest("git2")
NEW_SHA = "e" * 40
HOSTED = {"runner_environment": "github-hosted"}


def amended(text: str, bag: Bag) -> Amendment:
    """Amend and check the result: it loads, the bag passes, the old text survives."""
    result = amend_policy(text, load_policy_text(text, SOURCE), bag)
    assert evaluate(load_policy_text(result.text, SOURCE), bag) == []
    assert result.refused == ()
    assert_only_proposed_edits(text, result.text)
    return result


def git_bag(seed: str = "git2") -> Bag:
    """A bag with one binary, /usr/bin/git."""
    return make_bag([binary("/usr/bin/git", seed)], HOSTED)


def test_a_single_digest_becomes_a_list() -> None:
    text = f"name: t\nbinaries:\n  /usr/bin/git: {GIT}   # the approved build\n"
    new = amended(text, git_bag()).text
    assert new == (
        f"name: t\nbinaries:\n  /usr/bin/git: [{GIT}, {GIT2}]   # the approved build"
        "  # proposed: binary.digest\n"
    )


def test_a_block_list_gets_a_new_item_at_its_indentation() -> None:
    text = f"name: t\nbinaries:\n  /usr/bin/git:\n  - {GIT}  # one\n# trailing comment\n"
    new = amended(text, git_bag()).text
    assert new == (
        f"name: t\nbinaries:\n  /usr/bin/git:\n  - {GIT}  # one\n"
        f"  - {GIT2}  # proposed: binary.digest\n# trailing comment\n"
    )


def test_a_flow_mapping_section_gets_the_key_inline() -> None:
    text = "name: t\nbinaries: {/usr/bin/ls: [" + digest("ls") + "]}   # inline\n"
    new = amended(text, git_bag()).text
    assert new.endswith(f", /usr/bin/git: [{GIT2}]}}   # inline  # proposed: binary.unlisted\n")


def test_an_empty_flow_section_gets_the_key_inline() -> None:
    text = f"name: t\nconfigs:\n  /etc/hosts: [{digest('h')}]\nbinaries: {{}}\n# nothing yet\n"
    bag = make_bag(
        [binary("/usr/bin/git", "git2"),
         c("config", "/etc/hosts", "configs", path="/etc/hosts", digest=digest("h"))], HOSTED
    )  # fmt: skip
    new = amended(text, bag).text
    assert (
        f"binaries: {{/usr/bin/git: [{GIT2}]}}  # proposed: binary.unlisted\n# nothing yet\n" in new
    )


def test_crlf_and_a_missing_final_newline_are_kept() -> None:
    text = f"name: t\r\nbinaries:\r\n  /usr/bin/ls: [{digest('ls')}]"
    bag = make_bag([binary("/usr/bin/ls", "ls"), binary("/usr/bin/zsh", "zsh")], HOSTED)
    new = amended(text, bag).text
    assert new == (
        f"name: t\r\nbinaries:\r\n  /usr/bin/ls: [{digest('ls')}]\r\n"
        f"  /usr/bin/zsh: [{digest('zsh')}]  # proposed: binary.unlisted"
    )


def test_a_package_rule_in_block_style_gets_its_version_list_extended() -> None:
    text = (
        "name: t\npackages:\n  allow:\n    - purl: pkg:pypi/pyyaml   # parsing\n"
        '      versions:\n        - "6.0.1"\n    - purl: pkg:pypi/six\n'
    )
    bag = make_bag(
        [package("pkg:pypi/pyyaml@6.0.2", "6.0.2"), package("pkg:pypi/six@1", "1")], HOSTED
    )
    new = amended(text, bag).text
    assert '        - "6.0.1"\n        - "6.0.2"  # proposed: package.version\n' in new


def test_a_range_rule_is_left_alone_and_an_exact_rule_added() -> None:
    text = 'name: t\npackages:\n  allow:\n  - {purl: pkg:pypi/pyyaml, versions: ">=5,<6"}\n'
    bag = make_bag([package("pkg:pypi/pyyaml@6.0.2", "6.0.2")], HOSTED)
    new = amended(text, bag).text
    assert new.endswith(
        '  - {purl: pkg:pypi/pyyaml, versions: ">=5,<6"}\n'
        '  - {purl: pkg:pypi/pyyaml, versions: ["6.0.2"]}  # proposed: package.version\n'
    )


def test_packages_without_allow_and_a_flow_allow_list() -> None:
    bag = make_bag([package("pkg:deb/debian/curl@8.5", "8.5")], HOSTED)
    text = "name: t\npackages:\n  deny: []\nconfigs: {}\n"
    assert "  allow:  # proposed: package.unlisted\n    - {purl: pkg:deb/debian/curl" in (
        amended(text, bag).text
    )
    flow = "name: t\npackages: {allow: [{purl: pkg:deb/debian/git}]}\n"
    assert amended(flow, bag).text.endswith(
        '{purl: pkg:deb/debian/git}, {purl: pkg:deb/debian/curl, versions: ["8.5"]}]}'
        "  # proposed: package.unlisted\n"
    )


def test_env_without_allowed_gets_the_mapping() -> None:
    text = "name: t\nenv:\n  forbidden: [default, MY_HOOK]\nbinaries: {git: []}\n"
    text = text.replace("binaries: {git: []}", f"binaries: {{git: [{GIT}]}}")
    bag = make_bag([env("LD_PRELOAD", "/x.so", risky="true", risk="loader"),
                    env("MY_HOOK", None, secret="true")], HOSTED)  # fmt: skip
    new = amended(text, bag).text
    assert "  allowed:  # proposed: env.forbidden\n" in new
    assert f"    LD_PRELOAD: [{digest('/x.so')}]  # proposed: env.forbidden\n" in new
    assert "    MY_HOOK: any  # proposed: env.forbidden\n" in new


def test_an_action_entry_with_shas_is_extended() -> None:
    text = f"name: t\nactions:\n  actions/checkout:\n    shas: [{SHA}]\n"
    text += "    allow-pin-findings: false\n"
    bag = make_bag([action("actions/checkout", NEW_SHA)], HOSTED)
    new = amended(text, bag).text
    assert f"    shas: [{SHA}, {NEW_SHA}]  # proposed: action.sha\n" in new


def test_a_tool_gets_a_new_version_and_a_new_tool_its_mapping() -> None:
    text = f'name: t\ntool-cache:\n  Python:\n    "3.12.7": [{digest("py")}]\n'
    go = c("toolchain", "go", "tool-cache", version="1.22", digest=digest("go"),
           path="/opt/hostedtoolcache/go/1.22/x64", properties={"arch": "x64"})  # fmt: skip
    py = c("toolchain", "Python", "tool-cache", version="3.10", digest=digest("p10"),
           path="/opt/hostedtoolcache/Python/3.10/x64", properties={"arch": "x64"})  # fmt: skip
    new = amended(text, make_bag([go, py], HOSTED)).text
    assert f'    "3.10": [{digest("p10")}]  # proposed: toolchain.unlisted\n' in new
    assert f'  go:  # proposed: toolchain.unlisted\n    "1.22": [{digest("go")}]' in new


def test_a_withheld_entry_is_not_replaced_by_a_digest() -> None:
    text = f"name: t\nconfigs:\n  ~/.npmrc: withheld\nbinaries:\n  git: [{GIT}]\n"
    bag = make_bag(
        [c("config", "~/.npmrc", "configs", path="/root/.npmrc", digest=digest("n"))], HOSTED
    )
    result = amend_policy(text, load_policy_text(text, SOURCE), bag)
    assert result.text == text
    assert result.added == ()
    assert len(result.refused) == 1
    assert result.refused[0].startswith("config.digest config /root/.npmrc: ")
    assert "withheld" in result.refused[0].rsplit("[", 1)[1]


def test_a_policy_that_does_not_compose_is_an_input_error() -> None:
    text = "name: t\nbinaries: {git: [" + GIT + "]}\n"
    policy = load_policy_text(text, SOURCE)
    with pytest.raises(EnvsecopsError):
        amend_policy("name: [unclosed\n", policy, git_bag())
