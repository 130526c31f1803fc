"""`policy init` (render_policy): grouped, commented, deterministic YAML that allows its bag."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from envsecops.bag.inventory import context_from_environment, take_inventory
from envsecops.errors import UsageError
from envsecops.model.bag import Bag
from envsecops.policy.evaluate import evaluate
from envsecops.policy.load import document_json, load_policy_text
from envsecops.policy.render import SCHEMA_URL, draft_policy, render_policy
from envsecops.policy.source import compose_policy
from tests.unit.policy.evaluate_support import SHA, digest
from tests.unit.policy.init_bags import (
    BLOCKED_CODES,
    allowable_components,
    blocked_components,
    env,
    make_bag,
)

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "policy.v1.json"
PIN_FINDINGS = (
    "action.pin-findings",
    "action some-org/composite@" + "0123456789abcdef" * 2 + "01234567",
)


def codes(text: str, bag: Bag) -> list[tuple[str, str]]:
    """Load the draft and evaluate the bag with it: (code, subject) of every reason."""
    policy = load_policy_text(text, ".github/envsecops.yml")
    return [(r.code, r.subject) for r in evaluate(policy, bag)]


@pytest.fixture(scope="module")
def machine_bag() -> Bag:
    """An inventory of this machine, as `envsecops attest --no-syft` takes it."""
    return take_inventory(context_from_environment(dict(os.environ), root=Path("/")))


def test_the_machine_bag_round_trips_to_no_reason(machine_bag: Bag) -> None:
    draft = draft_policy(machine_bag, name="this-machine")
    assert len(machine_bag.components) > 100
    # On a clean machine nothing is denied; on a runner with unreadable files or unpinned
    # actions, exactly what the draft lists at its end is.
    expected = sorted({(code, subject) for code, subject, _why in draft.denied})
    assert sorted(set(codes(draft.text, machine_bag))) == expected


def test_the_machine_bag_draft_is_deterministic(machine_bag: Bag) -> None:
    assert render_policy(machine_bag, name="m") == render_policy(machine_bag, name="m")


def test_every_allowable_kind_is_allowed_except_unaccepted_pin_findings() -> None:
    bag = make_bag(allowable_components())
    assert codes(render_policy(bag, name="t"), bag) == [PIN_FINDINGS]


def test_accepting_the_pin_findings_allows_the_whole_bag() -> None:
    bag = make_bag(allowable_components())
    text = render_policy(bag, name="t").replace(
        "# allow-pin-findings: true   # uncomment only once you accept them",
        "allow-pin-findings: true",
    )
    assert codes(text, bag) == []


def test_the_draft_validates_against_the_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_URL
    bag = make_bag(allowable_components() + blocked_components())
    tree: Any = document_json(compose_policy(render_policy(bag, name="t"), "p.yml"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(tree)]
    assert errors == []


def test_same_bag_gives_the_same_bytes_whatever_the_component_order() -> None:
    components = allowable_components() + blocked_components()
    first = render_policy(make_bag(components), name="t")
    second = render_policy(make_bag(list(reversed(components))), name="t")
    assert first == second
    assert first.endswith("\n")
    assert not any(line != line.rstrip() for line in first.splitlines())


def test_header_names_the_bag_and_the_schema() -> None:
    bag = make_bag(allowable_components())
    text = render_policy(bag, name="t")
    head = text.split("\nversion:", 1)[0]
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_URL}\n")
    assert SCHEMA_URL.endswith("/schemas/policy.v1.json")
    assert bag.env_hash in head
    assert "2026-11-22T20:54:06Z by envsecops 0.1.0" in head
    assert "envsecops policy test" in head
    assert "mode: audit" in head


def test_sections_come_in_the_contract_order_each_with_its_comment() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    order = ["runner", "binaries", "tool-cache", "packages", "configs", "env", "actions"]
    lines = text.splitlines()
    at = [lines.index(f"{name}:") for name in order]
    assert at == sorted(at)
    for name, index in zip(order, at, strict=True):
        assert lines[index - 1].startswith("# "), name
        block = "\n".join(lines[max(0, index - 6) : index])
        assert "denied" in block or "default" in block, name


def test_yaml11_traps_are_quoted_and_read_back_as_written() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    assert '  "on":' in text
    assert '    "3.10": [' in text
    assert '"1:2.43.0-1ubuntu7"' in text
    assert '{purl: pkg:deb/ubuntu/no, versions: ["3.10"]}' in text
    assert '"~/.npmrc": withheld' in text
    assert f'["{SHA}"]' in text
    data = yaml.safe_load(text)  # what a YAML 1.1 tool (PyYAML) makes of it
    assert len(data["tool-cache"]["Python"]["3.10"]) == 2
    assert data["tool-cache"]["on"]["1.0"]
    assert data["version"] == "1"
    assert data["packages"]["allow"][1]["versions"] == ["3.10"]
    assert data["actions"]["actions/checkout"] == [SHA]


def test_glob_characters_in_names_are_bracketed_so_they_match_only_themselves() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    assert '"/usr/bin/[[]": [' in text
    assert '"/usr/bin/a[*]b[?]c": [' in text


def test_binaries_are_grouped_by_path_directory_in_path_order() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    assert "  # /usr/local/bin (PATH position 0): 1 executable\n" in text
    assert "  # /usr/bin (PATH position 1): 5 executables\n" in text
    assert "  # /bin (PATH position 2): the same directory as /usr/bin, listed there" in text
    assert (
        text.index("/usr/local/bin/git:") < text.index("# /usr/bin (") < text.index("/usr/bin/git:")
    )
    assert re.search(
        r"/usr/bin/sudo: \[sha256:[0-9a-f]{64}\]  # setuid; also reached as /bin/sudo", text
    )
    assert "# shadowed by /usr/local/bin/git" in text


def test_packages_are_grouped_by_purl_type_one_rule_per_purl_with_exact_versions() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    assert "    # deb: 2 Debian/Ubuntu packages (dpkg)" in text
    assert "    # pypi: 2 Python distributions" in text
    assert '    - {purl: pkg:pypi/cryptography, versions: ["41.0.7", "43.0.0"]}' in text
    assert '    - {purl: pkg:npm/%40actions/core, versions: ["1.10.1"]}' in text
    assert "    - {purl: pkg:npm/left-pad}  # no version recorded" in text


def test_env_forbids_the_default_and_allows_each_risky_variable_present() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    assert "env:\n  forbidden: [default]\n  allowed:\n" in text
    assert f"    NODE_EXTRA_CA_CERTS: [{digest('/etc/ssl/ca.pem')}]   # tls-trust" in text
    assert "    NPM_CONFIG__AUTH: any   # package-source; secret-named variable" in text
    assert "    PYTHONPATH: any   # interpreter-startup; its value digest is keyed (HMAC)" in text
    assert "HOME" not in text.split("\nenv:", 1)[1]


def test_runner_section_pins_the_facts() -> None:
    text = render_policy(make_bag(allowable_components()), name="t")
    runner = text.split("\nrunner:\n", 1)[1].split("\n\n", 1)[0]
    assert "  environments: [github-hosted]   # from oidc" in runner
    assert '    - os: ubuntu24\n      versions: ["20251110.1.0"]' in runner
    assert '    - id: ubuntu\n      versions: ["24.04"]' in runner
    assert "  arch: [x86_64]" in runner
    assert "  containers: []" in runner


def test_a_local_bag_allows_the_unknown_environment_and_its_container() -> None:
    facts = {"os": "debian", "os_version": "12", "arch": "x86_64"}
    facts["container_image"] = "docker:image-unknown"
    bag = make_bag([env("HOME", "/root")], facts)
    text = render_policy(bag, name="t")
    assert "  environments: [unknown]" in text
    assert "  containers: [docker:image-unknown]" in text
    assert "  # images: not constrained" in text
    assert ("policy.empty", "policy .github/envsecops.yml") in codes(text, bag)
    assert [c for c in codes(text, bag) if c[0] != "policy.empty"] == []


def test_an_unusable_runner_environment_is_left_out_and_listed() -> None:
    facts = {"runner_environment": "on-prem", "os": "debian"}
    bag = make_bag(allowable_components(), facts)
    text = render_policy(bag, name="t")
    assert "  # environments: left at the default [github-hosted]; see the end" in text
    assert "runner.environment runner runner_environment" in text
    assert ("runner.environment", "runner runner_environment") in codes(text, bag)


def test_what_no_policy_can_allow_is_listed_at_the_end_and_denied() -> None:
    bag = make_bag(allowable_components() + blocked_components())
    text = render_policy(bag, name="t")
    tail = text.split("# These will be denied:", 1)[1]
    denied = draft_policy(bag, name="t").denied
    assert {(code, subject) for code, subject, _why in denied} == set(codes(text, bag))
    for expected in (
        "action.unpinned action actions/setup-node@v4",
        "action.unlisted action /home/runner/work/_actions/stray",
        "component.problem binary /usr/bin/broken: unreadable (permission denied)",
        "runner.mismatch runner env-claim-mismatch:GITHUB_REPOSITORY",
        "cataloger.failed runner cataloger-failed:syft: the cataloger failed: boom\\nsecond line",
        "package.unlisted package mystery",
        "binary.path-entry binary path-entry: the PATH entry is relative",
    ):
        assert expected in tail
    assert "(empty entry: the current directory) (PATH position 3): relative" in text
    assert "  # actions/setup-node@v4 is pinned by a tag or branch: it cannot be allowed" in text
    found = {code for code, _subject in codes(text, bag)}
    assert found == BLOCKED_CODES


def test_a_clean_bag_says_nothing_will_be_denied() -> None:
    components = [c for c in allowable_components() if c.name != "some-org/composite"]
    text = render_policy(make_bag(components), name="t")
    assert text.rstrip().endswith(
        "# These will be denied: nothing. Every component of the bag is allowed above."
    )


def test_comments_cannot_be_broken_by_names_with_line_breaks() -> None:
    odd = replace(env("NODE_OPTIONS", "x", risky="true", risk="a\nb: c"), name="NODE_OPTIONS")
    bag = make_bag([*allowable_components(), odd])
    text = render_policy(bag, name="t")
    assert "# a\\nb: c" in text
    assert codes(text, bag) == [PIN_FINDINGS]


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "yes/no"])
def test_a_bad_name_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match="policy name"):
        render_policy(make_bag(allowable_components()), name=name)
