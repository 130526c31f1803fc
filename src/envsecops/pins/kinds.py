"""The kinds of files pin-check understands, and how a path maps to one."""

from __future__ import annotations

import fnmatch
from enum import StrEnum
from pathlib import PurePosixPath


class FileKind(StrEnum):
    """A kind of file; the value is the name used in stats, JSON and EXPECTED.csv."""

    WORKFLOW = "workflow"
    ACTION = "action"
    DEPENDABOT = "dependabot"
    DEVCONTAINER = "devcontainer"
    COMPOSE = "compose"
    DOCKERFILE = "dockerfile"
    REQUIREMENTS = "requirements"
    K8S = "k8s"


YAML_SUFFIXES = (".yml", ".yaml")
POLICY_FILE = ".github/envsecops.yml"


def kind_for_path(rel: str) -> FileKind | None:
    """Classify a repository-relative POSIX path by its name alone (k8s needs content)."""
    path = PurePosixPath(rel)
    name = path.name
    parts = path.parts
    lower = name.lower()
    # A repository's .github/ may sit below the scanned root (a folder of many repositories).
    if parts[-3:-1] == (".github", "workflows") and lower.endswith(YAML_SUFFIXES):
        return FileKind.WORKFLOW
    if name in {"action.yml", "action.yaml"}:
        return FileKind.ACTION
    if parts[-2:-1] == (".github",) and name in {"dependabot.yml", "dependabot.yaml"}:
        return FileKind.DEPENDABOT
    if name == ".devcontainer.json" or (name == "devcontainer.json" and ".devcontainer" in parts):
        return FileKind.DEVCONTAINER
    if lower.endswith(YAML_SUFFIXES) and (
        fnmatch.fnmatch(lower, "compose*") or fnmatch.fnmatch(lower, "docker-compose*")
    ):
        return FileKind.COMPOSE
    if name.startswith(("Dockerfile", "Containerfile")) or lower.endswith(
        (".dockerfile", ".containerfile")
    ):
        return FileKind.DOCKERFILE
    if lower.endswith(".txt") and (
        lower.startswith("requirements") or (len(parts) > 1 and parts[-2] == "requirements")
    ):
        return FileKind.REQUIREMENTS
    return None


def looks_like_k8s(data: bytes) -> bool:
    """A YAML file that has the keys a Kubernetes manifest with containers must have."""
    return b"apiVersion:" in data and b"kind:" in data and b"image:" in data
