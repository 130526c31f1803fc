"""The CycloneDX SBOM: kinds mapped to types, hashes and purls, determinism, strict validation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from envsecops.bag.sbom import SBOM_NAMESPACE, SbomError, build_sbom, validate_sbom
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status

HEX = "0123456789abcdef" * 4
RUNNER = RunnerFacts(
    (
        ("arch", "x86_64"),
        ("image_os", "ubuntu24"),
        ("image_version", "20260101.1"),
        ("os", "ubuntu"),
    ),
    (("image_os", "env"), ("os", "file")),
)
COMPONENTS = (
    Component(ComponentKind.RUNNER, "github-hosted", "runner", properties=(("arch", "x86_64"),)),
    Component(
        ComponentKind.BINARY, "git", "path-binaries", path="/usr/bin/git", digest="sha256:" + HEX
    ),
    Component(
        ComponentKind.PACKAGE,
        "requests",
        "python",
        version="2.32.3",
        path="/usr/lib/python3/dist-packages/requests-2.32.3.dist-info",
        digest="sha256:" + "1" * 64,
        purl="pkg:pypi/requests@2.32.3",
    ),
    Component(
        ComponentKind.PACKAGE, "bash", "dpkg", version="5.2-1", purl="pkg:deb/ubuntu/bash@5.2-1"
    ),
    Component(
        ComponentKind.TOOLCHAIN,
        "Python",
        "tool-cache",
        version="3.12.1",
        digest="sha256:" + "2" * 64,
    ),
    Component(
        ComponentKind.CONFIG,
        "/etc/pip.conf",
        "configs",
        path="/etc/pip.conf",
        digest="sha256:" + "3" * 64,
    ),
    Component(
        ComponentKind.ENV,
        "LD_PRELOAD",
        "env",
        digest="sha256:" + "4" * 64,
        properties=(("risky", "true"),),
    ),
    Component(ComponentKind.ACTION, "actions/checkout", "actions", version="b" * 40),
    Component(ComponentKind.ACTION, "actions/cache/save", "actions", version="c" * 40),
    Component(
        ComponentKind.IMAGE, "node", "container", version="20", purl="pkg:oci/node@sha256%3A" + HEX
    ),
    Component(
        ComponentKind.BINARY, "gone", "path-binaries", path="/usr/bin/gone", status=Status.VANISHED
    ),
    Component(
        ComponentKind.ENV, "GITHUB_RUN_ID", "env", digest="sha256:" + "5" * 64, volatile=True
    ),
)


def _bag(
    components: tuple[Component, ...] = COMPONENTS, created_at: str = "2026-03-01T10:20:30Z"
) -> Bag:
    return Bag.build(RUNNER, components, created_at=created_at, tool="envsecops 0.1.0")


def _document(bag: Bag) -> dict[str, Any]:
    sbom = build_sbom(bag)
    assert sbom.validated, "jsonschema is a dev dependency: the validator must run in the tests"
    data: dict[str, Any] = json.loads(sbom.text)
    return data


def _by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in data["components"]}


def _props(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def test_header_is_cyclonedx_1_6_with_fixed_serial_and_the_bags_time() -> None:
    bag = _bag()
    data = _document(bag)
    assert (data["bomFormat"], data["specVersion"], data["version"]) == ("CycloneDX", "1.6", 1)
    assert data["serialNumber"] == f"urn:uuid:{uuid.uuid5(SBOM_NAMESPACE, bag.env_hash)}"
    assert data["metadata"]["timestamp"] == "2026-03-01T10:20:30+00:00"
    assert data["metadata"]["tools"]["components"][0]["name"] == "envsecops"
    root = data["metadata"]["component"]
    assert (root["type"], root["name"], root["version"]) == ("platform", "ubuntu24", "20260101.1")
    assert _props(root)["envsecops:env_hash"] == bag.env_hash
    assert _props(root)["envsecops:origin:os"] == "file"


@pytest.mark.parametrize(
    ("name", "cdx_type", "hashed"),
    [
        ("github-hosted", "platform", False),
        ("git", "application", True),
        ("requests", "library", False),
        ("Python", "application", False),
        ("/etc/pip.conf", "file", True),
        ("LD_PRELOAD", "data", False),
        ("actions/checkout", "application", False),
        ("node", "container", False),
    ],
)
def test_kinds_map_to_types_and_only_file_contents_become_hashes(
    name: str, cdx_type: str, hashed: bool
) -> None:
    component = _by_name(_document(_bag()))[name]
    assert component["type"] == cdx_type
    source = next(c for c in COMPONENTS if c.name == name)
    if hashed:
        assert component["hashes"] == [{"alg": "SHA-256", "content": (source.digest or "")[7:]}]
    else:
        assert "hashes" not in component
    props = _props(component)
    assert props["envsecops:kind"] == source.kind.value
    assert props["envsecops:source"] == source.source
    assert props.get("envsecops:digest") == source.digest


def test_purls_are_kept_and_actions_get_github_purls() -> None:
    components = _by_name(_document(_bag()))
    assert components["requests"]["purl"] == "pkg:pypi/requests@2.32.3"
    assert components["bash"]["purl"] == "pkg:deb/ubuntu/bash@5.2-1"
    assert components["actions/checkout"]["purl"] == "pkg:github/actions/checkout@" + "b" * 40
    assert (
        components["actions/cache/save"]["purl"] == "pkg:github/actions/cache@" + "c" * 40 + "#save"
    )
    assert "purl" not in components["git"]


def test_env_values_never_appear_and_status_volatile_and_properties_are_kept() -> None:
    components = _by_name(_document(_bag()))
    assert _props(components["LD_PRELOAD"])["envsecops:property:risky"] == "true"
    assert _props(components["gone"])["envsecops:status"] == "vanished"
    assert "envsecops:status" not in _props(components["git"]), "ok is not stated"
    assert _props(components["GITHUB_RUN_ID"])["envsecops:volatile"] == "true"
    assert set(components["LD_PRELOAD"]) == {"bom-ref", "name", "type", "properties"}


def test_every_component_is_listed_once_and_the_environment_depends_on_all() -> None:
    data = _document(_bag())
    refs = [c["bom-ref"] for c in data["components"]]
    assert len(refs) == len(set(refs)) == len(COMPONENTS)
    root = next(d for d in data["dependencies"] if d["ref"] == "environment")
    assert sorted(root["dependsOn"]) == sorted(refs)


def test_same_bag_gives_byte_identical_sboms() -> None:
    first = build_sbom(_bag()).text
    second = build_sbom(_bag(tuple(reversed(COMPONENTS)))).text
    assert first == second


def test_a_changed_component_changes_its_ref_and_the_serial_but_not_the_others() -> None:
    changed = tuple(
        Component(c.kind, c.name, c.source, path=c.path, digest="sha256:" + "9" * 64)
        if c.name == "git"
        else c
        for c in COMPONENTS
    )
    before, after = _document(_bag()), _document(_bag(changed))
    assert before["serialNumber"] != after["serialNumber"]
    refs_before = {c["name"]: c["bom-ref"] for c in before["components"]}
    refs_after = {c["name"]: c["bom-ref"] for c in after["components"]}
    assert refs_before.pop("git") != refs_after.pop("git")
    assert refs_before == refs_after


def test_an_unparseable_purl_is_kept_as_a_property_and_the_sbom_still_validates() -> None:
    odd = Component(ComponentKind.PACKAGE, "odd", "python", version="1", purl="not a purl")
    component = _by_name(_document(_bag((odd,))))["odd"]
    assert "purl" not in component
    assert _props(component)["envsecops:invalid-purl"] == "not a purl"


def test_an_empty_bag_is_still_a_valid_sbom() -> None:
    data = _document(_bag(()))
    assert data.get("components", []) == []


@pytest.mark.parametrize("created_at", ["", "yesterday", "2026-03-01T10:20:30"])
def test_a_bag_without_a_zoned_creation_time_is_refused(created_at: str) -> None:
    with pytest.raises(SbomError, match="created_at"):
        build_sbom(_bag(created_at=created_at))


def test_the_validator_rejects_a_tampered_document() -> None:
    data = _document(_bag())
    data["components"][0]["type"] = "spaceship"
    with pytest.raises(SbomError, match=r"does not validate against CycloneDX 1\.6"):
        validate_sbom(json.dumps(data))
    data = _document(_bag())
    data["unexpected"] = True  # strict: unknown properties are errors too
    with pytest.raises(SbomError, match="does not validate"):
        validate_sbom(json.dumps(data))


def test_the_validator_rejects_text_that_is_not_json() -> None:
    with pytest.raises(SbomError, match="not JSON"):
        validate_sbom("{not json")


def _many(count: int) -> Bag:
    return _bag(
        tuple(
            Component(ComponentKind.BINARY, f"tool{i}", "path-binaries", path=f"/usr/bin/tool{i}")
            for i in range(count)
        )
    )


def test_a_large_sbom_is_validated_in_every_slice() -> None:
    data = _document(_many(450))  # three validation slices
    data["components"][430]["type"] = "spaceship"
    with pytest.raises(SbomError, match="spaceship"):
        validate_sbom(json.dumps(data))


def test_duplicates_across_validation_slices_are_found() -> None:
    data = _document(_many(450))
    data["components"][449] = data["components"][3]
    with pytest.raises(SbomError, match="`components` has 1 duplicate item"):
        validate_sbom(json.dumps(data))
    data = _document(_many(450))
    data["dependencies"].append(data["dependencies"][0])
    with pytest.raises(SbomError, match="`dependencies` has 1 duplicate item"):
        validate_sbom(json.dumps(data))


def test_non_json_numbers_are_refused() -> None:
    with pytest.raises(SbomError, match="NaN is not a JSON number"):
        validate_sbom('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": NaN}')
