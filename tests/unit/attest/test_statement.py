"""The statement about the bag: its exact shape, the binding's rules, strict parsing, the schema."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from envsecops.attest.binding import JOB_FACTS, Binding, Origin, is_nonce
from envsecops.attest.predicate import PROBLEM_STATUSES, BagPredicate, BagSummary
from envsecops.attest.statement import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    StatementError,
    build_statement,
    new_nonce,
    parse_bag_predicate,
    parse_statement,
    statement_bytes,
    utc_now,
)
from envsecops.canonical import canonical_json
from envsecops.errors import InputError
from envsecops.model.bag import Bag, ComponentKind, ModelError
from tests.unit.attest.samples import (
    CREATED_AT,
    NONCE,
    bag_bytes,
    sample_bag,
    sample_binding,
    sample_statement,
)

SCHEMA = Path(__file__).resolve().parents[3] / "src/envsecops/schemas/bag-predicate.v1.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_statement_has_the_documented_shape() -> None:
    bag, raw, statement = sample_statement()
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["subject"] == [
        {"name": "bag.json", "digest": {"sha256": hashlib.sha256(raw).hexdigest()}}
    ]
    assert statement["predicateType"] == PREDICATE_TYPE == "https://envsecops.dev/bag/v1"
    summary = statement["predicate"]["bag"]
    assert summary["env_hash"] == bag.env_hash
    assert summary["components"] == {
        "total": 6,
        "volatile": 1,
        "digest_only": 1,
        "by_kind": {
            "action": 0,
            "binary": 2,
            "config": 2,
            "env": 1,
            "image": 0,
            "package": 1,
            "runner": 0,
            "toolchain": 0,
        },
    }
    assert summary["problems"] == {
        "total": 2,
        "by_status": {
            "changed-while-hashing": 0,
            "special-file": 0,
            "symlink-loop": 0,
            "symlink-outside-tree": 0,
            "unreadable": 1,
            "vanished": 1,
        },
    }
    assert summary["notes"] == 1
    assert summary["runner"] == bag.runner.to_json()
    binding = statement["predicate"]["binding"]
    assert binding["sha"] is None
    assert "sha" not in binding["origins"]
    assert binding["origins"]["job"] == "environment"
    assert binding["origins"]["run_id"] == "oidc"
    assert (binding["nonce"], binding["created_at"]) == (NONCE, CREATED_AT)


def test_statement_bytes_are_canonical_and_deterministic() -> None:
    _, _, one = sample_statement()
    _, _, two = sample_statement()
    assert statement_bytes(one) == statement_bytes(two) == canonical_json(one)
    # sigstore's own in-toto model accepts what we sign (keyless signs the same bytes)
    from sigstore import dsse

    dsse.Statement(statement_bytes(one))


def test_build_refuses_bytes_that_are_not_the_bag() -> None:
    bag = sample_bag()
    other = Bag.build(bag.runner, bag.components[1:], created_at=bag.created_at)
    for wrong in (bag_bytes(other), b"", b"\xff{", bag_bytes(bag)[:-1]):
        with pytest.raises(InputError, match="not the JSON of the bag being attested"):
            build_statement(bag, wrong, sample_binding())
    # the subject is whatever bytes were written, so a verifier can hash the file it holds
    pretty = json.dumps(bag.to_json(), indent=2).encode()
    statement = build_statement(bag, pretty, sample_binding())
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(pretty).hexdigest()


def test_round_trip_through_the_parser() -> None:
    _, _, statement = sample_statement()
    parsed = parse_statement(statement_bytes(statement))
    predicate = parse_bag_predicate(parsed)
    assert predicate.to_json() == statement["predicate"]
    assert predicate.binding == sample_binding()
    assert predicate.bag == BagSummary.of(sample_bag())


def test_predicate_validates_against_the_published_schema(
    validator: Draft202012Validator,
) -> None:
    _, _, statement = sample_statement()
    assert _errors(validator, statement["predicate"]) == []
    local = Binding.collect(None, {}, nonce=new_nonce(), created_at=utc_now())
    assert (
        _errors(validator, {"bag": statement["predicate"]["bag"], "binding": local.to_json()}) == []
    )
    extra = copy.deepcopy(statement["predicate"])
    extra["binding"]["workflow"] = "x"
    assert _errors(validator, extra) != []


def test_schema_enumerations_follow_the_model() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    bag = schema["properties"]["bag"]["properties"]
    assert set(bag["components"]["properties"]["by_kind"]["required"]) == {
        k.value for k in ComponentKind
    }
    assert set(bag["problems"]["properties"]["by_status"]["required"]) == {
        s.value for s in PROBLEM_STATUSES
    }
    binding = schema["properties"]["binding"]
    assert set(binding["required"]) == {*JOB_FACTS, "nonce", "created_at", "origins"}
    assert set(binding["properties"]["origins"]["properties"]) == set(JOB_FACTS)


def _mutated(path: list[str], value: Any) -> bytes:
    _, _, statement = sample_statement()
    target: Any = statement
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(statement).encode()


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (["_type"], "https://in-toto.io/Statement/v0.1", "not an in-toto Statement v1"),
        (["subject"], [], "list of 1 to"),
        (["subject"], [{"name": "bag.json", "digest": {"sha256": "ABC"}}], "lowercase hex"),
        (["subject"], [{"name": "bag.json", "digest": {"sha256": "ab"}}], "64 hex digits"),
        (["subject"], [{"name": "bag.json", "digest": {}}], "non-empty object"),
        (["subject"], ["bag.json"], "must be an object"),
        (["predicateType"], "", "non-empty string"),
        (["predicate"], [], "`predicate` must be an object"),
    ],
)
def test_malformed_statements_are_refused(path: list[str], value: Any, needle: str) -> None:
    with pytest.raises(StatementError, match=needle):
        parse_statement(_mutated(path, value))


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (["predicateType"], "https://slsa.dev/provenance/v1", "predicate type"),
        (["subject"], [{"name": "other.json", "digest": {"sha256": "a" * 64}}], "subject is"),
        (
            ["subject"],
            [{"name": "bag.json", "digest": {"sha256": "a" * 64, "sha512": "b" * 128}}],
            "one sha256 digest",
        ),
        (["subject"], [{"name": "bag.json", "digest": {"sha256": "a" * 64}}] * 2, "one subject"),
        (["predicate", "bag", "notes"], -1, "non-negative"),
        (["predicate", "bag", "notes"], True, "non-negative"),
        (["predicate", "bag", "components", "total"], 7, "do not add up"),
        (["predicate", "bag", "problems", "total"], 0, "do not add up"),
        (["predicate", "bag", "components", "by_kind", "rootkit"], 0, "count exactly"),
        (["predicate", "bag", "env_hash"], "sha256:xyz", "env_hash"),
        (["predicate", "bag", "extra"], 1, "exactly the fields"),
        (["predicate", "binding", "extra"], 1, "unknown ['extra']"),
        (["predicate", "binding", "nonce"], ..., "missing ['nonce']"),
        (["predicate", "binding", "nonce"], "short", "nonce"),
        (["predicate", "binding", "run_id"], "12a", "impossible value"),
        (["predicate", "binding", "repository"], "no-slash", "impossible value"),
        (["predicate", "binding", "job"], "a\nb", "printable"),
        (["predicate", "binding", "origins", "job"], "oidc-ish", "binding.origins"),
        (["predicate", "binding", "origins", "sha"], "oidc", "must name exactly the known facts"),
        (["predicate", "binding", "created_at"], "2026-02-30T00:00:00Z", "real date"),
        (["predicate", "binding", "created_at"], "yesterday", "RFC 3339"),
        (["predicate", "extra"], {}, "exactly `bag` and `binding`"),
    ],
)
def test_malformed_bag_predicates_are_refused(path: list[str], value: Any, needle: str) -> None:
    with pytest.raises(StatementError, match=re.escape(needle)):
        parse_bag_predicate(parse_statement(_mutated(path, value)))


def test_binding_collects_oidc_first_then_environment() -> None:
    claims = {"repository": "octo-org/octo-repo", "run_id": "9", "job_workflow_ref": "o/r/w@x"}
    env = {
        "GITHUB_REPOSITORY": "evil/evil",  # an earlier step may have set this: OIDC wins
        "GITHUB_RUN_ATTEMPT": "3",
        "GITHUB_JOB": "build",
        "RUNNER_NAME": "runner-1",
    }
    binding = Binding.collect(claims, env, nonce=NONCE, created_at=CREATED_AT)
    assert binding.repository == "octo-org/octo-repo"
    assert binding.origin("repository") is Origin.OIDC
    assert (binding.run_attempt, binding.origin("run_attempt")) == ("3", Origin.ENVIRONMENT)
    assert binding.origin("job") is Origin.ENVIRONMENT
    assert binding.workflow_ref is None
    assert binding.origin("workflow_ref") is None
    # job and runner_name are never taken from claims, even if a token carried them
    odd = Binding.collect({"job": "x"}, {}, nonce=NONCE, created_at=CREATED_AT)
    assert odd.job is None


def test_binding_construction_validates() -> None:
    with pytest.raises(ModelError, match="must name exactly the known facts"):
        Binding(**_facts(), origins=())
    with pytest.raises(ModelError, match="origin of `repository`"):
        Binding(**_facts(), origins=(("repository", "oidc"),))  # type: ignore[arg-type]
    assert len(new_nonce()) == 43
    assert is_nonce(new_nonce())
    assert not is_nonce("a" * 15)
    assert not is_nonce("a" * 16 + "\n")
    assert new_nonce() != new_nonce()
    Binding(**_facts(), origins=(("repository", Origin.OIDC),))


def _facts() -> dict[str, Any]:
    facts: dict[str, Any] = dict.fromkeys(JOB_FACTS)
    facts.update(repository="o/r", nonce=NONCE, created_at=CREATED_AT)
    return facts


def test_summary_equality_detects_a_different_bag() -> None:
    bag = sample_bag()
    summary = BagSummary.of(bag)
    predicate = BagPredicate(summary, sample_binding())
    assert BagPredicate.from_json(predicate.to_json()) == predicate
    assert BagSummary.of(bag) == summary
    assert bag_bytes(bag) == bag_bytes(sample_bag())
