"""bag.json (Bag.from_json via load_json_object) and syft's CycloneDX output.

A damaged manifest is refused with EncodingError or ModelError, or parses into a bag whose
env hash — recomputed from scratch, not through the parser's fast path — is the one the
manifest states. Syft output yields components or a CatalogError, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.bag.interface import CatalogError
from envsecops.bag.syft import SyftCataloger, components_from_cyclonedx
from envsecops.model.bag import Bag
from envsecops.model.facts import ModelError
from tests.fuzz.budget import fuzz_settings, ran
from tests.fuzz.mutate import any_bytes, json_edits, json_values

ROOT = Path(__file__).resolve().parent.parent.parent
BAG = (ROOT / "docs" / "examples" / "policy-tests" / "recorded" / "bag.json").read_bytes()


def _small_bag() -> bytes:
    """The sample with a few components: mutations then reach the hash, not just the size."""
    data = json.loads(BAG)
    data["components"] = data["components"][:4]
    bag = Bag(
        runner=Bag.from_json(json.loads(BAG)).runner,
        components=Bag.from_json(json.loads(BAG)).components[:4],
    )
    data["env_hash"] = bag.env_hash
    return json.dumps(data, sort_keys=True).encode()


SMALL = _small_bag()


def _fresh_hash(bag: Bag) -> str:
    """The env hash through the general path (a new object: no seeded fast-path value)."""
    return Bag(bag.runner, bag.components, bag.created_at, bag.tool, bag.notes).env_hash


@fuzz_settings(300)
@given(content=st.one_of(any_bytes([BAG, SMALL]), json_edits(SMALL), json_edits(BAG)))
@example(content=SMALL.replace(b'"components": [', b'"components": [{"kind": "binary"}, ', 1))
@example(content=SMALL.replace(b'"version"', b'"version": "1", "version"', 1))
def test_damaged_manifests_never_parse_with_a_wrong_hash(content: bytes) -> None:
    """Refused, or the stated env hash is the hash of what was parsed."""
    ran("bag.json")
    try:
        data = load_json_object(content, "bag.json")
        bag = Bag.from_json(data)
    except (EncodingError, ModelError):
        return
    ran("bag.json (parsed)")
    assert bag.env_hash == data["env_hash"] == _fresh_hash(bag)


CDX = json.dumps(
    {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "library",
                "name": "six",
                "version": "1.16.0",
                "purl": "pkg:pypi/six@1.16.0",
                "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
                "properties": [
                    {"name": "syft:location:0:path", "value": "/a/six.dist-info/METADATA"},
                    {"name": "syft:package:foundBy", "value": "python-installed-package"},
                ],
                "components": [{"type": "file", "name": "inner", "version": "1"}],
            },
            {"type": "library", "name": "nopurl", "version": "1"},
        ],
    },
    sort_keys=True,
).encode()


def _nested(depth: int) -> Any:
    node: dict[str, Any] = {"name": "leaf"}
    for _ in range(depth):
        node = {"name": "n", "components": [node]}
    return {"bomFormat": "CycloneDX", "components": [node]}


@fuzz_settings(250)
@given(
    document=st.one_of(
        json_edits(CDX).map(json.loads),
        st.lists(json_values(8), max_size=4).map(
            lambda items: {"bomFormat": "CycloneDX", "components": items}
        ),
        json_values(),
    )
)
@example(document=_nested(40))
def test_syft_documents(document: Any) -> None:
    """Components, each a valid Component, or a CatalogError."""
    ran("syft-cyclonedx")
    try:
        found = components_from_cyclonedx(document, "syft")
    except CatalogError:
        return
    for component in found:
        assert component.source == "syft"
        assert component.name


@pytest.mark.parametrize("depth", [400, 900])
def test_deeply_nested_syft_components(depth: int) -> None:
    """Nesting as deep as JSON parsing allows is walked, not a RecursionError."""
    ran("syft-cyclonedx")
    assert len(components_from_cyclonedx(_nested(depth), "syft")) == 2


@pytest.fixture(scope="module")
def syft_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fake syft run 'wrote' its CycloneDX file."""
    return tmp_path_factory.mktemp("syft-fuzz") / "sbom.cdx.json"


@fuzz_settings(150)
@given(content=any_bytes([CDX]))
@example(content=b"[" * 100_000 + b"]" * 100_000)
@example(content=b'{"a": ' + b"9" * 5000 + b"}")
def test_syft_output_bytes(syft_output: Path, content: bytes) -> None:
    """The bytes syft wrote: read and parsed, or a CatalogError naming syft."""
    ran("syft-cyclonedx")
    syft_output.write_bytes(content)
    cataloger = SyftCataloger(Path("/nonexistent/syft"))
    try:
        document = cataloger._read(syft_output, "")  # the parser under test
        components_from_cyclonedx(document, "syft")
    except CatalogError:
        return
