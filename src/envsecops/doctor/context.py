"""What every check reads from: the target, the options, and the reads several checks share.

The repository (its default branch, owner type and id) and the rules that apply to the default
branch are each asked for once, however many checks need them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envsecops.doctor.api import DoctorApi, Permission, Read, path_part
from envsecops.doctor.model import CheckResult, Status, Target
from envsecops.errors import InfraError, UsageError

DEFAULT_POLICY_PATH = ".github/envsecops.yml"
GATE_WORKFLOW = re.compile(
    r"(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)/(?P<path>\.github/workflows/[^@\s]+\.ya?ml)"
    r"(?:@(?P<ref>[^\s]+))?"
)


@dataclass(frozen=True, slots=True)
class GateWorkflow:
    """The required gate: ``OWNER/REPO/.github/workflows/gate.yml[@REF]``."""

    repo: str
    path: str
    ref: str | None = None

    @classmethod
    def parse(cls, text: str) -> GateWorkflow:
        """Parse the flag's value; UsageError when it is not of that shape."""
        match = GATE_WORKFLOW.fullmatch(text.strip())
        if match is None or ".." in text:
            raise UsageError(
                f"--gate-workflow {text!r} is not OWNER/REPO/.github/workflows/FILE.yml[@REF]",
                fix="e.g. --gate-workflow octo-org/gates/.github/workflows/gate.yml",
            )
        return cls(match["repo"], match["path"], match["ref"])

    def __str__(self) -> str:
        return f"{self.repo}/{self.path}" + (f"@{self.ref}" if self.ref else "")


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked about, beyond the target."""

    policy_path: str = DEFAULT_POLICY_PATH
    gate: GateWorkflow | None = None


@dataclass
class Context:
    """The target, the options, the API, and the reads shared between checks."""

    target: Target
    options: Options
    api: DoctorApi
    _cache: dict[str, Read] = field(default_factory=dict)

    def once(self, key: str, read: Any) -> Read:
        """``read()`` the first time ``key`` is asked for; the same Read afterwards."""
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def repository(self, name: str | None = None) -> Read:
        """``GET /repos/OWNER/NAME`` (the target's by default)."""
        full = name or self.target.name
        return self.once(f"repo {full}", lambda: self.api.repository(full))

    def default_branch(self) -> str | None:
        """The target repository's default branch; None when the repository was refused."""
        read = self.repository()
        if read.refused is not None:
            return None
        branch = read.data.get("default_branch") if isinstance(read.data, dict) else None
        if not isinstance(branch, str) or not branch:
            raise InfraError(
                f"{self.api.settings.service}: {read.route} answered without a default_branch",
                fix="check that $GITHUB_API_URL points at a GitHub REST API",
            )
        return branch

    def branch_rules(self) -> Read:
        """``GET /repos/{o}/{r}/rules/branches/{default}``: the active rules on the branch."""
        branch = self.default_branch()
        if branch is None:
            return self.repository()
        path = f"/repos/{self.target.name}/rules/branches/{path_part(branch)}"
        return self.once("rules", lambda: self.api.pages(path, "the rules on the default branch"))

    def cannot_check(
        self, check: str, title: str, read: Read, needs: Permission, *evidence: str
    ) -> CheckResult:
        """The result of a check whose read GitHub refused: the permission, GitHub's words."""
        if read.refused is None:
            raise ValueError(f"check {check}: {read.route} was not refused")
        return CheckResult(
            check,
            title,
            Status.CANNOT_CHECK,
            f"cannot check: token lacks the {needs.fine_grained} permission "
            f"({read.refused.why(read.route)})",
            needs.fix(self.api.anonymous),
            (*evidence, read.route),
        )
