"""Snapshots of every renderer on one small fixed report (random tokens scrubbed).

Regenerate after an intended output change with

    ENVSECOPS_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/report/test_snapshots.py

then review the diff of tests/unit/report/snapshots/. Regenerating twice changes nothing:
the renderers are deterministic and the report, rules and version are fixed here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.pins.engine import PinReport
from envsecops.report import pins_json, pins_text
from envsecops.report.context import RenderContext
from envsecops.report.pins_github import render_with
from envsecops.report.pins_sarif import build_log
from envsecops.report.pins_summary import render_summary_with
from tests.unit.report.reports import POLICY_CONTEXT, RULES, small_report

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("ENVSECOPS_UPDATE_SNAPSHOTS") == "1"
STOP_TOKEN = re.compile(r"(?<=::stop-commands::)[0-9a-f]{32}\n|(?<=^::)[0-9a-f]{32}(?=::$)", re.M)


def _scrub(text: str) -> str:
    return STOP_TOKEN.sub(lambda m: "<token>" + ("\n" if m.group().endswith("\n") else ""), text)


def _sarif(report: PinReport, context: RenderContext) -> str:
    return json.dumps(build_log(report, context, RULES), indent=2) + "\n"


RENDERERS: dict[str, Callable[[PinReport, RenderContext], str]] = {
    "small.txt": pins_text.render,
    "small.json": pins_json.render,
    "small.sarif": _sarif,
    "small.github.log": lambda report, context: _scrub(render_with(report, context, RULES)),
    "small.summary.md": lambda report, context: render_summary_with(report, context, RULES),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renderer_matches_its_snapshot(name: str) -> None:
    first = RENDERERS[name](small_report(), POLICY_CONTEXT)
    second = RENDERERS[name](small_report(), POLICY_CONTEXT)
    assert first == second, "the renderer is not deterministic"
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(first, encoding="utf-8", newline="\n")
    assert path.is_file(), f"missing snapshot {path.name}: run with ENVSECOPS_UPDATE_SNAPSHOTS=1"
    assert first == path.read_text(encoding="utf-8")


def test_no_snapshot_is_orphaned() -> None:
    stored = {p.name for p in SNAPSHOTS.iterdir() if p.name != "README.md"}
    assert stored == set(RENDERERS)


def test_scrubbing_only_touches_the_stop_token() -> None:
    token = "0123456789abcdef" * 2
    raw = f"::error::x {token}\n::stop-commands::{token}\nbody {token}\n::{token}::\n"
    assert _scrub(raw) == (
        f"::error::x {token}\n::stop-commands::<token>\nbody {token}\n::<token>::\n"
    )
