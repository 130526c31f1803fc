"""Rule behaviour beyond the fixtures: fixes, pull policy, suppression and parse errors."""

from __future__ import annotations

from pathlib import Path

from envsecops.pins.engine import PinCheckOptions, PinReport, run_pin_check
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.dockerfile_from_variable import DockerfileFromVariable
from envsecops.pins.rules.unpinned_compose_image import UnpinnedComposeImage
from envsecops.pins.rules.unpinned_dockerfile_from import UnpinnedDockerfileFrom
from envsecops.policy.pins import PinsPolicy
from tests.unit.pins.helpers import run_check


def _scan(root: Path, files: dict[str, str]) -> PinReport:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return run_pin_check(PinCheckOptions(paths=(root,), base=root, jobs=1), PinsPolicy(None))


def test_platform_only_variable_suggests_an_index_digest() -> None:
    (finding,) = run_check(
        DockerfileFromVariable(), FileKind.DOCKERFILE, "FROM tool:1-${TARGETARCH}\n"
    )
    assert "index digest" in (finding.fix or "")
    (other,) = run_check(DockerfileFromVariable(), FileKind.DOCKERFILE, "ARG B\nFROM $B\n")
    assert "`ARG B=image:tag@sha256:" in (other.fix or "")


def test_arg_fix_points_at_the_arg_line() -> None:
    text = "# base image\nARG BASE=python:3.12\nFROM $BASE\n"
    (finding,) = run_check(UnpinnedDockerfileFrom(), FileKind.DOCKERFILE, text)
    assert "`ARG BASE=python:3.12@sha256:<64-hex digest>` on line 2" in (finding.fix or "")
    assert "ARG default was used" in finding.message


def test_pull_policy_build_means_the_image_is_only_a_tag() -> None:
    text = (
        "services:\n"
        "  built:\n    build: .\n    image: example/app:dev\n    pull_policy: build\n"
        "  pulled:\n    build: .\n    image: example/app:dev\n"
    )
    findings = run_check(UnpinnedComposeImage(), FileKind.COMPOSE, text)
    assert [f.line for f in findings] == [8]


def test_inline_ignores_work_in_every_kind(tmp_path: Path) -> None:
    report = _scan(
        tmp_path,
        {
            "Dockerfile": "# syntax=docker/dockerfile:1 # envsecops: ignore[unpinned-dockerfile-"
            "syntax] Docker's own frontend\n"
            "# envsecops: ignore[unpinned-dockerfile-from] vendor base, tracked\n"
            "FROM vendor/base:1\n",
            "requirements.txt": "six==1.16.0  # envsecops: ignore[requirements-without-hash] "
            "wheel-less\n",
            ".devcontainer/devcontainer.json": "{\n  // envsecops: ignore[unpinned-devcontainer-"
            'image] local only\n  "image": "a:1"\n}\n',
            "compose.yml": "services:\n  a:\n    image: b:1  # envsecops: ignore[unpinned-"
            "compose-image] dev only\n",
        },
    )
    assert report.findings == []
    assert sorted(s.finding.rule_id for s in report.suppressed) == [
        "requirements-without-hash",
        "unpinned-compose-image",
        "unpinned-devcontainer-image",
        "unpinned-dockerfile-from",
        "unpinned-dockerfile-syntax",
    ]


def test_broken_files_of_each_kind_are_parse_errors(tmp_path: Path) -> None:
    report = _scan(
        tmp_path,
        {
            "Dockerfile": "FROM a b c d\n",
            "requirements.txt": "ok==1\n-r\n",
            ".devcontainer/devcontainer.json": '{\n  "image": "a:1",,\n}\n',
            "compose.yml": "services:\n  a: [\n",
            "k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers: x\nimage: y\n",
        },
    )
    got = sorted((f.path, f.rule_id, f.line) for f in report.findings)
    assert got == [
        (".devcontainer/devcontainer.json", "parse-error", 2),
        ("Dockerfile", "parse-error", 1),
        ("compose.yml", "parse-error", 3),
        ("k8s/pod.yaml", "parse-error", 4),
        ("requirements.txt", "parse-error", 2),
    ]
    stats = report.stats()
    assert all(stats[kind]["files_unparseable"] == 1 for kind in stats)
