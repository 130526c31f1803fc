"""The bag as a CycloneDX 1.6 JSON SBOM, built with cyclonedx-python-lib and schema-validated.

The SBOM is deterministic for a given bag and tool version: the serial number is a UUIDv5 of
the env hash, the timestamp is the bag's ``created_at``, and every ``bom-ref`` is derived from
the component's own JSON. Kinds map to CycloneDX types as follows (every component also keeps
its envsecops fields as ``envsecops:*`` properties, so nothing in the bag is lost):

=========  ==================  =========================================================
kind       CycloneDX type      notes
=========  ==================  =========================================================
runner     platform
binary     application         ``hashes`` SHA-256 of the file content
package    library             ``purl`` as catalogued (pypi, npm, deb, rpm, apk...)
toolchain  application         tree digest as a property (not a file hash)
config     file                ``hashes`` SHA-256 of the file content
env        data                name and value digest only, never the value
action     application         ``purl`` ``pkg:github/OWNER/REPO@REF#SUBPATH``
image      container           ``purl`` as catalogued (``pkg:oci/...``)
=========  ==================  =========================================================
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from envsecops import __version__
from envsecops.bag.sbom_validate import SbomError, validate_sbom
from envsecops.canonical import PREFIX, digest_bytes, is_digest
from envsecops.model.bag import Bag, Component, ComponentKind, Status

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType

__all__ = [
    "SBOM_NAMESPACE",
    "Sbom",
    "SbomError",
    "action_purl",
    "build_sbom",
    "serial_number",
    "validate_sbom",
]

SBOM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://envsecops.dev/bag/v1")
"""Namespace of the SBOM serial numbers: ``urn:uuid:<uuid5(namespace, env_hash)>``."""
CONTENT_HASHED = frozenset({ComponentKind.BINARY, ComponentKind.CONFIG})
"""Kinds whose digest is the SHA-256 of one file's bytes (a CycloneDX ``hashes`` entry)."""
GITHUB_NAME = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)(?:/(.+))?$")


@dataclass(frozen=True, slots=True)
class Sbom:
    """The SBOM's JSON text and whether the schema validator ran over it."""

    text: str
    validated: bool
    components: int


def serial_number(bag: Bag) -> uuid.UUID:
    """The SBOM serial number for a bag: a UUIDv5 of its env hash."""
    return uuid.uuid5(SBOM_NAMESPACE, bag.env_hash)


def build_sbom(bag: Bag, *, validate: bool = True) -> Sbom:
    """Build the CycloneDX 1.6 JSON for ``bag``, then validate it (when the validator exists).

    Raises SbomError when the bag has no usable ``created_at``, or when validation fails.
    The validator needs ``jsonschema``; when it is not installed, ``validated`` is False and
    the caller must say so (it is never silently treated as validated).
    """
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6

    bom = Bom(serial_number=serial_number(bag))
    bom.metadata.timestamp = _timestamp(bag.created_at)
    bom.metadata.tools.components.add(_tool())
    root = _root(bag)
    bom.metadata.component = root
    refs: set[str] = set()
    parts = sorted((_component(c, refs) for c in bag.components), key=_library_order)
    bom.components.update(parts)  # already in order: the set's sort is then a linear pass
    _depend(bom, root, parts)  # the environment is made of its components
    try:
        text = JsonV1Dot6(bom).output_as_string(indent=None)
    except (ValueError, TypeError) as exc:  # the library refuses a model it cannot serialise
        raise SbomError(f"cyclonedx-python-lib could not serialise the SBOM: {exc}") from exc
    validated = validate and validate_sbom(text)
    return Sbom(text=text, validated=validated, components=len(bag.components))


def _library_order(part: CdxComponent) -> tuple[str, str, bool, str, str]:
    """The order cyclonedx-python-lib keeps components in (type, name, version with None
    last, bom-ref; unique by bom-ref), computed once per component instead of per comparison.
    The library sorts again either way, so this only saves time."""
    return (
        part.type.value,
        part.name,
        part.version is None,
        part.version or "",
        part.bom_ref.value or "",
    )


def _depend(bom: Bom, root: CdxComponent, parts: list[CdxComponent]) -> None:
    """Register ``root`` depending on every part, and every part, without a quadratic scan.

    ``Bom.register_dependency`` finds an entry by scanning all entries, and the serialiser
    calls it once per component; with the entries added here first, the instance's version
    only scans for components that have none (there are none left), so output is linear.
    """
    from cyclonedx.model.dependency import Dependency

    leaves = [Dependency(ref=part.bom_ref) for part in parts]
    bom.dependencies.update([Dependency(ref=root.bom_ref, dependencies=leaves), *leaves])
    known = {root.bom_ref.value, *(part.bom_ref.value for part in parts)}
    scan = bom.register_dependency

    def register(target: Any, depends_on: Any = None) -> None:
        if depends_on is None and target.bom_ref.value in known:
            return
        scan(target, depends_on)

    bom.register_dependency = register  # type: ignore[method-assign]


def _timestamp(created_at: str) -> datetime:
    """The bag's creation time; an SBOM without a reproducible timestamp is refused."""
    try:
        stamp = datetime.fromisoformat(created_at)
    except ValueError as exc:
        raise SbomError(
            f"the bag's created_at {created_at!r} is not an ISO 8601 time",
            fix="build the bag with take_inventory, which stamps created_at in UTC",
        ) from exc
    if stamp.tzinfo is None:
        raise SbomError(f"the bag's created_at {created_at!r} has no time zone")
    return stamp


def _tool() -> CdxComponent:
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType

    return CdxComponent(
        type=ComponentType.APPLICATION, name="envsecops", version=__version__, bom_ref="tool"
    )


def _root(bag: Bag) -> CdxComponent:
    """The described environment: the runner, named by its env hash, facts as properties."""
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType

    props = [Property(name=f"envsecops:runner:{k}", value=v) for k, v in bag.runner.facts]
    props += [Property(name=f"envsecops:origin:{k}", value=v) for k, v in bag.runner.origins]
    props.append(Property(name="envsecops:env_hash", value=bag.env_hash))
    name = bag.runner.get("image_os") or bag.runner.get("os") or "runner"
    return CdxComponent(
        type=ComponentType.PLATFORM,
        name=name,
        version=bag.runner.get("image_version") or bag.runner.get("os_version"),
        bom_ref="environment",
        properties=props,
    )


def _type(kind: ComponentKind) -> ComponentType:
    from cyclonedx.model.component import ComponentType

    return {
        ComponentKind.RUNNER: ComponentType.PLATFORM,
        ComponentKind.BINARY: ComponentType.APPLICATION,
        ComponentKind.PACKAGE: ComponentType.LIBRARY,
        ComponentKind.TOOLCHAIN: ComponentType.APPLICATION,
        ComponentKind.CONFIG: ComponentType.FILE,
        ComponentKind.ENV: ComponentType.DATA,
        ComponentKind.ACTION: ComponentType.APPLICATION,
        ComponentKind.IMAGE: ComponentType.CONTAINER,
    }[kind]


def _bom_ref(component: Component, taken: set[str]) -> str:
    """A stable, unique reference: kind plus 24 hex of the component's own JSON digest."""
    text = json.dumps(component.to_json(), sort_keys=True, separators=(",", ":"))
    base = f"{component.kind.value}-{digest_bytes(text.encode('ascii'))[len(PREFIX) :][:24]}"
    ref, n = base, 1
    while ref in taken:
        n += 1
        ref = f"{base}-{n}"
    taken.add(ref)
    return ref


def action_purl(component: Component) -> str | None:
    """``pkg:github/OWNER/REPO@REF#SUBPATH`` for an action named ``owner/repo[/path]``."""
    match = GITHUB_NAME.match(component.name)
    if match is None or not component.version:
        return None
    from packageurl import PackageURL

    owner, repo, subpath = match.groups()
    return str(
        PackageURL(
            type="github",
            namespace=owner.lower(),
            name=repo.lower(),
            version=component.version,
            subpath=subpath,
        )
    )


def _component(component: Component, refs: set[str]) -> CdxComponent:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component as CdxComponent
    from packageurl import PackageURL

    props = [
        Property(name="envsecops:kind", value=component.kind.value),
        Property(name="envsecops:source", value=component.source),
    ]
    if component.path is not None:
        props.append(Property(name="envsecops:path", value=component.path))
    if component.digest is not None:
        props.append(Property(name="envsecops:digest", value=component.digest))
    if component.status is not Status.OK:  # as in bag.json: only a problem is stated
        props.append(Property(name="envsecops:status", value=component.status.value))
    if component.volatile:
        props.append(Property(name="envsecops:volatile", value="true"))
    props += [Property(name=f"envsecops:property:{k}", value=v) for k, v in component.properties]
    purl_text = component.purl
    if purl_text is None and component.kind is ComponentKind.ACTION:
        purl_text = action_purl(component)
    purl = None
    if purl_text is not None:
        try:
            purl = PackageURL.from_string(purl_text)
        except ValueError:
            props.append(Property(name="envsecops:invalid-purl", value=purl_text))
    hashes = []
    if (
        component.kind in CONTENT_HASHED
        and component.digest is not None
        and is_digest(component.digest)
    ):
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=component.digest[len(PREFIX) :]))
    return CdxComponent(
        type=_type(component.kind),
        name=component.name or "(unnamed)",
        version=component.version if component.version is not None else None,
        bom_ref=_bom_ref(component, refs),
        purl=purl,
        hashes=hashes,
        properties=props,
    )
