"""The policy YAML emitter: plain scalars only where no YAML reader can misread them."""

from __future__ import annotations

import pytest
import yaml

from envsecops.policy.render_yaml import comment, comment_lines, flow_list, needs_quotes, scalar
from envsecops.syntax.yaml import compose_documents
from envsecops.syntax.yaml import scalar as read_scalar

TRAPS = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~", "",
    "3.10", "1e3", "0x1F", "0o17", "1_000", "1:20", "2024-01-01", ".inf", "-1", "+1",
    "@scope", "%x", "*glob", "&anchor", "!tag", "|", ">", "#c", "- a", "a: b", "a #b",
    "trailing:", "[x]", "{x}", "a,b", "'q'", '"q"', "tab\there", "line\nbreak",
    "\x00nul", "bom\ufeff", "del\x7f", "é", " lead", "trail ",
]  # fmt: skip
PLAIN = ["git", "/usr/bin/git", "sha256:ab12", "pkg:deb/ubuntu/git", "ubuntu24", "x86_64",
         "actions/checkout", "NODE_OPTIONS", "a.b-c_d+e", "docker:image-unknown"]  # fmt: skip


@pytest.mark.parametrize("text", TRAPS)
def test_a_trap_is_quoted_and_reads_back_exactly(text: str) -> None:
    assert needs_quotes(text)
    written = scalar(text)
    assert written.startswith('"')
    assert yaml.safe_load(f"key: {written}\n") == {"key": text}
    assert yaml.safe_load(f"[{written}]\n") == [text]
    root = compose_documents(f"key: {written}\n")[0]
    assert read_scalar(root.value[0][1]) == text


@pytest.mark.parametrize("text", PLAIN)
def test_a_safe_word_stays_plain_and_reads_back_as_a_string(text: str) -> None:
    assert scalar(text) == text
    assert yaml.safe_load(f"{text}: [{text}]\n") == {text: [text]}


def test_flow_lists_mix_plain_and_quoted() -> None:
    assert flow_list(["sha256:ab", "3.10", "no"]) == '[sha256:ab, "3.10", "no"]'
    assert yaml.safe_load(flow_list(["sha256:ab", "3.10", "no"])) == ["sha256:ab", "3.10", "no"]


def test_comments_stay_on_one_printable_line() -> None:
    assert comment("a\nb\r\u2028c\x1bd\x85") == "a\\nb\\r\\Lc\\ed\\N"
    inside = comment("x\n: y")
    assert yaml.safe_load(f"k: v  # {inside}\n") == {"k": "v"}


def test_comment_lines_wrap_without_losing_words() -> None:
    words = ["word"] * 60
    lines = comment_lines(" ".join(words), "  ", width=40)
    assert all(len(line) <= 40 for line in lines)
    assert all(line.startswith("  # ") for line in lines)
    assert sum(line.count("word") for line in lines) == 60
