"""docs/verify.md has one section per reason code, and the codes verify uses are all known."""

from __future__ import annotations

import re
from pathlib import Path

from envsecops.policy.reasons import CODES

ROOT = Path(__file__).resolve().parents[3]
SECTION = re.compile(r"^### ([a-z]+\.[a-z-]+)$", re.MULTILINE)
CODE_LITERAL = re.compile(
    r'"((?:attestation|binding|drift|policy|pins|decision)\.(?!json"|yml")[a-z-]+)"'
)


def test_every_code_has_a_section_and_every_section_a_code() -> None:
    text = (ROOT / "docs/verify.md").read_text(encoding="utf-8")
    sections = SECTION.findall(text)
    assert len(sections) == len(set(sections)), "a code documented twice"
    assert sorted(sections) == sorted(CODES)


def test_the_codes_verify_writes_are_in_the_registry() -> None:
    used: set[str] = set()
    for path in (ROOT / "src/envsecops/verify").glob("*.py"):
        used |= set(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    used |= set(CODE_LITERAL.findall((ROOT / "src/envsecops/cli/verify_build.py").read_text()))
    assert used, "the pattern finds the codes"
    assert used <= CODES.keys(), used - CODES.keys()
