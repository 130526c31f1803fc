"""pin-check for a GitHub Actions log: capped annotations, then the text report made inert.

GitHub keeps at most 10 annotations of each level per step and silently drops the rest, so
each level gets at most 10 lines: when there are more findings than that, 9 are annotated
and the 10th line says how many more there are and where to read them. The text report
follows inside ``::stop-commands::`` so no path or message in it can act as a command.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from envsecops.gh.commands import (
    ANNOTATIONS_PER_LEVEL,
    AnnotationLevel,
    annotation,
    capped_annotations,
    stop_commands,
)
from envsecops.model import Finding, Severity
from envsecops.pins.engine import PinReport
from envsecops.pins.rules.base import Rule
from envsecops.report import pins_text
from envsecops.report.context import RenderContext

PER_LEVEL = ANNOTATIONS_PER_LEVEL
"""Annotations GitHub keeps per level and step; the aggregate line is one of them."""

LEVEL_BY_SEVERITY = {
    Severity.HIGH: AnnotationLevel.ERROR,
    Severity.MEDIUM: AnnotationLevel.WARNING,
    Severity.LOW: AnnotationLevel.NOTICE,
    Severity.INFO: AnnotationLevel.NOTICE,
}
LEVELS = (AnnotationLevel.ERROR, AnnotationLevel.WARNING, AnnotationLevel.NOTICE)
SEVERITY_WORDS = {
    AnnotationLevel.ERROR: "high-severity",
    AnnotationLevel.WARNING: "medium-severity",
    AnnotationLevel.NOTICE: "low or info",
}


def finding_annotation(finding: Finding, rules: Mapping[str, Rule]) -> str:
    """One annotation line for a finding; every field is escaped by ``annotation``."""
    rule = rules.get(finding.rule_id)
    title = f"{rule.title} ({finding.rule_id})" if rule else finding.rule_id
    message = finding.message
    if finding.fix:
        message += f"\nFix: {finding.fix}"
    end_column = finding.end_column
    if end_column is not None and finding.end_line in (None, finding.line):
        end_column -= 1  # Finding's end column is exclusive; an annotation's is inclusive
    return annotation(
        LEVEL_BY_SEVERITY[finding.severity],
        message,
        file=finding.path,
        line=finding.line,
        column=finding.column,
        end_line=finding.end_line,
        end_column=end_column,
        title=title,
    )


def aggregate_annotation(level: AnnotationLevel, hidden: int, shown: int) -> str:
    """The line that stands for the findings of one level that are not annotated."""
    return annotation(
        level,
        f"{hidden} more {SEVERITY_WORDS[level]} pin-check findings are not annotated: GitHub "
        f"shows only {PER_LEVEL} annotations of a level per step ({shown} shown above). Every "
        "finding is in this step's log below, in the job summary, and in the SARIF report "
        "(`--sarif-file`, for code scanning).",
        title=f"pin-check: {hidden} more {level} findings",
    )


def annotation_lines(findings: list[Finding], rules: Mapping[str, Rule]) -> list[str]:
    """At most ``PER_LEVEL`` lines per level, most severe first, the last one an aggregate."""
    by_level: dict[AnnotationLevel, list[Finding]] = {level: [] for level in LEVELS}
    for finding in findings:
        by_level[LEVEL_BY_SEVERITY[finding.severity]].append(finding)
    lines: list[str] = []
    for level in LEVELS:
        group = sorted(by_level[level], key=lambda f: (-f.severity.rank, f.sort_key()))
        lines += capped_annotations(
            group,
            lambda f: finding_annotation(f, rules),
            partial(aggregate_annotation, level),
            PER_LEVEL,
        )
    return lines


def render_with(report: PinReport, context: RenderContext, rules: Mapping[str, Rule]) -> str:
    """Annotations, then the whole text report wrapped in ``::stop-commands::``."""
    lines = annotation_lines(report.findings, rules)
    text = pins_text.render(report, context)
    out = "".join(line + "\n" for line in lines) + stop_commands(text)
    # a file name that is not valid UTF-8 must not make the log write fail
    return out.encode("utf-8", "replace").decode("utf-8")


def render(report: PinReport, context: RenderContext) -> str:
    """Render for a GitHub Actions step log, titling annotations from the registered rules."""
    from envsecops.pins.registry import RULES

    return render_with(report, context, RULES)
