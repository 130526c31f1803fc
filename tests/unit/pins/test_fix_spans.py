"""--fix edits: exactly the value's span (and a trailing version comment) changes, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.pins.fix import fix_files
from envsecops.pins.fix_spans import SpanEdit, Unfixable, apply_edits, value_edit
from envsecops.pins.kinds import FileKind
from envsecops.pins.resolve import RefKind, RefResolver, Resolution, ResolveError
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, compose_documents

SHA = "f540a503e61f9ac4ab52b6f497ebac8a5d311d60"
NEW = f"a/b@{SHA}"


def _uses(text: str) -> ScalarNode:
    """The first scalar under a `uses` key, depth first."""
    stack: list[Node] = list(compose_documents(text))
    while stack:
        node = stack.pop(0)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == "uses":
                    assert isinstance(value, ScalarNode)
                    return value
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    raise AssertionError("no uses")


def _rewrite(text: str, comment: str | None = "v4.2.1", new: str = NEW) -> str:
    node = _uses(text)
    return apply_edits(text, [value_edit(text, node, node.value, new, comment)])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("uses: a/b@v4\n", f"uses: {NEW} # v4.2.1\n"),
        ("uses: a/b@v4", f"uses: {NEW} # v4.2.1"),
        ("uses: a/b@v4  \n", f"uses: {NEW} # v4.2.1  \n"),
        ("uses: a/b@v4 # v4\n", f"uses: {NEW} # v4.2.1\n"),
        ("uses: a/b@v4\t#\tv4.0\t\n", f"uses: {NEW}\t# v4.2.1\t\n"),
        ("uses: a/b@v4   # tag=v4.0.0  \n", f"uses: {NEW}   # v4.2.1  \n"),
        ("uses: a/b@v4 # keep this comment\n", f"uses: {NEW} # v4.2.1 # keep this comment\n"),
        ('uses: "a/b@v4"\n', f'uses: "{NEW}" # v4.2.1\n'),
        ("uses: 'a/b@v4' # v4\n", f"uses: '{NEW}' # v4.2.1\n"),
        ("uses: a/b@v4 # v4\r\nname: x\r\n", f"uses: {NEW} # v4.2.1\r\nname: x\r\n"),
        ('name: "😀 é"\nuses: a/b@v4\n', f'name: "😀 é"\nuses: {NEW} # v4.2.1\n'),
        (
            "steps:\n  - {uses: a/b@v4, with: {x: 1}}  # v4\n",
            f"steps:\n  - {{uses: {NEW}, with: {{x: 1}}}}  # v4.2.1\n",
        ),
        (
            "- {uses: a/b@v4, with: {x: ' # v1'}}\n",
            f"- {{uses: {NEW}, with: {{x: ' # v1'}}}} # v4.2.1\n",
        ),
        (
            "steps:\n  - name: n\n    uses: a/b@v4 # v4\n    with: {x: '#'}\n",
            f"steps:\n  - name: n\n    uses: {NEW} # v4.2.1\n    with: {{x: '#'}}\n",
        ),
    ],
    ids=[
        "plain",
        "no-final-newline",
        "trailing-spaces",
        "version-comment",
        "tabs",
        "tag-equals-comment",
        "other-comment",
        "double-quoted",
        "single-quoted",
        "crlf",
        "non-ascii-before",
        "flow-mapping",
        "flow-quoted-hash",
        "block-mapping",
    ],
)
def test_only_the_span_changes(before: str, after: str) -> None:
    assert _rewrite(before) == after


def test_no_comment_when_a_quoted_value_continues_on_the_next_line() -> None:
    text = '- {uses: a/b@v4, with: {x: "foo\n   bar"}}\n'
    node = _uses(text)
    edit = value_edit(text, node, node.value, NEW, "v4.2.1")
    assert edit.note == "no version comment: a quoted value continues below"
    assert text[edit.start : edit.end] == "a/b@v4"
    assert edit.replacement == NEW


def test_without_a_tag_an_existing_comment_is_kept() -> None:
    assert _rewrite("uses: a/b@abc1234 # v1\n", comment=None) == f"uses: {NEW} # v1\n"


@pytest.mark.parametrize("comment", ["v1\nx: y", "v1 # x", "", "#v1", "v1\u2028x"])
def test_unsafe_comment_text_is_left_out(comment: str) -> None:
    assert _rewrite("uses: a/b@v4\n", comment=comment) == f"uses: {NEW}\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("uses: >-\n  a/b@v4\n", "block scalar"),
        ("uses: |\n  a/b@v4\n", "block scalar"),
        ('uses: "a/b@v\\x34"\n', "escapes"),
        ("uses: 'a/b@v4''x'\n", "escapes"),
        ("uses: a/b\n  @v4\n", "across lines"),
        ("uses: &co a/b@v4\n", "anchor"),
        ("uses: !!str a/b@v4\n", "a tag"),
    ],
    ids=["folded", "literal", "escape", "quote-quote", "multi-line", "anchor", "tag"],
)
def test_unusual_scalars_are_refused(text: str, words: str) -> None:
    node = _uses(text)
    with pytest.raises(Unfixable, match=words):
        value_edit(text, node, node.value, NEW, "v4.2.1")


def test_edits_apply_in_any_order_and_must_not_overlap() -> None:
    text = "0123456789"
    edits = [SpanEdit(1, 2, "a"), SpanEdit(5, 7, "bb"), SpanEdit(8, 8, "+")]
    assert apply_edits(text, edits) == apply_edits(text, list(reversed(edits))) == "0a234bb7+89"
    with pytest.raises(Unfixable, match="overlap"):
        apply_edits(text, [SpanEdit(1, 4, "x"), SpanEdit(3, 5, "y")])


class FakeResolver(RefResolver):
    """Answers from a table and records what it was asked."""

    def __init__(self, table: dict[tuple[str, str], Resolution | ResolveError]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def resolve(self, repo: str, ref: str, *, describe: bool = True) -> Resolution:
        self.asked.append((repo, ref))
        answer = self.table[(repo, ref)]
        if isinstance(answer, ResolveError):
            raise answer
        return answer


def _workflow(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "ci.yml"
    path.write_text(f"on: push\njobs:\n  a:\n    steps:\n{steps}", encoding="utf-8")
    return path


def test_fix_files_reports_what_it_cannot_fix(tmp_path: Path) -> None:
    path = _workflow(
        tmp_path,
        "      - uses: actions/checkout\n"
        "      - uses: {not: a string}\n"
        "      - uses: owner@v1\n"
        "      - uses: x/y@v1\n"
        "      - uses: x/z@v1\n",
    )
    resolver = FakeResolver(
        {
            ("x/y", "v1"): ResolveError("x/y", "v1", "x/y has no tag or branch named `v1`"),
            ("x/z", "v1"): Resolution("x/z", "v1", "not-a-sha", RefKind.TAG),
        }
    )
    before = path.read_bytes()
    result = fix_files([(path, "ci.yml", FileKind.WORKFLOW)], resolver)
    assert path.read_bytes() == before
    assert result.changes == []
    assert [(n.line, n.reason.split(":")[0].split(" (")[0]) for n in result.not_fixed] == [
        (5, "no `@ref` to resolve"),
        (6, "not `owner/repo[/path]@ref`, so there is nothing to resolve"),
        (7, "not `owner/repo[/path]@ref`, so there is nothing to resolve"),
        (8, "x/y has no tag or branch named `v1`"),
        (9, "the API returned 'not-a-sha', no SHA"),
    ]
    assert all(n.blocking for n in result.not_fixed)


def test_fix_files_uses_the_ref_when_no_version_tag_names_the_commit(tmp_path: Path) -> None:
    path = _workflow(tmp_path, "      - uses: x/y/sub/dir@main\n      - uses: x/y@1234567\n")
    resolver = FakeResolver(
        {
            ("x/y", "main"): Resolution("x/y", "main", SHA, RefKind.BRANCH),
            ("x/y", "1234567"): Resolution("x/y", "1234567", SHA, RefKind.COMMIT),
        }
    )
    result = fix_files([(path, "ci.yml", FileKind.WORKFLOW)], resolver)
    assert path.read_text("utf-8").endswith(
        f"      - uses: x/y/sub/dir@{SHA} # main\n      - uses: x/y@{SHA}\n"
    )
    assert [c.after for c in result.changes] == [f"x/y/sub/dir@{SHA} # main", f"x/y@{SHA}"]
    assert result.written == ["ci.yml"]


def test_fix_files_skips_suppressed_and_unparseable(tmp_path: Path) -> None:
    path = _workflow(tmp_path, "      - uses: x/y@v1\n")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs: [\n", encoding="utf-8")
    resolver = FakeResolver({})
    result = fix_files(
        [(path, "ci.yml", FileKind.WORKFLOW), (broken, "broken.yml", FileKind.WORKFLOW)],
        resolver,
        {("ci.yml", 5, 15): "suppressed (inline: reason)"},
    )
    assert resolver.asked == []
    assert [(n.rel, n.blocking) for n in result.not_fixed] == [
        ("broken.yml", True),
        ("ci.yml", False),
    ]
    assert result.not_fixed[0].reason.startswith("file not fixed: YAML syntax error")


def test_comment_that_would_change_the_tree_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "ci.yml"
    path.write_text(
        "on: push\njobs:\n  a:\n    steps:\n      - {uses: x/y@v1, with: {x: foo\n"
        "          bar}}\n",
        encoding="utf-8",
    )
    resolver = FakeResolver({("x/y", "v1"): Resolution("x/y", "v1", SHA, RefKind.TAG, "v1.2.3")})
    result = fix_files([(path, "ci.yml", FileKind.WORKFLOW)], resolver)
    assert path.read_text("utf-8").splitlines()[4] == f"      - {{uses: x/y@{SHA}, with: {{x: foo"
    assert [(c.after, c.note) for c in result.changes] == [
        (f"x/y@{SHA}", "no version comment: it would have changed how the line parses")
    ]
