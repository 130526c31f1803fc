"""Load `.github/envsecops.yml` strictly into a `Policy`: one read, all sections, each defect named.

The YAML is composed once (bounded, duplicate keys refused, scalars kept as the strings
written); each section is read from that tree by its own module. Any defect is an
:class:`InputError` naming the file, line, column and key path, with an example as the fix.
A missing file is a :class:`PolicyMissingError`, so that verify can tell `policy.missing`
from `policy.invalid`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from envsecops.canonical import digest_of_strings
from envsecops.errors import InputError
from envsecops.model.decision import Mode
from envsecops.policy.ledger import ledger_from_node, repository_root
from envsecops.policy.load_common import Reader
from envsecops.policy.load_components import (
    load_actions,
    load_binaries,
    load_configs,
    load_env,
    load_tool_cache,
)
from envsecops.policy.load_credentials import load_credentials
from envsecops.policy.load_packages import load_packages, load_sbom
from envsecops.policy.load_runner import load_runner
from envsecops.policy.model import (
    DEFAULT_MAX_ATTESTATION_AGE,
    CredentialsPolicy,
    EnvPolicy,
    PackagesPolicy,
    Policy,
    RunnerPolicy,
    SbomPolicy,
)
from envsecops.policy.pins import TOP_LEVEL_KEYS, pins_from_node
from envsecops.policy.source import INIT_FIX, compose_policy
from envsecops.syntax.yaml import MERGE_KEY, MappingNode, Node, ScalarNode, SequenceNode, items

__all__ = [
    "PolicyMissingError",
    "document_json",
    "load_policy_file",
    "load_policy_text",
    "policy_id_of",
]

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
VERSIONS = ("1",)
MIN_AGE = 1
MAX_AGE = 24 * 3600


class PolicyMissingError(InputError):
    """There is no policy file at the path given (verify: `policy.missing`)."""


def document_json(node: Node) -> Any:
    """The YAML tree as JSON: mappings (merges followed) → objects, lists, scalars as strings."""
    kind = type(node)
    if kind is ScalarNode:  # most nodes: checked first, exactly (this walk is on the hot path)
        return str(node.value)
    if kind is SequenceNode:
        return [document_json(child) for child in node.value]
    if isinstance(node, MappingNode):
        pairs = node.value
        if all(type(key) is ScalarNode and key.value != MERGE_KEY for key, _ in pairs):
            return {key.value: document_json(value) for key, value in pairs}
        return {name: document_json(value) for name, _key, value in items(node)}
    return str(node.value)


def policy_id_of(name: str, document: Any) -> str:
    """`<name>@sha256:<first 12 hex>` of the canonical JSON of the document (as
    :func:`document_json` gives it: objects, arrays and strings only)."""
    return f"{name}@sha256:{digest_of_strings(document).removeprefix('sha256:')[:12]}"


def load_policy_file(path: Path, display: str | None = None) -> Policy:
    """Load the policy at ``path``; pins globs and a relative ledger file are relative to the
    repository holding it (the parent of `.github/`)."""
    shown = display if display is not None else path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyMissingError(
            "there is no policy file, so nothing can be allowed", path=shown, fix=INIT_FIX
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the policy file: {exc}", path=shown) from exc
    return load_policy_text(text, shown, root=repository_root(path))


def load_policy_text(text: str, display: str, *, root: Path | None = None) -> Policy:
    """Load a policy document; ``display`` names it in errors and in ``Policy.source``."""
    node = compose_policy(text, display)
    reader = Reader(display)
    fields = reader.fields(node, "", TOP_LEVEL_KEYS)
    if "version" in fields:
        reader.choice(fields["version"], "version", VERSIONS)
    if "name" not in fields:
        raise reader.fail(node, "name", "the policy needs a `name:` (it prefixes the policy id)")
    name = reader.text(fields["name"], "name")
    if not NAME.fullmatch(name):
        raise reader.fail(
            fields["name"],
            "name",
            f"`name`: {name!r} must be 1 to 64 letters, digits, dots, underscores or hyphens",
        )
    mode = Mode.ENFORCE
    if "mode" in fields:
        mode = Mode(reader.choice(fields["mode"], "mode", tuple(m.value for m in Mode)))
    age = DEFAULT_MAX_ATTESTATION_AGE
    if "max-attestation-age" in fields:
        age = reader.duration(
            fields["max-attestation-age"], "max-attestation-age", MIN_AGE, MAX_AGE
        )
    return Policy(
        name=name,
        policy_id=policy_id_of(name, document_json(node)),
        source=display,
        mode=mode,
        max_attestation_age=age,
        runner=load_runner(reader, fields["runner"]) if "runner" in fields else RunnerPolicy(),
        binaries=load_binaries(reader, fields["binaries"]) if "binaries" in fields else (),
        tool_cache=(
            load_tool_cache(reader, fields["tool-cache"]) if "tool-cache" in fields else ()
        ),
        packages=(
            load_packages(reader, fields["packages"]) if "packages" in fields else PackagesPolicy()
        ),
        configs=load_configs(reader, fields["configs"]) if "configs" in fields else (),
        env=load_env(reader, fields["env"]) if "env" in fields else EnvPolicy(),
        actions=load_actions(reader, fields["actions"]) if "actions" in fields else (),
        sbom=load_sbom(reader, fields["sbom"]) if "sbom" in fields else SbomPolicy(),
        pins=pins_from_node(fields.get("pins"), display, None, root),
        credentials=(
            load_credentials(reader, fields["credentials"])
            if "credentials" in fields
            else CredentialsPolicy()
        ),
        ledger=ledger_from_node(fields["ledger"], display, root) if "ledger" in fields else None,
    )
