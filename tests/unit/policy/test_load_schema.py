"""schemas/policy.v1.json and docs/policy.md agree with the loader: valid loads validate, and
the invalid ones the schema can see fail both."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envsecops.errors import InputError
from envsecops.policy.load import document_json, load_policy_text
from envsecops.policy.load_examples import DIGEST_PLACEHOLDER, EXAMPLES, MINIMAL, SHA_PLACEHOLDER
from envsecops.policy.pins import TOP_LEVEL_KEYS
from envsecops.policy.source import compose_policy
from tests.unit.policy.load_support import D1, SHA1, VALID, load

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "schemas" / "policy.v1.json"
DOCS = ROOT / "docs" / "policy.md"
N = "name: x\n"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(text: str) -> list[str]:
    tree: Any = document_json(compose_policy(text, "p.yml"))
    return [error.message for error in _validator().iter_errors(tree)]


def _docs_blocks() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    return [block if re.search(r"^name:", block, re.MULTILINE) else N + block for block in blocks]


def test_the_schema_is_packaged_and_covers_every_top_level_key() -> None:
    packaged = ROOT / "src" / "envsecops" / "schemas" / "policy.v1.json"
    assert packaged.read_bytes() == SCHEMA_PATH.read_bytes()
    schema = json.loads(packaged.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == TOP_LEVEL_KEYS
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_valid_test_policy_validates(tmp_path: Path, name: str) -> None:
    load(tmp_path, VALID[name])
    assert _schema_errors(VALID[name]) == []


def test_every_docs_example_loads_and_validates() -> None:
    blocks = _docs_blocks()
    assert len(blocks) >= 15
    for block in blocks:
        policy = load_policy_text(block, "docs/policy.md")
        assert _schema_errors(block) == [], block
        assert policy.name


def test_the_docs_give_the_right_policy_id_for_the_complete_example() -> None:
    complete = next(block for block in _docs_blocks() if "sbom:" in block and "ledger:" in block)
    policy_id = load_policy_text(complete, "docs").policy_id
    assert f"`{policy_id}` for the complete example above" in DOCS.read_text(encoding="utf-8")


def test_the_docs_carry_the_editor_schema_hint() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    hint = f"# yaml-language-server: $schema={schema['$id']}"
    assert hint in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_every_error_fix_example_loads(section: str) -> None:
    text = EXAMPLES[section].replace(DIGEST_PLACEHOLDER, D1).replace(SHA_PLACEHOLDER, SHA1)
    if section != "name":
        text = N + text
    load_policy_text(text + "\n", f"example {section}")
    assert _schema_errors(text + "\n") == []


def test_the_minimal_example_loads() -> None:
    load_policy_text(MINIMAL.replace(DIGEST_PLACEHOLDER, D1) + "\n", "minimal")


INVALID_BOTH = {
    "unknown-top": N + "binaires: {}\n",
    "unknown-nested": N + "runner:\n  image: []\n",
    "no-name": "binaries: {}\n",
    "bad-name": "name: my policy\n",
    "mode": N + "mode: strict\n",
    "yes-boolean": N + f"actions:\n  a/b: {{shas: [{SHA1}], allow-pin-findings: yes}}\n",
    "duration": N + "max-attestation-age: 10 minutes\n",
    "digest-upper": N + "binaries:\n  git: sha256:" + "A" * 64 + "\n",
    "digests-empty": N + "binaries:\n  git: []\n",
    "sha-tag": N + "actions:\n  a/b: [v4]\n",
    "purl-version": N + "packages:\n  allow:\n    - purl: pkg:pypi/x@1\n",
    "versions-mapping": N + "runner:\n  images:\n    - {os: u, versions: {a: b}}\n",
    "null-section": N + "binaries:\n",
    "runner-env": N + "runner:\n  environments: [github]\n",
    "aws-arn": N
    + "credentials:\n  providers:\n    aws: {gate-role-arn: x, role-arn: y, region: z}\n",
    "sbom-reason": N + "sbom:\n  deny:\n    - purl: pkg:pypi/x\n",
    "provider": N + "credentials:\n  providers:\n    azure: {}\n",
    "rekor": N + "ledger:\n  file: x\n  rekor: true\n",
    "env-name": N + "env:\n  forbidden: [A=B]\n",
}


@pytest.mark.parametrize("name", sorted(INVALID_BOTH))
def test_invalid_policies_fail_the_schema_and_the_loader(tmp_path: Path, name: str) -> None:
    text = INVALID_BOTH[name]
    with pytest.raises(InputError):
        load(tmp_path, text)
    assert _schema_errors(text)
