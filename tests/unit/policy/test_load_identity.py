"""policy_id: stable under reformatting (comments, key order, quoting), changed by any value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envsecops.canonical import digest
from envsecops.policy.load import document_json, load_policy_text, policy_id_of
from envsecops.policy.source import compose_policy
from tests.unit.policy.load_support import D1, D2, SHA1, load

BASE = f"""name: payments
binaries:
  /usr/bin/git: [{D1}, {D2}]
runner:
  os:
    - id: ubuntu
      versions: ["3.10"]
actions:
  actions/checkout: [{SHA1}]
"""

REFORMATTED = {
    "comments": "# the policy\n" + BASE.replace("binaries:\n", "binaries:   # digests\n"),
    "key-order": (
        f"actions:\n  actions/checkout: [{SHA1}]\nrunner:\n  os:\n    - versions: ['3.10']\n"
        f"      id: ubuntu\nname: payments\nbinaries:\n  /usr/bin/git: [{D1}, {D2}]\n"
    ),
    "quoting": BASE.replace('"3.10"', "3.10").replace("name: payments", "name: 'payments'"),
    "flow-style": (
        f'{{name: payments, binaries: {{"/usr/bin/git": ["{D1}", {D2}]}}, '
        f"runner: {{os: [{{id: ubuntu, versions: [3.10]}}]}}, "
        f"actions: {{actions/checkout: [{SHA1}]}}}}\n"
    ),
    "indentation": (
        f"name: payments\nbinaries:\n    /usr/bin/git:\n      - {D1}\n      - {D2}\n"
        "runner:\n    os:\n    -   id: ubuntu\n        versions:\n        - '3.10'\n"
        f"actions:\n    actions/checkout:\n    - {SHA1}\n"
    ),
    "anchors": BASE.replace(f"[{D1}, {D2}]", f"&d [{D1}, {D2}]"),
}

CHANGED = {
    "a-digest": BASE.replace(D2, "sha256:" + "3" * 64),
    "digest-order": BASE.replace(f"[{D1}, {D2}]", f"[{D2}, {D1}]"),
    "a-version": BASE.replace('"3.10"', '"3.1"'),
    "a-new-key": BASE + "mode: audit\n",
    "a-sha": BASE.replace(SHA1, "0" * 40),
}


def _id(text: str) -> str:
    return load_policy_text(text, "p.yml").policy_id


def test_the_id_is_the_name_and_12_hex_of_the_canonical_document() -> None:
    policy_id = _id(BASE)
    assert re.fullmatch(r"payments@sha256:[0-9a-f]{12}", policy_id)
    tree = document_json(compose_policy(BASE, "p.yml"))
    assert policy_id == "payments@sha256:" + digest(tree)[7:19]
    assert policy_id_of("payments", tree) == policy_id


def test_document_json_keeps_every_scalar_as_the_text_written() -> None:
    tree = document_json(compose_policy("name: x\nv: [3.10, yes, ~, 010, '']\nm: {a: }\n", "p"))
    assert tree == {"name": "x", "v": ["3.10", "yes", "~", "010", ""], "m": {"a": ""}}


def test_document_json_follows_merges() -> None:
    text = "base: &b {a: '1', b: '2'}\nuse:\n  <<: *b\n  b: '3'\n"
    assert document_json(compose_policy(text, "p"))["use"] == {"a": "1", "b": "3"}


@pytest.mark.parametrize("variant", sorted(REFORMATTED))
def test_reformatting_keeps_the_id(tmp_path: Path, variant: str) -> None:
    assert load(tmp_path, REFORMATTED[variant]).policy_id == _id(BASE)


@pytest.mark.parametrize("variant", sorted(CHANGED))
def test_any_value_changes_the_id(variant: str) -> None:
    assert _id(CHANGED[variant]) != _id(BASE)


def test_the_name_changes_the_prefix_and_the_digest() -> None:
    renamed = _id(BASE.replace("name: payments", "name: billing"))
    assert renamed.startswith("billing@sha256:")
    assert renamed.split("@")[1] != _id(BASE).split("@")[1]
