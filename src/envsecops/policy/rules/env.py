"""`env`: forbidden environment variables, and the exceptions that accept them after all.

The forbidden list defaults to attest-runner's risky list (`RISKY_ENV_VARS` plus each
`RISKY_ENV_PREFIXES` prefix as ``PREFIX*``); the word ``default`` inside a written list expands
to it. The policy list decides, not the ``risky=true`` property a bag carries: a policy that
writes its own list without ``default`` forbids only what it lists.

Case: the bag records names as the process saw them, and they are compared as written, but a
*forbidden* name or glob matches case-insensitively (``ld_preload`` is forbidden by
``LD_PRELOAD``): Windows folds environment names, some tools read either spelling, and a
stricter match is the safe side. An `env.allowed` exception is the opposite: it covers only the
exact spelling (or case-sensitive glob) it writes, so an exception for ``NODE_EXTRA_CA_CERTS``
does not also let ``node_extra_ca_certs`` through.

An exception with digests needs the value's sha256 from the bag: a variable whose name marks it
as a secret (recorded by presence only) or whose value was recorded as an HMAC has none, so
only ``any`` can accept it.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.bag.env import RISKY_ENV_PREFIXES, RISKY_ENV_VARS
from envsecops.model.bag import Component, ComponentKind
from envsecops.model.decision import Reason
from envsecops.policy.model import EnvAllow
from envsecops.policy.rules.common import GlobIndex, Inputs, join, short, subject

DEFAULT_WORD = "default"
DEFAULT_FORBIDDEN: tuple[str, ...] = (
    *sorted(RISKY_ENV_VARS),
    *(f"{prefix}*" for prefix in sorted(RISKY_ENV_PREFIXES)),
)
"""attest-runner's risky list as names and globs: what `env.forbidden` means when absent."""


def forbidden_patterns(written: tuple[str, ...] | None) -> list[tuple[str, bool]]:
    """(pattern, from the default?) for the policy's list, ``default`` expanded."""
    if written is None:
        return [(p, True) for p in DEFAULT_FORBIDDEN]
    out: list[tuple[str, bool]] = []
    for item in written:
        if item == DEFAULT_WORD:
            out.extend((p, True) for p in DEFAULT_FORBIDDEN)
        else:
            out.append((item, False))
    return out


def check(inputs: Inputs) -> Iterator[Reason]:
    """`env.forbidden` and `env.value` reasons."""
    env = inputs.policy.env
    patterns = forbidden_patterns(env.forbidden)
    forbidden = GlobIndex.build(((p, (p, default)) for p, default in patterns), fold=True)
    allowed = GlobIndex.build((rule.name, rule) for rule in env.allowed)
    for component in inputs.by_kind[ComponentKind.ENV]:
        why = forbidden.matching(component.name)
        if not why:
            continue
        exceptions = allowed.matching(component.name)
        if not exceptions:
            yield _forbidden(inputs, component, why[0])
            continue
        if any(rule.digests is None for rule in exceptions):
            continue
        digest = component.digest
        if digest is not None and any(digest in (r.digests or ()) for r in exceptions):
            continue
        yield _value(inputs, component, exceptions)


def _forbidden(inputs: Inputs, component: Component, why: tuple[str, bool]) -> Reason:
    pattern, by_default = why
    if by_default and inputs.policy.env.forbidden is None:
        where = f"`{pattern}` in the default list (attest-runner's risky variables)"
    elif by_default:
        where = f"`{pattern}` (from `default`) in `env.forbidden` at {inputs.at(0)}"
    else:
        where = f"`{pattern}` in `env.forbidden` at {inputs.at(0)}"
    value = f"[{component.digest}]" if component.digest else "any"
    return Reason(
        "env.forbidden",
        subject(component),
        f"{component.name} is set and is forbidden by {where}; remove it from the job (or the "
        f"step that writes it to $GITHUB_ENV), or add `{component.name}: {value}` under "
        f"`env.allowed` if this value is expected",
    )


def _value(inputs: Inputs, component: Component, exceptions: list[EnvAllow]) -> Reason:
    allowed = sorted({d for rule in exceptions for d in rule.digests or ()})
    where = inputs.lines(rule.line for rule in exceptions)
    if component.digest is None:
        how = "a secret name: recorded by presence only" if component.prop("secret") else "HMAC"
        found = (
            f"the bag records no sha256 of {component.name}'s value ({how}), so the digests "
            f"allowed at {where} cannot match; only `any` can accept it"
        )
    else:
        found = (
            f"{component.name} has the value {short(component.digest)}, not among the "
            f"{len(allowed)} allowed at {where} ({join([short(d) for d in allowed])}); add "
            f"`{component.digest}` there if this value is expected"
        )
    return Reason("env.value", subject(component), f"{found}, or remove it from the job")
