"""Every rule id has its section in docs/pin-check.md, and every section names a rule."""

from __future__ import annotations

import re
from pathlib import Path

from envsecops.pins.registry import RULES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "pin-check.md"


def test_each_rule_has_exactly_one_docs_section() -> None:
    sections = re.findall(r"^### ([a-z0-9-]+)\s*$", DOCS.read_text(encoding="utf-8"), re.M)
    assert sorted(sections) == sorted(RULES)


def test_rule_ids_are_kebab_case_and_help_links_to_their_anchor() -> None:
    for rule_id, rule in RULES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule_id)
        assert rule.help_uri.endswith(f"docs/pin-check.md#{rule_id}")
        assert rule.help.strip()
