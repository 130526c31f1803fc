"""Fixed PinReport objects for renderer tests, built directly (no checks, no files)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from envsecops.model import Confidence, Finding, Severity
from envsecops.pins.engine import PinReport
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules import parse_error
from envsecops.pins.rules.base import Rule
from envsecops.pins.suppress import Suppressed
from envsecops.report.context import RenderContext
from tests.conftest import SHARED

CONTEXT = RenderContext(version="0.0.0-test", fail_on=Severity.LOW, policy_source=None)
POLICY_CONTEXT = RenderContext(
    version="0.0.0-test", fail_on=Severity.LOW, policy_source=".github/envsecops.yml"
)

UNPINNED = Rule(
    id="unpinned-uses",
    title="Action not pinned to a commit SHA",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A tag or branch can be moved to other code. Pin to the full 40-hex commit SHA.",
)
NO_COMMENT = Rule(
    id="sha-pin-without-tag-comment",
    title="SHA pin without a version comment",
    severity=Severity.INFO,
    confidence=Confidence.HIGH,
    help="Add the tag as a comment after the SHA so reviewers and Dependabot can read it.",
)
RULES: dict[str, Rule] = {r.id: r for r in (*parse_error.RULES, UNPINNED, NO_COMMENT)}
"""A fixed rule set, so that snapshots do not change when checks are registered."""

SHA = "692973e3d937129bcbf40652eb9f2f61becf3332"


def finding(
    rule: Rule,
    path: str,
    line: int,
    column: int,
    reference: str,
    message: str,
    *,
    severity: Severity | None = None,
    fix: str | None = None,
    end: tuple[int, int] | None = None,
) -> Finding:
    """A Finding for ``rule`` with its default severity and confidence."""
    return Finding(
        rule_id=rule.id,
        severity=severity or rule.severity,
        confidence=rule.confidence,
        path=path,
        line=line,
        column=column,
        reference=reference,
        message=message,
        fix=fix,
        end_line=end[0] if end else None,
        end_column=end[1] if end else None,
    )


def small_report() -> PinReport:
    """A small report with every feature a renderer must show."""
    ci = ".github/workflows/ci.yml"
    findings = [
        finding(
            UNPINNED,
            ci,
            12,
            15,
            "actions/checkout@v4",
            "`actions/checkout@v4` is pinned to the tag `v4`, which can be moved",
            fix=f"actions/checkout@{SHA} # v4.1.7",
            end=(12, 34),
        ),
        finding(
            UNPINNED,
            ci,
            20,
            15,
            "actions/setup-python@main",
            "`actions/setup-python@main` follows the branch `main`",
            severity=Severity.MEDIUM,
        ),
        finding(
            parse_error.DUPLICATE_KEY,
            ".github/workflows/release.yml",
            7,
            3,
            ".github/workflows/release.yml",
            "duplicate key 'build' (first at line 4); nothing in this workflow file was checked",
        ),
        finding(
            NO_COMMENT,
            "action.yml",
            9,
            13,
            f"actions/cache@{SHA}",
            "the SHA pin has no `# vX.Y.Z` comment",
            end=(9, 67),
        ),
    ]
    suppressed = [
        Suppressed(
            finding(UNPINNED, ci, 30, 15, "example/vendored@main", "follows the branch `main`"),
            "inline",
            "fork under review, tracked in #12",
        ),
        Suppressed(
            finding(
                UNPINNED,
                ".github/workflows/publish.yml",
                18,
                15,
                "pypa/gh-action-pypi-publish@release/v1",
                "follows the branch `release/v1`",
            ),
            "policy",
            "publisher requires its release branch",
            date(2027, 1, 31),
        ),
    ]
    return PinReport(
        files=[
            (".github/workflows/ci.yml", FileKind.WORKFLOW),
            (".github/workflows/publish.yml", FileKind.WORKFLOW),
            (".github/workflows/release.yml", FileKind.WORKFLOW),
            ("action.yml", FileKind.ACTION),
        ],
        findings=sorted(findings, key=Finding.sort_key),
        suppressed=suppressed,
        skipped=[("vendor-link", "symbolic link to a directory")],
        metrics=Counter(
            {
                ("workflow", "files"): 3,
                ("workflow", "files_unparseable"): 1,
                ("workflow", "uses_total"): 4,
                ("workflow", "uses_unpinned_ref"): 4,
                ("action", "files"): 1,
                ("action", "uses_total"): 1,
                ("action", "uses_sha_pinned"): 1,
            }
        ),
    )


def many_findings(count: int, *, message: str = "unpinned", path_len: int = 0) -> PinReport:
    """A report with ``count`` findings spread over severities and files."""
    severities = (Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
    findings = [
        finding(
            UNPINNED,
            f".github/workflows/w{i % 97:02d}{'x' * path_len}.yml",
            i + 1,
            9,
            f"owner/repo{i}@v1",
            message,
            severity=severities[i % 4],
        )
        for i in range(count)
    ]
    findings.sort(key=Finding.sort_key)
    return PinReport(
        files=[(f".github/workflows/w{i:02d}.yml", FileKind.WORKFLOW) for i in range(97)],
        findings=findings,
        suppressed=[],
        skipped=[],
        metrics=Counter({("workflow", "files"): 97, ("workflow", "uses_total"): count}),
    )


def sarif_schema() -> dict[str, Any] | None:
    """The official SARIF 2.1.0 schema from ../shared/schemas, or None when it is absent."""
    path = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def pin_check_schema() -> dict[str, Any]:
    """The published JSON Schema of `pin-check --format json`, as the package ships it."""
    path = resources.files("envsecops") / "schemas" / "pin-check.v1.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


FIXTURE_REPO = Path(__file__).resolve().parents[2] / "fixtures" / "report"
