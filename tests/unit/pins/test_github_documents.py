"""Workflow and action documents: their `uses:`, images, scripts, metrics and related files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.documents.base import DocumentProblem, Metrics
from envsecops.pins.documents.github import ActionDocument, GitHubDocument, WorkflowDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import items

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
DIGEST = "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d"

WORKFLOW = f"""\
on:
  push:
defaults:
  run: {{shell: bash}}
jobs:
  call:
    uses: org/shared/.github/workflows/build.yml@v1
  build:
    runs-on: ubuntu-latest
    defaults:
      run: {{shell: pwsh}}
    container:
      image: node:20
    services:
      db: {{image: postgres@sha256:{DIGEST}}}
      cache: redis
      optional: {{image: ""}}
    steps:
      - uses: actions/checkout@{SHA} # v4.2.2
      - run: echo one
      - run: echo two
        shell: sh
      - just a string, which GitHub would refuse
      - uses: ./local
  lint:
    runs-on: ubuntu-latest
    container: ${{{{ matrix.image }}}}
    steps:
      - uses: docker://alpine:3.20
      - run: echo three
"""


def _parse(kind: FileKind, text: str, rel: str = "file.yml") -> GitHubDocument:
    document = DOCUMENT_BY_KIND[kind](SourceFile.from_text(rel, kind, text))
    assert isinstance(document, GitHubDocument)
    return document


def test_registry_maps_github_kinds_to_their_documents() -> None:
    assert DOCUMENT_BY_KIND[FileKind.WORKFLOW] is WorkflowDocument
    assert DOCUMENT_BY_KIND[FileKind.ACTION] is ActionDocument


def test_workflow_uses_with_contexts_and_levels() -> None:
    document = _parse(FileKind.WORKFLOW, WORKFLOW)
    assert [(u.value, u.context, u.job_level) for u in document.uses] == [
        ("org/shared/.github/workflows/build.yml@v1", "jobs.call", True),
        (f"actions/checkout@{SHA}", "jobs.build.steps[0]", False),
        ("./local", "jobs.build.steps[4]", False),
        ("docker://alpine:3.20", "jobs.lint.steps[0]", False),
    ]


def test_workflow_images_skip_the_empty_one() -> None:
    document = _parse(FileKind.WORKFLOW, WORKFLOW)
    assert [(i.value, i.context, i.role) for i in document.images] == [
        ("node:20", "jobs.build.container", "container"),
        (f"postgres@sha256:{DIGEST}", "jobs.build.services.db", "service"),
        ("redis", "jobs.build.services.cache", "service"),
        ("${{ matrix.image }}", "jobs.lint.container", "container"),
    ]


def test_workflow_scripts_carry_the_nearest_shell() -> None:
    document = _parse(FileKind.WORKFLOW, WORKFLOW)
    assert [(s.text, s.context, s.shell) for s in document.scripts] == [
        ("echo one", "jobs.build.steps[1]", "pwsh"),
        ("echo two", "jobs.build.steps[2]", "sh"),
        ("echo three", "jobs.lint.steps[1]", "bash"),
    ]


def test_on_stays_the_string_key_on() -> None:
    document = _parse(FileKind.WORKFLOW, WORKFLOW)
    assert next(name for name, _key, _value in items(document.root)) == "on"


def test_workflow_metrics() -> None:
    counter: Metrics = Counter()
    _parse(FileKind.WORKFLOW, WORKFLOW).metrics(counter)
    assert dict(counter) == {
        ("workflow", "files"): 1,
        ("workflow", "uses_total"): 4,
        ("workflow", "uses_unpinned_ref"): 1,
        ("workflow", "uses_sha_pinned"): 1,
        ("workflow", "uses_local"): 1,
        ("workflow", "uses_docker_nodigest"): 1,
        ("workflow", "container_image_total"): 2,
        ("workflow", "container_image_no_digest_tagged"): 1,
        ("workflow", "container_image_expression"): 1,
        ("workflow", "service_image_total"): 2,
        ("workflow", "service_image_digest"): 1,
        ("workflow", "service_image_no_digest_untagged_or_latest"): 1,
    }


def test_a_mapping_uses_counts_as_malformed() -> None:
    counter: Metrics = Counter()
    text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {a: b}\n"
    document = _parse(FileKind.WORKFLOW, text)
    document.metrics(counter)
    assert document.uses[0].value is None
    assert counter[("workflow", "uses_malformed")] == 1


def test_composite_action() -> None:
    text = (
        "name: n\ndescription: d\nruns:\n  using: Composite\n  steps:\n"
        "    - uses: actions/setup-node@v4\n    - run: make\n      shell: bash\n"
    )
    document = _parse(FileKind.ACTION, text, "action.yml")
    assert [(u.value, u.context) for u in document.uses] == [
        ("actions/setup-node@v4", "runs.steps[0]")
    ]
    assert [(s.text, s.shell) for s in document.scripts] == [("make", "bash")]
    counter: Metrics = Counter()
    document.metrics(counter)
    assert counter[("action", "runs_using_composite")] == 1
    assert counter[("action", "uses_unpinned_ref")] == 1


def test_docker_action_image_and_no_steps_for_other_runtimes() -> None:
    docker = _parse(
        FileKind.ACTION, "runs:\n  using: docker\n  image: docker://alpine:3\n", "action.yml"
    )
    assert [(i.value, i.role, i.context) for i in docker.images] == [
        ("docker://alpine:3", "action", "runs.image")
    ]
    assert docker.related() == []
    node = _parse(
        FileKind.ACTION,
        "runs:\n  using: node20\n  main: index.js\n  steps: [{uses: a/b@v1}]\n",
        "action.yml",
    )
    assert node.uses == []
    assert node.images == []


def test_docker_action_with_a_non_string_image_is_kept_as_malformed() -> None:
    document = _parse(FileKind.ACTION, "runs:\n  using: docker\n  image: [a]\n", "action.yml")
    assert [(i.value, i.role) for i in document.images] == [(None, "action")]


def test_docker_action_dockerfile_is_related_only_inside_the_action(tmp_path: Path) -> None:
    action = tmp_path / "actions" / "tool" / "action.yml"
    action.parent.mkdir(parents=True)
    folder = action.parent.resolve()
    for image, expected in [
        ("Dockerfile", [folder / "Dockerfile"]),
        ("build/Containerfile", [folder / "build" / "Containerfile"]),
        ("../../../../etc/passwd", []),
        (str(tmp_path / "elsewhere" / "Dockerfile"), []),
        (".", []),
    ]:
        action.write_text(f"runs:\n  using: docker\n  image: '{image}'\n", encoding="utf-8")
        source = SourceFile(path=action, rel="actions/tool/action.yml", kind=FileKind.ACTION)
        document = DOCUMENT_BY_KIND[FileKind.ACTION](source)
        related = document.related()
        assert [path for path, _kind in related] == expected, image
        assert all(kind is FileKind.DOCKERFILE for _path, kind in related)


@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        (FileKind.WORKFLOW, "- a\n- b\n", "a workflow must be a YAML mapping"),
        (FileKind.WORKFLOW, "on: push\njobs: [a, b]\n", "`jobs:` must be a mapping"),
        (FileKind.WORKFLOW, "on: push\n---\non: pull_request\n", "expected one YAML document"),
        (FileKind.ACTION, "just text\n", "action metadata must be a YAML mapping"),
        (FileKind.WORKFLOW, "on: push\non: pull_request\n", "duplicate key 'on'"),
    ],
)
def test_documents_that_cannot_be_checked_raise_a_problem(
    kind: FileKind, text: str, words: str
) -> None:
    with pytest.raises(DocumentProblem) as raised:
        DOCUMENT_BY_KIND[kind](SourceFile.from_text("f.yml", kind, text))
    assert words in raised.value.message
