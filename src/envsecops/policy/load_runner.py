"""The policy's `runner:` section: which runner environments, images, OSes, CPUs and containers."""

from __future__ import annotations

from envsecops.policy.load_common import Reader, child, index
from envsecops.policy.model import (
    DEFAULT_ENVIRONMENTS,
    RUNNER_ENVIRONMENTS,
    RunnerPolicy,
    VersionedName,
)
from envsecops.syntax.yaml import Node, position

RUNNER_KEYS = frozenset({"environments", "images", "os", "arch", "containers"})
IMAGE_KEYS = frozenset({"os", "versions"})
OS_KEYS = frozenset({"id", "versions"})
_OMIT = "it would refuse every runner; omit the key for no constraint"


def load_runner(reader: Reader, node: Node) -> RunnerPolicy:
    """`runner:`: absent keys set no constraint, except `environments` (github-hosted only)."""
    fields = reader.fields(node, "runner", RUNNER_KEYS)
    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    if "environments" in fields:
        where = "runner.environments"
        listed = reader.sequence(fields["environments"], where, empty=_OMIT)
        environments = tuple(
            dict.fromkeys(
                reader.choice(item, index(where, n), RUNNER_ENVIRONMENTS)
                for n, item in enumerate(listed)
            )
        )
    images = (
        _named(reader, fields["images"], "runner.images", "os", IMAGE_KEYS)
        if "images" in fields
        else None
    )
    systems = _named(reader, fields["os"], "runner.os", "id", OS_KEYS) if "os" in fields else None
    arch = reader.strings(fields["arch"], "runner.arch", empty=_OMIT) if "arch" in fields else None
    containers = (
        reader.strings(fields["containers"], "runner.containers")
        if "containers" in fields
        else None
    )
    return RunnerPolicy(
        environments=environments,
        images=images,
        os=systems,
        arch=arch,
        containers=containers,
        line=position(node)[0],
    )


def _named(
    reader: Reader, node: Node, where: str, name_key: str, allowed: frozenset[str]
) -> tuple[VersionedName, ...]:
    """A list of `{<name_key>: NAME, versions: [GLOB, ...]}` entries."""
    out: list[VersionedName] = []
    for number, entry in enumerate(reader.sequence(node, where, empty=_OMIT)):
        here = index(where, number)
        fields = reader.fields(entry, here, allowed)
        if name_key not in fields:
            raise reader.fail(entry, here, f"`{here}` needs `{name_key}`")
        name = reader.text(fields[name_key], child(here, name_key))
        versions: tuple[str, ...] = ()
        if "versions" in fields:
            versions = reader.strings(
                fields["versions"],
                child(here, "versions"),
                empty="omit `versions` to allow any version",
            )
        out.append(VersionedName(name=name, versions=versions, line=position(entry)[0]))
    return tuple(out)
