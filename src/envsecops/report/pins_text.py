"""Human-readable pin-check output: one line per finding, the fix, and a summary line."""

from __future__ import annotations

from collections import Counter

from envsecops.pins.engine import PinReport
from envsecops.report.context import RenderContext

_CONTROL = {code: f"\\x{code:02x}" for code in range(32) if code != 9}
_CONTROL.update({0x7F: "\\x7f", ord("\\"): "\\\\"})


def clean(text: str) -> str:
    """One line of printable text: control characters and undecodable bytes escaped."""
    return text.translate(_CONTROL).encode("utf-8", "backslashreplace").decode("utf-8")


def render(report: PinReport, context: RenderContext) -> str:
    """Render findings as `path:line:col: severity[rule-id] message` lines."""
    lines: list[str] = []
    for finding in report.findings:
        lines.append(
            f"{clean(finding.path)}:{finding.line}:{finding.column}: "
            f"{finding.severity}[{finding.rule_id}] {clean(finding.message)}"
        )
        if finding.fix:
            lines.append(f"    fix: {clean(finding.fix)}")
    for path, why in report.skipped:
        lines.append(f"note: skipped {clean(path)}: {why}")
    by_severity = Counter(str(f.severity) for f in report.findings)
    counts = ", ".join(
        f"{by_severity[s]} {s}" for s in ("high", "medium", "low", "info") if by_severity[s]
    )
    failing = sum(1 for f in report.findings if f.severity.rank >= context.fail_on.rank)
    lines.append(
        f"pin-check: {len(report.files)} files, {len(report.findings)} findings"
        + (f" ({counts})" if counts else "")
        + f", {len(report.suppressed)} suppressed; {failing} at or above {context.fail_on}"
    )
    return "\n".join(lines) + "\n"
