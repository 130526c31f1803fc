"""devcontainer.json: JSONC parsing fails closed with positions; features, variables, metrics."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.devcontainer import (
    DevcontainerDocument,
    FeatureClass,
    classify_feature,
    resolve_variables,
)
from envsecops.pins.documents.jsonc import mask_comments
from envsecops.pins.documents.related import IncludeStatus
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from tests.conftest import shared_dir


def _document(text: str, rel: str = ".devcontainer/devcontainer.json") -> DevcontainerDocument:
    return DevcontainerDocument(SourceFile.from_text(rel, FileKind.DEVCONTAINER, text))


@pytest.mark.parametrize(
    ("text", "kind", "line", "column"),
    [
        ('{\n  "image": "a",\n  "features": {,}\n}\n', "parse-error", 3, 16),
        ("{'image': 'a'}", "parse-error", 1, 2),
        ('{"a": [1,,]}', "parse-error", 1, 10),
        ('{"a": NaN}', "parse-error", 1, 7),
        ('{\n  "image": "a",\n  // "image": "c"\n  "image": "b"\n}\n', "duplicate-key", 4, 3),
        ('["not", "an", "object"]\n', "parse-error", 1, 1),
        ('{"image": 3}\n', "parse-error", 1, 2),
        ('{\n  "features": ["a"]\n}\n', "parse-error", 2, 3),
        ('{"build": "Dockerfile"}\n', "parse-error", 1, 2),
        ('{"dockerComposeFile": [1]}\n', "parse-error", 1, 2),
        ("", "parse-error", 1, 1),
        ("[" * 5000, "input-too-large", 1, 1),
    ],
)
def test_errors_have_positions(text: str, kind: str, line: int, column: int) -> None:
    with pytest.raises(DocumentProblem) as caught:
        _document(text)
    assert (caught.value.kind, caught.value.line, caught.value.column) == (kind, line, column)


def test_jsonc_trailing_commas_and_comments_are_accepted() -> None:
    text = '{\n  "image": "a:1", /* c */\n  "features": {"x/y:1": {},},  // c\n}\n'
    document = _document(text)
    assert document.image is not None
    assert (document.image.line, document.image.column) == (2, 12)
    assert [(f.line, f.column) for f in document.features] == [(3, 16)]


def test_megabyte_file_parses_quickly() -> None:
    body = ",\n".join(f'    "k{i}": ["{"y" * 40}", 1, true, null]' for i in range(25_000))
    text = '{\n  // big\n  "image": "a:1",\n  "customizations": {\n' + body + ",\n  },\n}\n"
    assert len(text) > 1_000_000
    started = time.perf_counter()
    document = _document(text)
    assert time.perf_counter() - started < 2.0
    assert document.image is not None


def test_mask_comments_keeps_offsets_and_strings() -> None:
    text = '{"a": "http://x", // c\n /* b\n c */ "d": 1}'
    masked = mask_comments(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert '"http://x"' in masked
    assert "//" not in masked.replace("http://", "")
    assert "/*" not in masked


def test_classify_feature() -> None:
    digest = "sha256:" + "0f3c6b2ad7a3a7f0e4b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c"
    assert classify_feature(f"ghcr.io/o/f/node@{digest}") is FeatureClass.DIGEST
    assert classify_feature("ghcr.io/o/f/node:1") is FeatureClass.TAGGED
    assert classify_feature("localhost:5000/o/f/node") is FeatureClass.UNTAGGED
    assert classify_feature("./local") is FeatureClass.LOCAL
    assert classify_feature("../shared/feature") is FeatureClass.LOCAL
    assert classify_feature("https://x/f.tgz") is FeatureClass.TARBALL
    assert classify_feature("docker-in-docker") is FeatureClass.LEGACY


def test_resolve_variables() -> None:
    assert resolve_variables("img:${localEnv:TAG:1.2}") == "img:1.2"
    assert resolve_variables("${localEnv:IMG}") is None
    assert resolve_variables("img:${unknownKind}") is None
    assert resolve_variables("plain:1") == "plain:1"


def test_metrics_count_local_features_without_digest_as_pinned() -> None:
    text = '{"image": "a:1", "features": {"./f": {}, "ghcr.io/o/f/x:1": {}, "common": {}}}'
    counter: Counter[tuple[str, str]] = Counter()
    _document(text).metrics(counter)
    assert dict(counter) == {
        ("devcontainer", "files"): 1,
        ("devcontainer", "image_total"): 1,
        ("devcontainer", "image_no_digest_tagged"): 1,
        ("devcontainer", "feature_total"): 3,
        ("devcontainer", "feature_no_digest"): 2,
    }


def test_related_dockerfile_and_compose_files(tmp_path: Path) -> None:
    folder = tmp_path / ".devcontainer"
    folder.mkdir()
    (tmp_path / "Dockerfile").write_text("FROM a\n", encoding="utf-8")
    (folder / "compose.yml").write_text("services: {}\n", encoding="utf-8")
    text = '{"dockerFile": "../Dockerfile", "dockerComposeFile": "compose.yml"}'
    path = folder / "devcontainer.json"
    document = DevcontainerDocument(
        SourceFile(path, ".devcontainer/devcontainer.json", FileKind.DEVCONTAINER, _text=text)
    )
    assert [(p.name, k) for p, k in document.related()] == [
        ("Dockerfile", FileKind.DOCKERFILE),
        ("compose.yml", FileKind.COMPOSE),
    ]
    assert {i.status for i in document.includes} == {IncludeStatus.FOUND}


@pytest.mark.parametrize("repo", ["actions__runner", "cli__cli", "pypa__pip"])
def test_corpus_devcontainers_parse(repo: str) -> None:
    corpus = shared_dir("corpus")
    path = corpus / repo / ".devcontainer" / "devcontainer.json"
    document = DevcontainerDocument(SourceFile(path, "devcontainer.json", FileKind.DEVCONTAINER))
    assert document.image is not None
    assert document.image.line > 1
    assert all(f.klass is not FeatureClass.DIGEST for f in document.features)
