"""`binaries`: every executable on PATH must be listed (by path or name glob) with its digest.

A key holding ``/`` is matched against the binary's PATH location (``/usr/bin/git``); any
other key against its file name (``git``). A binary is allowed when some matching key lists its
digest; the digests of every matching key count, so a name glob can widen a path entry.
``path-entry`` records are the PATH directories themselves, not binaries: an entry whose state
lets uninventoried commands in (relative, writable by others, not a directory, PATH unset) is
``binary.path-entry``; a missing directory is not (whatever appears there later is drift).
Their problem statuses are reported by the problems check.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.bag.path_binaries import ENTRY_NAME
from envsecops.model.bag import ComponentKind, Status
from envsecops.model.decision import Reason
from envsecops.policy.rules.common import Inputs, short, subject
from envsecops.policy.rules.digests import NO_DIGESTS, DigestRules, not_allowed

UNSAFE_ENTRY_STATES = {
    "relative": "commands resolve against the working directory (the checked-out code)",
    "writable-by-others": "anyone on the machine can add commands there",
    "not-a-directory": "PATH names something that is not a directory",
    "unset": "PATH is not set, so the shell's default search path applies",
}


def check(inputs: Inputs) -> Iterator[Reason]:
    """`binary.unlisted` and `binary.digest` reasons."""
    rules = inputs.policy.binaries
    paths = DigestRules.build(r for r in rules if "/" in r.pattern)
    names = DigestRules.build(r for r in rules if "/" not in r.pattern)
    by_path_text, by_name_text = paths.literal_digests, names.literal_digests
    has_names = bool(names.index)
    for component in inputs.by_kind[ComponentKind.BINARY]:
        name, digest, path = component.name, component.digest, component.path
        if name == ENTRY_NAME:
            state = component.prop("path-entry-state") or "ok"
            if state in UNSAFE_ENTRY_STATES and component.status is Status.OK:
                yield Reason(
                    "binary.path-entry",
                    subject(component),
                    f"PATH entry {component.path or '(empty)'!s} is {state}: "
                    f"{UNSAFE_ENTRY_STATES[state]}; no policy entry allows this (fix: remove it "
                    "from PATH, or tighten the directory's mode, in the step that set it)",
                )
            continue
        if digest is not None and (  # the common case: one literal key lists the digest
            digest in by_path_text.get(path or "", NO_DIGESTS)
            or digest in by_name_text.get(name, NO_DIGESTS)
        ):
            continue
        by_path = paths.matching(path)
        by_name = names.matching(name) if has_names else []
        if paths.allows(by_path, digest) or names.allows(by_name, digest):
            continue
        matched = by_path + by_name
        key = path or component.name
        if not matched:
            yield Reason(
                "binary.unlisted",
                subject(component),
                f"{key} ({short(digest)}) is not in `binaries`: no path or name key matches "
                f"it; add `{key}: [{digest or 'sha256:…'}]` under `binaries:` if this binary "
                f"is expected, or remove it from the runner",
            )
            continue
        yield Reason(
            "binary.digest",
            subject(component),
            f"{not_allowed(inputs, matched, digest)}; add `{digest or 'sha256:…'}` to that "
            f"entry if this build of {component.name} is expected, or restore the approved one",
        )
