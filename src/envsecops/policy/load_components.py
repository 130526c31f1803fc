"""The digest sections of the policy: `binaries`, `tool-cache`, `configs`, `env` and `actions`."""

from __future__ import annotations

import re

from envsecops.policy.load_common import Reader, child, index
from envsecops.policy.model import ActionRule, DigestRule, EnvAllow, EnvPolicy, ToolRule
from envsecops.syntax.yaml import Node, ScalarNode, SequenceNode, position

ENV_KEYS = frozenset({"forbidden", "allowed"})
ACTION_KEYS = frozenset({"shas", "allow-pin-findings"})
DEFAULT_WORD = "default"
WITHHELD_WORD = "withheld"
ANY_WORD = "any"
ANY_SHA_WORD = "any-sha"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_ACTION = re.compile(r"^[^/\s]+/[^/\s]+$")
_ENV_NAME = re.compile(r"^[^=\s]+$")


def load_binaries(reader: Reader, node: Node) -> tuple[DigestRule, ...]:
    """`binaries:` absolute path glob or bare name glob → one digest or a list."""
    out: list[DigestRule] = []
    for name, key, value in reader.mapping(node, "binaries"):
        where = child("binaries", name)
        pattern = reader.text(key, where)
        if "/" in pattern and not pattern.startswith("/"):
            raise reader.fail(
                key,
                where,
                f"binary {pattern!r} is neither an absolute path glob (/usr/bin/git) nor a bare "
                "name glob (git)",
            )
        out.append(DigestRule(pattern, reader.digests(value, where), position(key)[0]))
    return tuple(out)


def load_tool_cache(reader: Reader, node: Node) -> tuple[ToolRule, ...]:
    """`tool-cache:` tool → version glob → tree digests."""
    out: list[ToolRule] = []
    for tool, tool_key, versions in reader.mapping(node, "tool-cache"):
        where = child("tool-cache", tool)
        name = reader.text(tool_key, where)
        entries = reader.mapping(versions, where)
        if not entries:
            raise reader.fail(versions, where, f"`{where}` lists no versions: remove the tool")
        for version, version_key, digests in entries:
            here = child(where, version)
            out.append(
                ToolRule(
                    tool=name,
                    version=reader.text(version_key, here),
                    digests=reader.digests(digests, here),
                    line=position(version_key)[0],
                )
            )
    return tuple(out)


def load_configs(reader: Reader, node: Node) -> tuple[DigestRule, ...]:
    """`configs:` path glob → a digest, a list of digests, or `withheld`."""
    out: list[DigestRule] = []
    for name, key, value in reader.mapping(node, "configs"):
        where = child("configs", name)
        pattern = reader.text(key, where)
        line = position(key)[0]
        if isinstance(value, ScalarNode) and not value.style and value.value == WITHHELD_WORD:
            out.append(DigestRule(pattern, (), line, withheld=True))
        else:
            out.append(DigestRule(pattern, reader.digests(value, where), line))
    return tuple(out)


def default_forbidden() -> tuple[str, ...]:
    """What `default` stands for: attest-runner's risky names, and its prefixes as `PREFIX*`."""
    from envsecops.bag.env import RISKY_ENV_PREFIXES, RISKY_ENV_VARS

    return (*sorted(RISKY_ENV_VARS), *(f"{prefix}*" for prefix in sorted(RISKY_ENV_PREFIXES)))


def _env_name(reader: Reader, node: Node, where: str) -> str:
    name = reader.text(node, where)
    if not _ENV_NAME.match(name):
        raise reader.fail(
            node, where, f"{name!r} is not an environment variable name or glob (no spaces or =)"
        )
    return name


def load_env(reader: Reader, node: Node) -> EnvPolicy:
    """`env:` forbidden names or globs (`default` expanded in place) and the exceptions."""
    fields = reader.fields(node, "env", ENV_KEYS)
    forbidden: tuple[str, ...] | None = None
    if "forbidden" in fields:
        names: list[str] = []
        listed = reader.sequence(fields["forbidden"], "env.forbidden")
        for number, item in enumerate(listed):
            where = index("env.forbidden", number)
            if isinstance(item, ScalarNode) and not item.style and item.value == DEFAULT_WORD:
                names.extend(default_forbidden())
            else:
                names.append(_env_name(reader, item, where))
        forbidden = tuple(dict.fromkeys(names))
    allowed: list[EnvAllow] = []
    if "allowed" in fields:
        for name, key, value in reader.mapping(fields["allowed"], "env.allowed"):
            where = child("env.allowed", name)
            variable = _env_name(reader, key, where)
            line = position(key)[0]
            if isinstance(value, ScalarNode) and not value.style and value.value == ANY_WORD:
                allowed.append(EnvAllow(variable, None, line))
            else:
                allowed.append(EnvAllow(variable, reader.digests(value, where), line))
    return EnvPolicy(forbidden=forbidden, allowed=tuple(allowed))


def _sha(reader: Reader, node: Node, where: str) -> str:
    value = reader.text(node, where)
    if _SHA.match(value):
        return value
    if _SHA.match(value.lower()):
        hint = "write it in lowercase"
    elif value == ANY_SHA_WORD:
        hint = "write `any-sha` instead of a list to allow any full SHA"
    else:
        hint = "a tag or branch can move; use the commit SHA it points to"
    raise reader.fail(node, where, f"`{where}`: {value!r} is not a full 40-hex commit SHA; {hint}")


def _shas(reader: Reader, node: Node, where: str) -> tuple[str, ...] | None:
    """A list of SHAs, one SHA, or the word `any-sha` (None)."""
    if isinstance(node, ScalarNode) and not node.style and node.value == ANY_SHA_WORD:
        return None
    if isinstance(node, ScalarNode):
        return (_sha(reader, node, where),)
    listed = reader.sequence(
        node, where, empty="it would allow nothing; list a SHA, write any-sha, or remove the entry"
    )
    return tuple(
        dict.fromkeys(_sha(reader, item, index(where, n)) for n, item in enumerate(listed))
    )


def load_actions(reader: Reader, node: Node) -> tuple[ActionRule, ...]:
    """`actions:` owner/repo glob → SHAs, `any-sha`, or `{shas, allow-pin-findings}`."""
    out: list[ActionRule] = []
    for name, key, value in reader.mapping(node, "actions"):
        where = child("actions", name)
        repo = reader.text(key, where)
        if not _ACTION.match(repo):
            raise reader.fail(
                key,
                where,
                f"{repo!r} is not an owner/repo glob; an action in a sub-directory "
                "(github/codeql-action/init) is allowed through its repository",
            )
        allow_findings = False
        if isinstance(value, ScalarNode | SequenceNode):
            shas = _shas(reader, value, where)
        else:
            fields = reader.fields(value, where, ACTION_KEYS)
            if "shas" not in fields:
                raise reader.fail(value, where, f"`{where}` needs `shas` (a list, or any-sha)")
            shas = _shas(reader, fields["shas"], child(where, "shas"))
            if "allow-pin-findings" in fields:
                allow_findings = reader.boolean(
                    fields["allow-pin-findings"], child(where, "allow-pin-findings")
                )
        out.append(ActionRule(repo, shas, allow_findings, position(key)[0]))
    return tuple(out)
