"""The `run:` script reader: commands, wrappers, nesting, dialects, and file positions."""

from __future__ import annotations

import json
import shlex
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.github import WorkflowDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS
from envsecops.pins.rules.base import Emitter
from envsecops.pins.rules.scripts import ScriptCheck
from envsecops.pins.shell import Command, Dialect, dialect_for, mask_expressions, parse_script
from envsecops.pins.shell_dialect import CONTINUATION, SYNTAX, unquote
from envsecops.pins.shell_locate import script_commands
from envsecops.pins.source import SourceFile


def tools(script: str, dialect: Dialect = Dialect.POSIX) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.tool, c.args) for c in parse_script(script, dialect) if c.tool]


def located(yaml_text: str) -> list[tuple[int, int, str]]:
    source = SourceFile.from_text(".github/workflows/w.yml", FileKind.WORKFLOW, yaml_text)
    document = WorkflowDocument(source)
    return [
        (lc.at.line, lc.at.column, lc.command.text)
        for script in document.scripts
        for lc in script_commands(script, source)
    ]


def workflow(run: str) -> str:
    return f"on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {run}"


SPLITS = [
    ("a && b || c ; d | e & f", ["a", "b", "c", "d", "e", "f"]),
    ("a\nb\n\n  c", ["a", "b", "c"]),
    ("(cd x && make) ; { test; }", ["cd", "make", "test", "}"]),
    ("echo 'a && b' \"c ; d\" e\\;f", ["echo"]),
    ("x=$(a | b) && c", ["a", "b", "c"]),
    ("# a comment && b\nc # trailing && d", ["c"]),
    ("echo ${{ a || b && c }} ; z", ["echo", "z"]),
    ("a 2>&1 | b >/dev/null && c &> log", ["a", "b", "c"]),
]


@pytest.mark.parametrize(("script", "expected"), SPLITS, ids=[s for s, _ in SPLITS])
def test_commands_split_on_operators_outside_quotes(script: str, expected: list[str]) -> None:
    assert [tool for tool, _ in tools(script)] == expected


WRAPPERS = [
    ("sudo -E -u ci env -i A=1 B=2 pip install x", ("install", "x")),
    ("time -p nice -n 5 nohup timeout -s KILL 5m pip install x", ("install", "x")),
    ("PIP_INDEX_URL=https://i CI=1 pip install x", ("install", "x")),
    ("python -m pip install x", ("install", "x")),
    ("python3.12 -W ignore -X dev -Im pip install x", ("install", "x")),
    ("/usr/bin/python3 -mpip install x", ("install", "x")),
    ("py -3.11 -m pip install x", ("install", "x")),
    ("pip3.12 install x", ("install", "x")),
    ("uv pip install x", ("install", "x")),
    ("if ! pip install x; then exit 1; fi", ("install", "x")),
    ("command pip install x", ("install", "x")),
    ("exec stdbuf -oL pip install x", ("install", "x")),
]


@pytest.mark.parametrize(("script", "args"), WRAPPERS, ids=[s for s, _ in WRAPPERS])
def test_wrappers_and_launchers_resolve_to_pip(script: str, args: tuple[str, ...]) -> None:
    assert ("pip", args) in tools(script)


def test_assignments_and_lookups_are_not_programs() -> None:
    (first, second) = parse_script("A=1 B='x y'\ncommand -v pip")
    assert (first.tool, first.assignments) == ("", ("A=1", "B=x y"))
    assert second.tool == ""
    assert parse_script("env PIP_REQUIRE_HASHES=1 pip install x")[0].assignments == (
        "PIP_REQUIRE_HASHES=1",
    )


def test_quotes_are_removed_and_continuations_joined() -> None:
    (command,) = parse_script('pip install \\\n  \'a b\' "c\\"d" e\\ f \\\n  g')
    assert command.args == ("install", "a b", 'c"d', "e f", "g")
    assert command.text == 'pip install \'a b\' "c\\"d" e\\ f g'


def test_expressions_are_masked_for_splitting_and_kept_in_words() -> None:
    text = "docker run ${{ inputs.a || 'x; y' }} && pip install ${{ matrix.p }}"
    first, second = parse_script(text)
    assert first.args == ("run", "${{ inputs.a || x; y }}")
    assert second.args == ("install", "${{ matrix.p }}")
    assert mask_expressions("a ${{ b }} c") == "a ${{___}} c"
    assert len(mask_expressions(text)) == len(text)


def test_redirections_are_not_arguments() -> None:
    (command,) = parse_script("curl -fsSL https://x > out.sh 2>&1 <in >>log")
    assert command.args == ("-fsSL", "https://x")
    assert command.redirects == ((">", "out.sh"), (">&", "1"), ("<", "in"), (">>", "log"))


def test_pipelines_number_their_stages_across_a_line_break() -> None:
    commands = parse_script("curl x |\n  tee f | sh\nls | wc")
    assert [(c.tool, c.pipeline, c.stage) for c in commands] == [
        ("curl", 1, 0),
        ("tee", 1, 1),
        ("sh", 1, 2),
        ("ls", 2, 0),
        ("wc", 2, 1),
    ]


def test_data_heredocs_are_skipped_and_shell_heredocs_are_read() -> None:
    script = (
        "cat <<'EOF' > x\npip install data\nEOF\n"
        "cat <<-EOF\n\tpip install tabbed\n\tEOF\n"
        "sudo bash -s <<EOF\npip install code\nEOF\n"
        "pip install after"
    )
    assert tools(script) == [
        ("cat", ()),
        ("cat", ()),
        ("bash", ("-s",)),
        ("pip", ("install", "code")),
        ("pip", ("install", "after")),
    ]


def test_an_unterminated_heredoc_hides_nothing() -> None:
    assert ("pip", ("install", "x")) in tools("cat <<EOF\npip install x")


def test_arithmetic_shift_is_not_a_heredoc() -> None:
    assert ("pip", ("install", "y")) in tools("echo $((1 << 2))\npip install y")


NESTED = [
    "bash -c 'pip install x'",
    'sudo sh -ec "pip install x"',
    "eval 'pip install x'",
    "su -c 'pip install x' root",
    "v=$(pip install x)",
    "echo `pip install x`",
    "pwsh -Command 'pip install x'",
    'cmd /c "pip install x"',
]


@pytest.mark.parametrize("script", NESTED)
def test_code_handed_to_a_shell_is_read_at_the_outer_command(script: str) -> None:
    commands = parse_script(script)
    nested = [c for c in commands if c.nested]
    assert [(c.tool, c.args) for c in nested] == [("pip", ("install", "x"))]
    assert nested[0].start == commands[0].start
    assert nested[0].end == commands[0].end


def test_nesting_is_bounded() -> None:
    script = "pip install x"
    for _ in range(10):
        script = "bash -c " + repr(script)
    assert all(c.tool != "pip" for c in parse_script(script))


def test_powershell_quoting_comments_and_here_strings() -> None:
    script = (
        "# pip install comment\n"
        "<# pip install\n block #>\n"
        "$s = @'\npip install here-string\n'@\n"
        "python -m pip install `\n  pywin32; Write-Host 'pip install quoted'\n"
        "iex ((New-Object Net.WebClient).DownloadString('https://x'))"
    )
    found = tools(script, Dialect.PWSH)
    assert ("pip", ("install", "pywin32")) in found
    assert [t for t, _ in found].count("pip") == 1
    assert found[-1][0] == "iex"
    assert len(found[-1][1]) == 1


def test_cmd_remarks_and_carets() -> None:
    script = (
        "@echo off\nREM pip install no & npm i\n:: pip install no\n"
        "pip install ^\n  yes & npm.cmd ci"
    )
    assert tools(script, Dialect.CMD) == [
        ("echo", ("off",)),
        ("pip", ("install", "yes")),
        ("npm", ("ci",)),
    ]


@pytest.mark.parametrize(
    ("shell", "dialect"),
    [
        (None, Dialect.POSIX),
        ("bash", Dialect.POSIX),
        ("bash --noprofile --norc -eo pipefail {0}", Dialect.POSIX),
        ("sh", Dialect.POSIX),
        ("pwsh", Dialect.PWSH),
        ("powershell -command \". '{0}'\"", Dialect.PWSH),
        ("cmd", Dialect.CMD),
        ("${{ matrix.shell }}", Dialect.POSIX),
        ("unknown-shell {0}", Dialect.POSIX),
        ("python", None),
        ("python3 {0}", None),
        ("node {0}", None),
        ("perl {0}", None),
    ],
)
def test_dialect_of_a_step_shell(shell: str | None, dialect: Dialect | None) -> None:
    assert dialect_for(shell) is dialect


@pytest.mark.parametrize(
    "script", ["echo 'unclosed\npip install x", 'echo "open\npip install x"', "echo $(\npip"]
)
def test_unbalanced_input_never_raises(script: str) -> None:
    commands = parse_script(script)
    assert all(isinstance(c, Command) for c in commands)


def test_unbalanced_single_quote_falls_back_to_a_whitespace_split() -> None:
    assert tools("echo it's\npip install x") == [("echo", ("it's",)), ("pip", ("install", "x"))]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab $(){}'\"`\\|&;<>#\n\t=-@^%*")), max_size=80))
@pytest.mark.parametrize("dialect", list(Dialect))
def test_any_text_parses_without_error(dialect: Dialect, text: str) -> None:
    for command in parse_script(text, dialect):
        assert 0 <= command.start <= command.end <= len(text)


# -- positions in the file -------------------------------------------------------------


def test_literal_block_maps_lines_and_indentation_exactly() -> None:
    text = workflow("|\n          echo a\n\n          pip install b && \\\n            npm i\n")
    assert located(text) == [
        (7, 11, "echo a"),
        (9, 11, "pip install b"),
        (10, 13, "npm i"),
    ]


@pytest.mark.parametrize("header", ["|-", "|+", "|2", "|2-", "| # comment"])
def test_literal_block_headers(header: str) -> None:
    text = workflow(f"{header}\n          echo a\n          pip install b\n")
    assert [(line, column) for line, column, _ in located(text)] == [(7, 11), (8, 11)]


def test_indentation_indicator_keeps_extra_spaces_in_the_script() -> None:
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        "      - run: |2\n            pip install a\n          npm i\n"
    )
    assert located(text) == [(7, 13, "pip install a"), (8, 11, "npm i")]


def test_plain_one_liner_uses_the_node_column_plus_offset() -> None:
    assert located(workflow("echo x && pip install y")) == [
        (6, 14, "echo x"),
        (6, 24, "pip install y"),
    ]


def test_quoted_one_liners_are_found_within_the_node() -> None:
    assert located(workflow('"echo \\"x\\" && pip install y"')) == [
        (6, 15, 'echo "x"'),
        (6, 29, "pip install y"),
    ]
    assert located(workflow("'echo ''x'' && pip install y'")) == [
        (6, 15, "echo 'x'"),
        (6, 29, "pip install y"),
    ]


def test_folded_block_finds_each_command_on_its_own_line() -> None:
    text = workflow(">\n          pip install\n          a\n\n          npm i\n")
    assert located(text) == [(7, 11, "pip install a"), (10, 11, "npm i")]


def test_multi_line_double_quoted_script() -> None:
    text = workflow('"echo one &&\n        pip install two"')
    assert located(text) == [(6, 15, "echo one"), (7, 9, "pip install two")]


def test_nested_commands_point_at_the_outer_command() -> None:
    text = workflow("|\n          echo a\n          bash -c 'pip install b'\n")
    assert located(text) == [
        (7, 11, "echo a"),
        (8, 11, "bash -c 'pip install b'"),
        (8, 11, "pip install b"),
    ]


def test_crlf_files_map_like_lf_files() -> None:
    text = workflow("|\n          echo a\n          pip install b\n").replace("\n", "\r\n")
    assert located(text) == [(7, 11, "echo a"), (8, 11, "pip install b")]


def test_non_shell_steps_have_no_commands() -> None:
    text = workflow("|\n          import os\n        shell: python\n")
    assert located(text) == []


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab p'\"\\|&;#\n$(){}")), min_size=1, max_size=60),
    st.sampled_from(["|", ">", "|-", ">-", "plain", "double", "single"]),
)
def test_positions_never_leave_the_scalar(body: str, style: str) -> None:
    if style == "plain":
        run = body.replace("\n", " ")
    elif style == "double":
        run = '"' + body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    elif style == "single":
        run = "'" + body.replace("'", "''").replace("\n", "\n\n        ") + "'"
    else:
        run = style + "\n" + "\n".join("          " + line for line in body.split("\n"))
    text = workflow(run) + "\n      - run: echo after\n"
    source = SourceFile.from_text(".github/workflows/w.yml", FileKind.WORKFLOW, text)
    try:
        document = WorkflowDocument(source)
    except DocumentProblem:
        assume(False)
        return
    assume(len(document.scripts) == 2)
    node = document.scripts[0].node
    end_line = node.end_mark.line + (1 if node.end_mark.column else 0)
    for lc in script_commands(document.scripts[0], source):
        assert node.start_mark.line + 1 <= lc.at.line <= end_line


HOSTILE = {
    "unclosed substitutions in a quote": '"' + "$(" * 10000,
    "quote and substitution chains": '"$(' * 10000,
    "unclosed substitutions": "$(" * 10000,
    "unclosed braces": "${" * 10000,
    "substitution quote mix": '$("' * 10000,
    "unterminated heredocs": "".join(f"cat <<X{i}\n" for i in range(10000)),
    "deep parentheses": "(" * 10000 + ")" * 10000,
    "odd quotes": "'" * 10001,
    "backquotes": "`" * 10001,
    "here-strings": '@"\n' * 10000,
    "escapes in a quote": '"' + "\\" * 20001,
}


@pytest.mark.parametrize("dialect", list(Dialect))
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_scripts_parse_in_linear_time(text: str, dialect: Dialect) -> None:
    started = time.perf_counter()
    commands = parse_script(text, dialect)
    elapsed = time.perf_counter() - started
    assert all(0 <= c.start <= c.end <= len(text) for c in commands)
    # Quadratic scanning took 10 s and more on these inputs; linear takes a fraction of one.
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_an_unclosed_opener_costs_only_its_line() -> None:
    script = 'echo "$(unclosed\npip install x\necho ${oops\nnpm i'
    assert ("pip", ("install", "x")) in tools(script)
    assert ("npm", ("i",)) in tools(script)


def test_after_many_unclosed_openers_the_rest_is_read_as_plain_words() -> None:
    script = "\n".join(["echo $(oops"] * 40 + ["pip install late 'quoted arg'"])
    assert ("pip", ("install", "late", "'quoted", "arg'")) in tools(script)


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("cat tools.txt | xargs pip install", ("install", "$(xargs)")),
        ("xargs -n 1 -P 4 pip install < tools.txt", ("install", "$(xargs)")),
        ("xargs -I{} pip install {}==1.0 < tools.txt", ("install", "$(xargs)==1.0")),
        ("xargs -a tools.txt -- pip install -q", ("install", "-q", "$(xargs)")),
    ],
)
def test_xargs_input_is_a_run_time_argument(script: str, args: tuple[str, ...]) -> None:
    assert ("pip", args) in tools(script)


def _shlex_unquote(raw: str, dialect: Dialect) -> str:
    syntax = SYNTAX[dialect]
    lexer = shlex.shlex(raw.replace(CONTINUATION[dialect], ""), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = syntax.quotes.replace("`", "")
    lexer.escape = syntax.escape
    lexer.escapedquotes = syntax.escaped_quotes.replace("`", "")
    try:
        return " ".join(lexer)
    except ValueError:
        return raw.replace(CONTINUATION[dialect], "")


@settings(max_examples=500, deadline=None)  # words never hold unquoted whitespace
@given(st.text(alphabet=st.sampled_from(list("ab'\"\\`$^x=")), max_size=12))
@pytest.mark.parametrize("dialect", list(Dialect))
def test_unquote_fast_path_agrees_with_shlex(dialect: Dialect, raw: str) -> None:
    assert unquote(raw, dialect) == _shlex_unquote(raw, dialect)


def _tokens(*groups: str) -> list[str]:
    return [word for group in groups for word in group.split(" ")]


_WORDS = _tokens(
    "pip pip3 python3 -m uv pipx uvx npm yarn pnpm bun go cargo docker podman",
    "curl wget sh bash sudo env xargs eval iex iwr install i add run pull create",
    "get tool -c -e -o -O -r -I -t --tag --path --locked -g --pull",
    "x x==1 x@latest x@v1.2.3 alpine:3 ./a.sh a.sh https://h/a.sh $V",
    "${{ e }} | && ; \n ' \" $( ) ` <( <<EOF EOF > 2>&1 # \\",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=30), st.sampled_from(["bash", "pwsh", "cmd"]))
def test_script_rules_never_raise(words: list[str], step_shell: str) -> None:
    script = " ".join(words)
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        f"      - shell: {step_shell}\n        run: {json.dumps(script)}\n"
    )
    source = SourceFile.from_text(".github/workflows/w.yml", FileKind.WORKFLOW, text)
    document = WorkflowDocument(source)
    emitter = Emitter(source.rel)
    for check in CHECKS:
        if isinstance(check, ScriptCheck):
            check.run(document, emitter)
    for finding in emitter.findings:
        assert finding.line == 7
        assert finding.fix
