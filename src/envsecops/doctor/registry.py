"""The doctor's checks, in the order they run and print: one list for a repository, one for an org.

An explicit list, no discovery: adding a check means adding it here, to docs/doctor.md and to
the JSON schema's id list.
"""

from __future__ import annotations

from collections.abc import Callable

from envsecops.doctor import actions, gate, oidc, protection
from envsecops.doctor.context import Context
from envsecops.doctor.model import CheckResult

Check = Callable[[Context], CheckResult]

REPO_CHECKS: tuple[Check, ...] = (
    oidc.repo_subject,
    actions.workflow_token,
    actions.sha_pinning,
    protection.default_branch_protected,
    protection.policy_codeowners,
    gate.gate_required,
)
ORG_CHECKS: tuple[Check, ...] = (
    oidc.org_subject,
    oidc.repos_opted_in,
    actions.workflow_token,
    actions.sha_pinning,
    gate.gate_required,
)
CHECK_IDS = (
    oidc.SUBJECT,
    oidc.OPT_IN,
    actions.TOKEN,
    actions.PINNING,
    protection.PROTECTED,
    protection.OWNED,
    gate.GATE,
)


def checks_for(kind: str) -> tuple[Check, ...]:
    """The checks for a target kind ("repo" or "org")."""
    return ORG_CHECKS if kind == "org" else REPO_CHECKS
