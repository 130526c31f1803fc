"""`pins`: each active pin-check finding (one no `pins.exceptions` entry accepts) is a deny."""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.decision import Reason
from envsecops.policy.rules.common import Inputs, quoted


def check(inputs: Inputs) -> Iterator[Reason]:
    """One `pins.finding` reason per active finding."""
    for finding in inputs.pin_findings:
        fix = f"{finding.fix}; or" if finding.fix else "fix it, or"
        yield Reason(
            "pins.finding",
            f"pin {finding.path}:{finding.line}:{finding.column} {finding.rule_id}",
            f"{finding.rule_id} ({finding.severity.value}) on {quoted(finding.reference)}: "
            f"{finding.message}; {fix} add a `pins.exceptions` entry (rule, path, reference, "
            f"reason, expires) to {inputs.policy.pins.source or inputs.policy.source}",
        )
