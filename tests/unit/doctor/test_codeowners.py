"""CODEOWNERS matching: GitHub's documented examples, last match wins, unowned lines."""

from __future__ import annotations

import pytest

from envsecops.doctor.codeowners import owner_rule, parse

POLICY = ".github/envsecops.yml"


@pytest.mark.parametrize(
    ("pattern", "path", "owned"),
    [
        ("*", POLICY, True),
        ("*.yml", POLICY, True),
        ("*.js", POLICY, False),
        ("/.github/", POLICY, True),
        (".github/", POLICY, True),
        ("/.github", POLICY, True),
        ("/.github/*", POLICY, True),
        ("/.github/**", POLICY, True),
        ("**/envsecops.yml", POLICY, True),
        ("envsecops.yml", POLICY, True),
        ("/envsecops.yml", POLICY, False),
        ("/.github/envsecops.yml", POLICY, True),
        (".github/envsecops.yml", POLICY, True),
        ("docs/*", "docs/getting-started.md", True),
        ("docs/*", "docs/build-app/troubleshooting.md", False),
        ("apps/", "src/apps/main.py", True),
        ("/build/logs/", "build/logs/a/b.log", True),
        ("/build/logs/", "build/logs", False),
        ("!/.github/", POLICY, False),
        ("[.]github/", POLICY, False),
        ("/.github/envsecops.ya?", POLICY, False),
        ("/.github/envsecops.ym?", POLICY, True),
    ],
)
def test_patterns_follow_githubs_rules(pattern: str, path: str, owned: bool) -> None:
    rule = owner_rule(parse(f"{pattern} @octo-org/security\n"), path)
    assert (rule is not None) == owned


def test_the_last_matching_line_wins_and_may_leave_a_path_unowned() -> None:
    rules = parse("*  @octo-org/developers\n/.github/envsecops.yml\n")
    rule = owner_rule(rules, POLICY)
    assert rule is not None
    assert (rule.line, rule.owners) == (2, ())
    assert owner_rule(rules, "README.md") == rules[0]


def test_comments_blank_lines_and_escapes() -> None:
    text = "# a comment\n\n/.github/envsecops.yml @a @b # trailing comment\n\\#odd @c\n"
    rules = parse(text)
    assert [(r.line, r.pattern, r.owners) for r in rules] == [
        (3, "/.github/envsecops.yml", ("@a", "@b")),
        (4, "#odd", ("@c",)),
    ]
