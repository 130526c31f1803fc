"""`policy init`: draft a readable, grouped, commented policy that allows exactly one bag.

The draft lists every binary (grouped by PATH directory, in PATH order), tool-cache tree,
package (grouped by purl type, one rule per purl with its exact versions), config file, risky
environment variable and action of the bag, pins the runner facts, and ends with the
components no policy can allow. The same bag always gives the same bytes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from envsecops.errors import UsageError
from envsecops.model.bag import Bag, Component, ComponentKind
from envsecops.policy.allowable import (
    PATH_ENTRY,
    WITHHELD,
    Blocked,
    Entry,
    classify,
    label,
)
from envsecops.policy.render_sections import (
    actions_section,
    env_section,
    runner_section,
    tail_sections,
)
from envsecops.policy.render_yaml import comment, comment_lines, flow_list, scalar

NAME = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
SCHEMA_URL = "https://envsecops.dev/schemas/policy.v1.json"
DENY_EXAMPLE = '[{purl: pkg:pypi/requests, versions: "<2.32.0", reason: CVE-2024-35195}]'
PURL_TYPES = {
    "deb": "Debian/Ubuntu packages (dpkg)",
    "rpm": "RPM packages",
    "apk": "Alpine packages",
    "pypi": "Python distributions",
    "npm": "Node packages",
    "generic": "generic components",
    "golang": "Go modules",
    "maven": "Java (Maven) packages",
    "gem": "Ruby gems",
    "cargo": "Rust crates",
}


@dataclass(frozen=True, slots=True)
class Draft:
    """The drafted policy text, and (reason code, subject, why) of each thing it will deny."""

    text: str
    denied: tuple[tuple[str, str, str], ...]


def render_policy(bag: Bag, *, name: str) -> str:
    """The draft policy text for ``bag``; ``name`` becomes the policy's name."""
    return draft_policy(bag, name=name).text


def draft_policy(bag: Bag, *, name: str) -> Draft:
    """The draft for ``bag``, and what it will deny."""
    if not NAME.match(name):
        raise UsageError(
            f"policy name {name!r} must be 1 to 64 of letters, digits, `.`, `_` and `-`",
            fix="pass --name, e.g. --name payments-deploy",
        )
    entries: list[Entry] = []
    blocked: list[Blocked] = []
    for component in bag.components:
        found = classify(component)
        if isinstance(found, Entry):
            entries.append(found)
        elif isinstance(found, Blocked):
            blocked.append(found)
    by_section: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_section[entry.section].append(entry)
    lines = _header(bag)
    lines += _top(name)
    lines += runner_section(bag, blocked)
    lines += _binaries(by_section["binaries"], bag.components)
    lines += _tool_cache(by_section["tool-cache"])
    lines += _packages(by_section["packages"])
    lines += _configs(by_section["configs"])
    lines += env_section(by_section["env"])
    lines += actions_section(by_section["actions"], blocked)
    lines += tail_sections()
    ordered = sorted(blocked, key=lambda b: (b.code, label(b.component), b.why))
    lines += _denied(ordered)
    denied = tuple((b.code, label(b.component), b.why) for b in ordered)
    return Draft("\n".join(lines) + "\n", denied)


def _header(bag: Bag) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for component in bag.components:
        counts[component.kind.value] += 1
    summary = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items()))
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_URL}",
        "#",
        "# envsecops policy, drafted by `envsecops policy init` from one bag:",
        f"#   env hash:   {bag.env_hash}",
        f"#   created at: {comment(bag.created_at or 'unknown')}"
        f" by {comment(bag.tool or 'an unknown tool')}",
        f"#   components: {len(bag.components):,} ({summary or 'none'})",
        "#",
    ]
    lines += comment_lines(
        "It allows exactly that bag, except what the list at the end says will be denied: any "
        "binary, package, config file, risky variable or action not listed below (or with "
        "another digest, version or commit) is denied, and so is every section's fail-closed "
        "default. Before committing it as .github/envsecops.yml:"
    )
    lines += [
        "#   1. Review every entry: remove what this job should not need, and merge",
        "#      entries into globs or version ranges only where you mean it.",
        '#   2. Read "these will be denied" at the end: fix the runner, not the policy.',
        "#   3. Add cases and run `envsecops policy test`; replay recorded bags against the",
        "#      old and new policy with `envsecops policy diff OLD NEW --bags DIR`.",
        "#   4. Roll out with `mode: audit` first if other jobs share this policy.",
        "",
    ]
    return lines


def _top(name: str) -> list[str]:
    return [
        'version: "1"',
        f"name: {scalar(name)}   # the prefix of the policy id every decision records",
        "# enforce: a deny fails the step. audit: a deny is recorded and shown, the step passes.",
        "mode: enforce",
        "# How long after attest an attestation is still accepted (90s, 10m, 1h; default 10m).",
        "max-attestation-age: 10m",
        "",
    ]


def _values(entries: Iterable[Entry]) -> list[str]:
    return sorted({entry.value for entry in entries})


def _notes(entries: Iterable[Entry]) -> str:
    notes = sorted({entry.note for entry in entries if entry.note})
    return f"  # {comment('; '.join(notes))}" if notes else ""


def _keyed(entries: list[Entry], depth: int = 0) -> dict[str, list[Entry]]:
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.keys[depth]].append(entry)
    return dict(sorted(grouped.items()))


def _positions(components: Iterable[Component]) -> dict[str, tuple[int, Component]]:
    """PATH entries by text: (first position, the path-entry record)."""
    out: dict[str, tuple[int, Component]] = {}
    for component in components:
        if component.kind is ComponentKind.BINARY and component.name == PATH_ENTRY:
            text = component.path or ""
            first = (component.prop("positions") or "").split(",")[0]
            out[text] = (int(first) if first.isdigit() else 1_000_000, component)
    return out


def _binaries(entries: list[Entry], components: tuple[Component, ...]) -> list[str]:
    lines = comment_lines(
        "binaries: every executable reachable through PATH, by absolute path, with the sha256 "
        "digests its content may have. Unlisted: denied (binary.unlisted); another digest: "
        "denied (binary.digest). Grouped by PATH directory, in PATH order."
    )
    positions = _positions(components)
    by_dir: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        where = entry.component.prop("path-entry")
        if where is None:
            where = (entry.component.path or "/").rsplit("/", 1)[0] or "/"
        by_dir[where].append(entry)
    order = sorted(
        set(by_dir) | set(positions),
        key=lambda d: (positions[d][0] if d in positions else 1_000_000, d),
    )
    body: list[str] = []
    for directory in order:
        group = by_dir.get(directory, [])
        body += _directory_comment(directory, positions.get(directory), len(group))
        for path, same in _keyed(group).items():
            body.append(f"  {scalar(path)}: {flow_list(_values(same))}{_notes(same)}")
    if not entries:
        return [*lines, "# binaries: none in the bag (PATH reached no executable)", ""]
    return [*lines, "binaries:", *body, ""]


def _directory_comment(
    directory: str, found: tuple[int, Component] | None, count: int
) -> list[str]:
    shown = comment(directory) if directory else "(empty entry: the current directory)"
    if found is None:
        return [f"  # {shown}: {_executables(count)}"]
    position, record = found
    state = record.prop("path-entry-state") or "ok"
    listed = (record.prop("positions") or str(position)).split(",")
    where = f"PATH position{'s' if len(listed) > 1 else ''} {', '.join(listed)}"
    same = record.prop("same-directory-as")
    if same is not None:
        return [f"  # {shown} ({where}): the same directory as {comment(same)}, listed there"]
    if count == 0:
        return [f"  # {shown} ({where}): {comment(state)}, no executable listed"]
    extra = "" if state == "ok" else f", {comment(state)}"
    return [f"  # {shown} ({where}{extra}): {_executables(count)}"]


def _executables(count: int) -> str:
    return f"{count:,} executable{'' if count == 1 else 's'}"


def _tool_cache(entries: list[Entry]) -> list[str]:
    lines = comment_lines(
        "tool-cache: the hosted tool cache ($RUNNER_TOOL_CACHE), tool -> version -> the "
        "Merkle digests of its trees (one per architecture). Unlisted tool or version: denied "
        "(toolchain.unlisted); another tree digest: denied (toolchain.digest)."
    )
    if not entries:
        return [*lines, "# tool-cache: none in the bag (no hosted tool cache)", ""]
    body = ["tool-cache:"]
    for tool, group in _keyed(entries).items():
        body.append(f"  {scalar(tool)}:")
        for version, same in _keyed(group, 1).items():
            value = flow_list(_values(same))
            body.append(f"    {scalar(version)}: {value}{_notes(same)}")
    return [*lines, *body, ""]


def _packages(entries: list[Entry]) -> list[str]:
    lines = comment_lines(
        "packages: every package must match an `allow` rule and no `deny` rule. One rule per "
        "purl (pkg:TYPE/NAMESPACE/NAME, no version) with the exact versions seen; widen to a "
        'PEP 440 range (versions: ">=2.31,<3") or a glob only where you mean it. Unlisted: '
        "denied (package.unlisted); another version: denied (package.version)."
    )
    if not entries:
        return [*lines, "# packages: none in the bag", ""]
    by_type: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_type[entry.keys[0][4:].split("/", 1)[0]].append(entry)
    body = ["packages:", "  allow:"]
    for purl_type, group in sorted(by_type.items()):
        rules = _keyed(group)
        what = PURL_TYPES.get(purl_type, "packages")
        body.append(f"    # {comment(purl_type)}: {len(rules):,} {what}")
        for purl, same in rules.items():
            versions = [v for v in _values(same) if v]
            if len(versions) < len({e.value for e in same}):
                rule = f"    - {{purl: {scalar(purl)}}}"
                body.append(rule + "  # no version recorded for one of them: any version")
            else:
                body.append(f"    - {{purl: {scalar(purl)}, versions: {flow_list(versions)}}}")
    body.append(f"  # deny: {DENY_EXAMPLE}")
    return [*lines, *body, ""]


def _configs(entries: list[Entry]) -> list[str]:
    lines = comment_lines(
        "configs: the config files attest read (pip, npm, git, apt, docker, ssh...), by "
        "absolute path, with their sha256 digests; `withheld` accepts a credentials file "
        "whose digest attest did not record. Unlisted: denied (config.unlisted); another "
        "digest: denied (config.digest)."
    )
    if not entries:
        return [*lines, "# configs: none in the bag", ""]
    body = ["configs:"]
    for path, same in _keyed(entries).items():
        values = _values(same)
        value = WITHHELD if values == [WITHHELD] else flow_list(v for v in values if v != WITHHELD)
        body.append(f"  {scalar(path)}: {value}{_notes(same)}")
    return [*lines, *body, ""]


def _denied(blocked: list[Blocked]) -> list[str]:
    if not blocked:
        return ["# These will be denied: nothing. Every component of the bag is allowed above."]
    lines = [
        "# These will be denied: no policy entry can allow them; fix the runner or the job,",
        "# then take a new bag:",
    ]
    for item in blocked:
        text = comment_lines(f"{item.code} {label(item.component)}: {item.why}", width=90)
        lines.append(text[0].replace("# ", "#   - ", 1))
        lines += [line.replace("# ", "#     ", 1) for line in text[1:]]
    return lines
