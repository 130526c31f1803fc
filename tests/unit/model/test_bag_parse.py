"""Bag.from_json's fast paths agree with the slow, obviously-correct computation everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from envsecops.canonical import digest
from envsecops.model.bag import Bag, Component, ComponentKind, ModelError, RunnerFacts, Status

TEXT = st.text(max_size=12)  # any code point: astral keys and lone surrogates included
OPTIONAL = st.none() | TEXT


@st.composite
def components(draw: st.DrawFn) -> Component:
    """Arbitrary components, including astral and surrogate text."""
    return Component(
        kind=draw(st.sampled_from(ComponentKind)),
        name=draw(TEXT),
        source=draw(TEXT),
        version=draw(OPTIONAL),
        path=draw(OPTIONAL),
        digest=draw(OPTIONAL),
        purl=draw(OPTIONAL),
        status=draw(st.sampled_from(Status)),
        properties=tuple(sorted(draw(st.dictionaries(TEXT, TEXT, max_size=3)).items())),
        volatile=draw(st.booleans()),
    )


def _slow_hash(bag: Bag) -> str:
    return digest(bag.hashed_json())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(components(), max_size=8),
    st.dictionaries(TEXT, TEXT, max_size=3),
)
def test_env_hash_equals_the_rfc8785_computation(
    items: list[Component], facts: dict[str, str]
) -> None:
    runner = RunnerFacts(tuple(sorted(facts.items())))
    bag = Bag.build(runner, items)
    try:
        expected = _slow_hash(bag)
    except rfc8785.CanonicalizationError:  # a lone surrogate: the fast path must refuse too
        with pytest.raises(rfc8785.CanonicalizationError):
            _ = bag.env_hash
        return
    assert bag.env_hash == expected
    parsed = Bag.from_json(json.loads(json.dumps(bag.to_json())))
    assert parsed.env_hash == expected
    assert parsed.components == bag.components


def _manifest(components_json: list[dict[str, Any]]) -> dict[str, Any]:
    bag = Bag.build(
        RunnerFacts((("os", "linux"),)), [Component.from_json(c) for c in components_json]
    )
    return bag.to_json()


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "ok"},
        {"properties": {}},
        {"volatile": False},
        {"version": None},
        {"purl": None, "digest": None},
    ],
)
def test_spelled_out_defaults_parse_and_hash_like_the_stable_form(extra: dict[str, Any]) -> None:
    base = {"kind": "binary", "name": "git", "source": "path-binaries", "path": "/usr/bin/git"}
    manifest = _manifest([base])
    manifest["components"] = [{**base, **extra}]
    parsed = Bag.from_json(manifest)
    assert parsed.env_hash == _slow_hash(parsed) == manifest["env_hash"]


def test_an_unknown_component_field_is_ignored_and_not_hashed() -> None:
    base = {"kind": "config", "name": "/etc/hosts", "source": "configs", "digest": "sha256:00"}
    manifest = _manifest([base])
    manifest["components"] = [{**base, "smuggled": "x"}]
    parsed = Bag.from_json(manifest)
    assert parsed.env_hash == _slow_hash(parsed) == manifest["env_hash"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", ["binary"]),
        ("kind", "rootkit"),
        ("status", {"ok": 1}),
        ("status", None),
        ("name", 3),
        ("version", 3.1),
        ("properties", []),
        ("properties", {"a": 1}),
        ("volatile", "true"),
    ],
)
def test_malformed_fields_are_model_errors(field: str, value: Any) -> None:
    item = {"kind": "binary", "name": "git", "source": "path-binaries", field: value}
    with pytest.raises(ModelError):
        Component.from_json(item)


def test_components_out_of_order_are_refused() -> None:
    a = {"kind": "binary", "name": "a", "source": "s"}
    b = {"kind": "binary", "name": "b", "source": "s"}
    manifest = _manifest([a, b])
    manifest["components"].reverse()
    with pytest.raises(ModelError, match="canonical order"):
        Bag.from_json(manifest)


def test_a_lying_env_hash_is_refused() -> None:
    manifest = _manifest([{"kind": "binary", "name": "a", "source": "s"}])
    manifest["env_hash"] = "sha256:" + "0" * 64
    with pytest.raises(ModelError, match="env_hash"):
        Bag.from_json(manifest)


def test_a_lone_surrogate_in_a_manifest_is_a_model_error() -> None:
    manifest = _manifest([{"kind": "binary", "name": "a", "source": "s"}])
    manifest["components"][0]["name"] = "\ud800"
    with pytest.raises(ModelError, match="canonicalised"):
        Bag.from_json(json.loads(json.dumps(manifest)))
