"""`policy init` sections drawn from facts rather than lists: runner, env, actions, and the rest."""

from __future__ import annotations

from collections import defaultdict

from envsecops.model.bag import Bag, Component, ComponentKind
from envsecops.policy.allowable import ANY, Blocked, Entry, literal_glob
from envsecops.policy.model import RUNNER_ENVIRONMENTS
from envsecops.policy.render_yaml import comment, comment_lines, flow_list, scalar


def runner_section(bag: Bag, blocked: list[Blocked]) -> list[str]:
    """`runner:` from the bag's runner facts; an unusable runner_environment is blocked."""
    facts = bag.runner
    lines = comment_lines(
        "runner: which machines may run the job. environments defaults to [github-hosted]; "
        "images, os, arch and containers constrain only when present (containers: [] allows "
        "no container job). A runner fact outside these: denied (runner.*)."
    )
    lines.append("runner:")
    environment = facts.get("runner_environment")
    origin = dict(facts.origins).get("runner_environment")
    if environment is None:
        note = "no runner_environment fact: a local run outside Actions"
        lines.append(f"  environments: [unknown]   # {note}")
    elif environment in RUNNER_ENVIRONMENTS:
        where = f"from {comment(origin)}" if origin else "from the bag"
        lines.append(f"  environments: {flow_list([environment])}   # {where}")
    else:
        component = Component(ComponentKind.RUNNER, "runner_environment", "runner")
        why = f"runner_environment {environment!r} is none of {', '.join(RUNNER_ENVIRONMENTS)}"
        blocked.append(Blocked(component, "runner.environment", why))
        lines.append("  # environments: left at the default [github-hosted]; see the end")
    image = facts.get("image_os"), facts.get("image_version")
    lines += _versioned("images", "os", *image, "the bag has no ImageOS fact")
    os_release = facts.get("os"), facts.get("os_version")
    lines += _versioned("os", "id", *os_release, "the bag has no os-release ID")
    arch = facts.get("arch")
    if arch is not None:
        lines.append(f"  arch: {flow_list([literal_glob(arch)])}")
    container = facts.get("container_image")
    if container is not None:
        lines.append(f"  containers: {flow_list([literal_glob(container)])}")
    else:
        lines.append("  containers: []   # the job does not run in a container")
    return [*lines, ""]


def _versioned(
    section: str, key: str, name: str | None, version: str | None, missing: str
) -> list[str]:
    """`SECTION:` with one `- KEY: name` entry (and its version), or a comment when unknown."""
    if name is None:
        return [f"  # {section}: not constrained ({missing})"]
    lines = [f"  {section}:", f"    - {key}: {scalar(literal_glob(name))}"]
    if version is not None:
        lines.append(f"      versions: {flow_list([literal_glob(version)])}")
    return lines


def env_section(entries: list[Entry]) -> list[str]:
    """`env:` forbidding the default risky list, with each risky variable of the bag allowed."""
    lines = comment_lines(
        "env: forbidden variables (`default` = attest-runner's risky list: LD_PRELOAD, "
        "BASH_ENV, NODE_OPTIONS, PYTHONPATH, GIT_CONFIG*, proxies, CA bundles...) and the "
        "exceptions with the value digests allowed. A forbidden variable that is set: denied "
        "(env.forbidden); an allowed one with another value: denied (env.value)."
    )
    lines += ["env:", "  forbidden: [default]"]
    if not entries:
        return [*lines, "  # allowed: none (the bag sets no risky variable)", ""]
    lines.append("  allowed:")
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.keys[0]].append(entry)
    for name, same in sorted(grouped.items()):
        notes = "; ".join(sorted({e.note for e in same if e.note}))
        values = sorted({e.value for e in same})
        value = ANY if ANY in values else flow_list(values)
        suffix = f"   # {comment(notes)}" if notes else ""
        lines.append(f"    {scalar(name)}: {value}{suffix}")
    return [*lines, ""]


def actions_section(entries: list[Entry], blocked: list[Blocked]) -> list[str]:
    """`actions:` by repository and commit SHA; tag-pinned ones only in a comment."""
    lines = comment_lines(
        "actions: the actions the runner downloaded for this job, owner/repo -> the full "
        "commit SHAs allowed (never a tag). Unlisted: denied (action.unlisted); another "
        "commit: denied (action.sha); a tag or branch ref: always denied (action.unpinned); "
        "unpinned references inside an action's own files: denied (action.pin-findings) "
        "unless its entry says allow-pin-findings: true."
    )
    tagged = [b.component for b in blocked if b.code == "action.unpinned"]
    why = "not in `actions`, and no entry can list a tag: pin it to a commit SHA first"
    blocked += [Blocked(component, "action.unlisted", why) for component in tagged]
    unpinned = sorted({(c.name, c.version or "") for c in tagged})
    pin_notes = [
        f"  # {comment(name)}@{comment(ref)} is pinned by a tag or branch: it cannot be "
        "allowed; pin it to a full commit SHA first."
        for name, ref in unpinned
    ]
    if not entries:
        return [
            *lines,
            "# actions: none in the bag (not made inside a workflow run)",
            *pin_notes,
            "",
        ]
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.keys[0]].append(entry)
    body = ["actions:", *pin_notes]
    for repo, same in sorted(grouped.items()):
        shas = flow_list(sorted({e.value for e in same}))
        findings = [e for e in same if e.pin_findings]
        if not findings:
            body.append(f"  {scalar(repo)}: {shas}")
            continue
        body += [f"  {scalar(repo)}:", f"    shas: {shas}"]
        for entry in findings:
            body += comment_lines(f"review first: {entry.note}", "    ")
        body.append("    # allow-pin-findings: true   # uncomment only once you accept them")
        for entry in findings:
            why = f"{entry.note}; set allow-pin-findings: true on its entry once reviewed"
            blocked.append(Blocked(entry.component, "action.pin-findings", why))
    return [*lines, *body, ""]


def tail_sections() -> list[str]:
    """Commented pointers to the sections a bag cannot draft: sbom, pins, credentials, ledger."""
    return [
        "# sbom: deny gates over every component with a purl, whatever else allows it, e.g.",
        "#   sbom:",
        "#     deny:",
        '#       - {purl: pkg:pypi/ultralytics, versions: ["8.3.41"], reason: compromised}',
        "# pins: pin-check exceptions (with a reason and an expiry) and excluded paths.",
        "# credentials: max-lifetime and the providers mint-creds may use (aws, gcp, vault).",
        "# ledger: where every decision is recorded (file, s3, rekor).",
        "",
    ]
