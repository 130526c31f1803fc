"""`actions`: each downloaded action must be listed, pinned to a full SHA the policy allows.

Actions are matched by ``owner/repo`` glob, case-insensitively (GitHub names are). Each is
checked three ways, every failure its own reason: a ref that is not a full 40-hex commit SHA
is `action.unpinned` (a tag or branch can move; ``any-sha`` never accepts one); a SHA outside
the listed ones is `action.sha`; an action whose own files hold unpinned references
(``pin-findings`` > 0) is `action.pin-findings` unless a matching entry says
``allow-pin-findings: true``. An unexpected entry in the runner's ``_actions`` directory (not an
``owner/repo/ref`` download) is `action.unlisted`: nothing should be there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from envsecops.model.bag import Component, ComponentKind
from envsecops.model.decision import Reason
from envsecops.policy.model import ActionRule
from envsecops.policy.rules.common import GlobIndex, Inputs, join, quoted, subject

FULL_SHA = re.compile(r"[0-9a-f]{40}\Z")
UNEXPECTED = "_actions-entry"


def check(inputs: Inputs) -> Iterator[Reason]:
    """`action.unlisted`, `action.unpinned`, `action.sha` and `action.pin-findings` reasons."""
    index = GlobIndex.build(((rule.repo, rule) for rule in inputs.policy.actions), fold=True)
    for component in inputs.by_kind[ComponentKind.ACTION]:
        if component.name == UNEXPECTED:
            detail = component.prop("detail") or "unexpected entry"
            yield Reason(
                "action.unlisted",
                subject(component),
                f"{component.path} is in the runner's _actions directory but is not a "
                f"downloaded action ({quoted(detail)}); find the step that put it there and "
                f"remove it — no policy entry allows this",
            )
            continue
        rules = index.matching(component.name)
        yield from _one(inputs, component, rules)


def _one(inputs: Inputs, component: Component, rules: list[ActionRule]) -> Iterator[Reason]:
    ref = component.version or ""
    pinned = FULL_SHA.match(ref) is not None and component.prop("ref-is-sha") != "false"
    repo = component.name
    if not pinned:
        yield Reason(
            "action.unpinned",
            subject(component),
            f"{repo} was used at {quoted(ref or '(no ref)')}, a tag or branch that can move; "
            f"pin `uses: {repo}@<full commit SHA>  # {ref}` in the workflow (or action) that "
            f"uses it — no policy entry accepts a tag",
        )
    if not rules:
        shas = f"[{ref}]" if pinned else "[<full commit SHA>]"
        yield Reason(
            "action.unlisted",
            subject(component),
            f"{repo} is not in `actions`; add `{repo}: {shas}` under `actions:` if it is "
            f"trusted, or stop using it",
        )
    elif pinned and not any(rule.shas is None or ref.lower() in _lower(rule) for rule in rules):
        allowed = sorted({sha for rule in rules for sha in rule.shas or ()})
        yield Reason(
            "action.sha",
            subject(component),
            f"{repo}@{ref[:12]}… is not among the {len(allowed)} commits allowed at "
            f"{inputs.lines(r.line for r in rules)} ({join([s[:12] + '…' for s in allowed])}); "
            f"add `{ref}` there after reviewing the change, or pin an allowed commit",
        )
    count = _findings(component)
    if count and not any(rule.allow_pin_findings for rule in rules):
        listed = component.prop("pin-finding-list") or component.prop("pin-findings-by-rule")
        found = f"{count} unpinned reference" + ("s" if count != 1 else "")
        yield Reason(
            "action.pin-findings",
            subject(component),
            f"{repo}'s own files hold {found}"
            + (f" ({quoted(listed, 300)})" if listed else "")
            + "; pick a version that pins its dependencies, or set `allow-pin-findings: true` "
            "on its `actions` entry if you accept them",
        )


def _lower(rule: ActionRule) -> frozenset[str]:
    return frozenset(sha.lower() for sha in rule.shas or ())


def _findings(component: Component) -> int:
    """The action's `pin-findings` count; an unreadable count counts as one (fail closed)."""
    text = component.prop("pin-findings")
    if text is None:
        return 0
    return int(text) if text.isascii() and text.isdigit() else 1
