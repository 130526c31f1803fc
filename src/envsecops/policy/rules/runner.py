"""`runner`: the runner environment, image, OS, architecture and container, and env mismatches.

The facts come from the bag's `RunnerFacts`; a fact the policy constrains but the bag lacks is
a deny (it cannot be shown to be allowed), except ``runner_environment``, whose absence is the
environment ``unknown`` (a local run outside Actions), which the policy may list. Runner
components named ``env-claim-mismatch:*`` (a variable that disagrees with the signed OIDC claim)
and ``env-file-mismatch:*`` (``ImageVersion`` against the image's own file) are
`runner.mismatch` reasons whatever the policy says: some earlier step rewrote what the runner
said about itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.bag import Component, ComponentKind
from envsecops.model.decision import Reason
from envsecops.policy.model import DEFAULT_ENVIRONMENTS, VersionedName
from envsecops.policy.rules.common import Inputs, glob_match, join, quoted

MISMATCH_PREFIXES = ("env-claim-mismatch:", "env-file-mismatch:")


def check(inputs: Inputs) -> Iterator[Reason]:
    """Every runner reason: facts against `runner:`, then mismatch records."""
    yield from _environment(inputs)
    runner = inputs.policy.runner
    if runner.images is not None:
        yield from _versioned(inputs, "image", runner.images, ("image_os", "image_version"))
    if runner.os is not None:
        yield from _versioned(inputs, "os", runner.os, ("os", "os_version"))
    if runner.arch is not None:
        yield from _arch(inputs, runner.arch)
    if runner.containers is not None:
        yield from _container(inputs, runner.containers)
    for component in inputs.bag.components:
        if component.kind is ComponentKind.RUNNER and component.name.startswith(MISMATCH_PREFIXES):
            yield _mismatch(component)


def _where(inputs: Inputs) -> str:
    runner = inputs.policy.runner
    if runner.environments == DEFAULT_ENVIRONMENTS and runner.line == 0:
        return "the default (`runner.environments: [github-hosted]`)"
    return inputs.at(runner.line)


def _environment(inputs: Inputs) -> Iterator[Reason]:
    value = inputs.bag.runner.get("runner_environment") or "unknown"
    allowed = inputs.policy.runner.environments
    if value in allowed:
        return
    origin = inputs.bag.runner.get("runner_environment")
    found = (
        "the bag has no runner_environment fact (a run outside GitHub Actions), so it is `unknown`"
        if origin is None
        else f"the runner environment is {quoted(value)}"
    )
    fix = (
        f"add `{value}` to `runner.environments` if such runners are trusted"
        if value in ("self-hosted", "unknown")
        else "run the job on an allowed runner"
    )
    yield Reason(
        "runner.environment",
        "runner runner_environment",
        f"{found}; {_where(inputs)} allows {join(list(allowed))}; {fix}",
    )


def _versioned(
    inputs: Inputs, what: str, entries: tuple[VersionedName, ...], facts: tuple[str, str]
) -> Iterator[Reason]:
    name, version = (inputs.bag.runner.get(fact) for fact in facts)
    code, lines = f"runner.{what}", inputs.lines(e.line for e in entries)
    if name is None:
        yield Reason(
            code,
            f"runner {facts[0]}",
            f"the bag has no {facts[0]} fact, so the {what} allowed at {lines} cannot be "
            f"confirmed; attest on a runner that reports it, or remove `runner.{_key(what)}`",
        )
        return
    named = [e for e in entries if glob_match(name, e.name)]
    if not named:
        listed = join([f"`{e.name}`" for e in entries]) or "nothing"
        yield Reason(
            code,
            f"runner {facts[0]}",
            f"{facts[0]} is {quoted(name)}; {lines} allows {listed}; add "
            f"`- {{{_field(what)}: {name}}}` under `runner.{_key(what)}` if it is trusted",
        )
        return
    if any(not e.versions for e in named):
        return
    wanted = [v for e in named for v in e.versions]
    if version is not None and any(glob_match(version, v) for v in wanted):
        return
    where = inputs.lines(e.line for e in named)
    found = f"{facts[1]} is {quoted(version)}" if version else f"the bag has no {facts[1]} fact"
    yield Reason(
        code,
        f"runner {facts[1]}",
        f"{found}; {where} allows {name} versions {join([f'`{v}`' for v in wanted])}; "
        f"add the version there if it is trusted",
    )


def _key(what: str) -> str:
    return "images" if what == "image" else what


def _field(what: str) -> str:
    return "os" if what == "image" else "id"


def _arch(inputs: Inputs, arch: tuple[str, ...]) -> Iterator[Reason]:
    value = inputs.bag.runner.get("arch")
    if value is not None and any(glob_match(value, a) for a in arch):
        return
    found = f"the architecture is {quoted(value)}" if value else "the bag has no arch fact"
    where = inputs.at(inputs.policy.runner.line)
    allowed = join([f"`{a}`" for a in arch]) or "nothing"
    yield Reason(
        "runner.arch",
        "runner arch",
        f"{found}; {where} allows {allowed} in `runner.arch`; add it there if it is trusted",
    )


def _container(inputs: Inputs, containers: tuple[str, ...]) -> Iterator[Reason]:
    image = inputs.bag.runner.get("container_image")
    if image is None or any(glob_match(image, c) for c in containers):
        return
    where = inputs.at(inputs.policy.runner.line)
    if not containers:
        allowed = "no container (`runner.containers: []`)"
    else:
        allowed = join([f"`{c}`" for c in containers])
    yield Reason(
        "runner.container",
        "runner container_image",
        f"the job runs in the container {quoted(image)}; {where} allows {allowed}; add the "
        f"image (pinned by digest) to `runner.containers` if it is trusted",
    )


def _mismatch(component: Component) -> Reason:
    props = dict(component.properties)
    variable = props.get("variable", component.name.partition(":")[2])
    env_value = quoted(props.get("env_value", "?"))
    if component.name.startswith("env-claim-mismatch:"):
        other = f"the signed OIDC claim `{props.get('claim', '?')}` says"
        value = quoted(props.get("claim_value", "?"))
    else:
        other = "the runner image's own file says"
        value = quoted(props.get("file_value", "?"))
    return Reason(
        "runner.mismatch",
        f"runner {component.name}",
        f"${variable} is {env_value} but {other} {value}: an earlier step rewrote it (through "
        f"$GITHUB_ENV); find and remove that step — no policy entry allows this",
    )
