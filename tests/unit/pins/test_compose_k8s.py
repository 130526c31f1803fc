"""Compose and Kubernetes documents: structure errors fail closed, metrics, odd shapes."""

from __future__ import annotations

from collections import Counter

import pytest

from envsecops.pins.documents.base import Document, DocumentProblem
from envsecops.pins.documents.compose import ComposeDocument
from envsecops.pins.documents.k8s import K8sDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.unpinned_dockerfile_from import UnpinnedDockerfileFrom
from envsecops.pins.rules.unpinned_k8s_image import UnpinnedK8sImage
from envsecops.pins.source import SourceFile
from tests.unit.pins.helpers import run_check

DIGEST = "sha256:" + "0f3c6b2ad7a3a7f0e4b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c"


def _compose(text: str) -> ComposeDocument:
    return ComposeDocument(SourceFile.from_text("compose.yml", FileKind.COMPOSE, text))


def _k8s(text: str) -> K8sDocument:
    return K8sDocument(SourceFile.from_text("deploy.yaml", FileKind.K8S, text))


def _metrics(document: Document) -> dict[str, int]:
    counter: Counter[tuple[str, str]] = Counter()
    document.metrics(counter)
    return {metric: count for (_kind, metric), count in counter.items() if count}


@pytest.mark.parametrize(
    ("text", "kind", "line", "column"),
    [
        ("services:\n  - web\n", "parse-error", 2, 3),
        ("services:\n  web: nginx\n", "parse-error", 2, 8),
        ("services:\n  web:\n    image: [nginx]\n", "parse-error", 3, 12),
        ("services:\n  web:\n    image: ''\n", "parse-error", 3, 12),
        ("services:\n  web:\n    image: a\n    image: b\n", "duplicate-key", 4, 5),
        ("- just a list\n", "parse-error", 1, 1),
        ("services:\n  web:\n    build: [a]\n", "parse-error", 3, 12),
        ("include: compose.other.yml\n", "parse-error", 1, 10),
        (
            "services:\n  web:\n    build:\n      dockerfile_inline: |\n        FROM a b\n",
            "parse-error",
            4,
            26,
        ),
    ],
)
def test_compose_structure_errors(text: str, kind: str, line: int, column: int) -> None:
    with pytest.raises(DocumentProblem) as caught:
        _compose(text)
    assert (caught.value.kind, caught.value.line, caught.value.column) == (kind, line, column)


def test_compose_metrics_classify_the_value_as_written() -> None:
    text = (
        "services:\n"
        f"  a: {{image: 'postgres:16@{DIGEST}'}}\n"
        "  b: {image: 'postgres:16'}\n"
        "  c: {image: postgres}\n"
        "  d: {image: '${IMG:-postgres:16}'}\n"
        "  e: {build: .}\n"
        "  f: {image: ~}\n"
        "  g:\n"
    )
    assert _metrics(_compose(text)) == {
        "files": 1,
        "image_total": 4,
        "image_digest": 1,
        "image_no_digest_tagged": 1,
        "image_no_digest_untagged_or_latest": 1,
        "image_variable": 1,
    }


def test_empty_compose_file_has_nothing_to_pull() -> None:
    assert _metrics(_compose("# nothing yet\n")) == {"files": 1}


def test_inline_dockerfile_in_a_flow_scalar_reports_on_the_node_line() -> None:
    text = "services:\n  app:\n    build:\n      dockerfile_inline: 'FROM node:20'\n"
    (finding,) = run_check(UnpinnedDockerfileFrom(), FileKind.COMPOSE, text)
    assert (finding.line, finding.column) == (4, 32)


def test_k8s_structure_errors_only_for_kubernetes_objects() -> None:
    bad = "apiVersion: v1\nkind: Pod\nspec:\n  containers: nginx\n"
    with pytest.raises(DocumentProblem) as caught:
        _k8s(bad)
    assert (caught.value.line, caught.value.column) == (4, 15)
    with pytest.raises(DocumentProblem):
        _k8s("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {a: b}\n")
    # Not a Kubernetes object (no apiVersion/kind at the top): an unrelated `containers` key.
    assert _metrics(_k8s("settings:\n  containers: 3\nimage: x\n")) == {"files": 1}


def test_k8s_helm_template_gets_a_hint() -> None:
    text = "apiVersion: v1\nkind: Pod\n{{- if .Values.enabled }}\nspec: {}\n"
    with pytest.raises(DocumentProblem) as caught:
        _k8s(text)
    assert caught.value.kind == "parse-error"
    assert "Helm" in caught.value.message


def test_k8s_aliases_are_counted_once_and_ansible_lists_are_read() -> None:
    text = (
        "- name: deploy\n"
        "  kubernetes.core.k8s:\n"
        "    definition:\n"
        "      apiVersion: v1\n"
        "      kind: Pod\n"
        "      metadata: {name: p}\n"
        "      spec:\n"
        "        containers: &c\n"
        "          - {name: a, image: 'nginx:1.27'}\n"
        "        initContainers: *c\n"
    )
    document = _k8s(text)
    assert [(i.role, i.resource) for i in document.images] == [
        ("container", "Pod/p in document"),
    ]
    findings = run_check(UnpinnedK8sImage(), FileKind.K8S, text)
    assert [(f.line, f.column) for f in findings] == [(9, 30)]


def test_k8s_metrics_over_documents() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        f"    - image: 'a@{DIGEST}'\n    - image: b:1\n"
        "---\n"
        "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - image: ${IMAGE}\n"
    )
    assert _metrics(_k8s(text)) == {
        "files": 1,
        "image_total": 3,
        "image_digest": 1,
        "image_no_digest_tagged": 1,
        "image_variable": 1,
    }


def test_crd_schema_with_a_containers_property_is_not_a_pod_spec() -> None:
    text = (
        "apiVersion: apiextensions.k8s.io/v1\n"
        "kind: CustomResourceDefinition\n"
        "spec:\n"
        "  versions:\n"
        "    - schema:\n"
        "        openAPIV3Schema:\n"
        "          properties:\n"
        "            containers: {type: array, items: {type: object}}\n"
        "            image: {type: string}\n"
    )
    assert _metrics(_k8s(text)) == {"files": 1}
