"""Pin-check readers: workflow, action, dependabot, Dockerfile, compose, k8s, devcontainer, pip.

Any bytes, read through the engine exactly as a scanned file is, end as findings or as a
parse-error finding: never an exception, never a hang, never a parse-error with no finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envsecops.pins.engine import check_file
from envsecops.pins.kinds import FileKind
from tests.fuzz.budget import fuzz_settings, ran
from tests.fuzz.mutate import any_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pins"

SUFFIXES: dict[FileKind, tuple[str, ...]] = {
    FileKind.WORKFLOW: (".workflow.yml",),
    FileKind.DEPENDABOT: ("dependabot.yml",),
    FileKind.ACTION: (".action.yml",),
    FileKind.DOCKERFILE: (".dockerfile", ".df"),
    FileKind.COMPOSE: ("compose.yml", "compose.yaml", "services.yml", "db.yml"),
    FileKind.K8S: (".k8s.yaml",),
    FileKind.DEVCONTAINER: ("devcontainer.json",),
    FileKind.REQUIREMENTS: (".txt", ".in"),
}

BOMB = b"""a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
jobs: {j: {runs-on: *e, steps: [{uses: *e}]}}
"""
MERGE = b"""base: &base {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v4}]}
jobs:
  a: {<<: *base, <<: *base}
  b: {<<: [*base, *base]}
  c: &c {needs: *c}
"""
EXTRA: dict[FileKind, tuple[bytes, ...]] = {
    FileKind.WORKFLOW: (BOMB, MERGE, b"\xef\xbb\xbfon: push\njobs: {}\n"),
    FileKind.DEPENDABOT: (
        BOMB,
        b"version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
        b"    schedule: {interval: weekly}\n    cooldown: {default-days: 7}\n",
    ),
    FileKind.ACTION: (BOMB, b"runs: {using: composite, steps: [{run: 'a', shell: bash}]}\n"),
    FileKind.K8S: (BOMB, b"---\n---\nkind: Pod\nspec: {containers: [{image: a}]}\n"),
    FileKind.COMPOSE: (BOMB, b"services: {a: {build: {dockerfile_inline: 'FROM a'}}}\n"),
    FileKind.DEVCONTAINER: (b'{"image": "a", "image": "b"}', b"/* x */ {//\n}"),
    FileKind.DOCKERFILE: (b"# escape=`\nFROM a `\n AS b\n", b"ARG A=${B:-${C}}\nFROM $A\n"),
    FileKind.REQUIREMENTS: (b"-r " + b"x" * 300 + b"\n", b"a==1 \\\n --hash=sha256:" + b"0" * 64),
}
BUDGET = {
    FileKind.WORKFLOW: 250,
    FileKind.ACTION: 150,
    FileKind.DEPENDABOT: 60,
    FileKind.DOCKERFILE: 200,
    FileKind.COMPOSE: 150,
    FileKind.K8S: 150,
    FileKind.DEVCONTAINER: 150,
    FileKind.REQUIREMENTS: 150,
}


def _seeds(kind: FileKind) -> list[bytes]:
    found = sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.name.endswith(SUFFIXES[kind])
    )
    if kind is FileKind.COMPOSE:  # compose names also end in .yml: keep those without a kind
        found = [p for p in found if not p.name.endswith((".workflow.yml", ".action.yml"))]
    return [p.read_bytes() for p in found] + list(EXTRA[kind])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder reused by every example of the module (Hypothesis runs them one by one)."""
    return tmp_path_factory.mktemp("pins-fuzz")


def _check(folder: Path, kind: FileKind, content: bytes) -> None:
    ran(f"pins:{kind.value}")
    path = folder / f"input.{kind.value}"
    path.write_bytes(content)
    result = check_file(path, path.name, kind)
    assert result.kind is kind
    unparseable = result.metrics[(kind.value, "files_unparseable")]
    if not unparseable:
        ran(f"pins:{kind.value} (parsed)")
    if unparseable:
        assert result.findings, "a file that could not be parsed must leave a finding"
    for finding in result.findings:
        assert finding.rule_id
        assert finding.line >= 1


def _property(kind: FileKind) -> object:
    seeds = _seeds(kind)
    assert seeds, f"no fixture seeds for {kind.value}"

    @fuzz_settings(BUDGET[kind])
    @given(content=any_bytes(seeds))
    @example(content=b"")
    @example(content=b"\xef\xbb\xbf")
    @example(content=b"\xff\xfe\x00")
    @example(content=BOMB)
    @example(content=b'{"a":' * 1984 + b"1" + b"}" * 1984)  # issue 8: RecursionError escaped
    @example(content=b"-r " + b"x" * 300 + b"\n")  # issue 8: ENAMETOOLONG escaped
    @example(content=b"-r a\x00b\n")  # a NUL in an include name
    @example(content=b'{"build": {"dockerfile": "a\\u0000b"}}')  # the same, via JSON
    @example(content=b'{"dockerFile": "' + b"x" * 300 + b'"}')
    def run(scratch: Path, content: bytes) -> None:
        _check(scratch, kind, content)

    return run


test_workflow_yaml = _property(FileKind.WORKFLOW)
test_action_yaml = _property(FileKind.ACTION)
test_dependabot_yaml = _property(FileKind.DEPENDABOT)
test_dockerfile = _property(FileKind.DOCKERFILE)
test_compose = _property(FileKind.COMPOSE)
test_k8s = _property(FileKind.K8S)
test_devcontainer_jsonc = _property(FileKind.DEVCONTAINER)
test_requirements = _property(FileKind.REQUIREMENTS)


@fuzz_settings(100)
@given(text=st.text(alphabet=st.sampled_from(list('{}[]",:/*\n \\abt1-e.')), max_size=200))
def test_jsonc_reader_accepts_or_names_a_problem(text: str) -> None:
    """The JSONC layer on its own: a value, or a DocumentProblem with a rule id."""
    from envsecops.pins.documents.base import DocumentProblem
    from envsecops.pins.documents.jsonc import JsoncText

    ran("pins:jsonc-text")
    problem: DocumentProblem | None = None
    try:
        JsoncText(text)
    except DocumentProblem as exc:
        problem = exc
    if problem is not None:
        assert problem.kind
        assert problem.line >= 1
