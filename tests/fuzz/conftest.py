"""Reports how many Hypothesis examples each parser's properties ran in this session.

A name with a parenthesis, e.g. `policy (loaded)`, counts the examples that the parser
accepted, a subset of the plain name's count (the rest were refused as documented).
"""

from __future__ import annotations

import pytest

from tests.fuzz.budget import RAN, SCALE_ENV, scale


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per parser with its example count, then the total."""
    if not RAN:
        return
    terminalreporter.section(f"fuzz examples per parser ({SCALE_ENV} scale {scale():g})")
    for parser, count in sorted(RAN.items()):
        terminalreporter.write_line(f"{parser:<30} {count:>7}")
    total = sum(count for parser, count in RAN.items() if " (" not in parser)
    terminalreporter.write_line(f"{'total (accepted ones included)':<30} {total:>7}")
