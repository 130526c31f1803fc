"""Find the files pin-check reads under the given paths, skipping VCS and vendored trees."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from envsecops.pins.kinds import YAML_SUFFIXES, FileKind, kind_for_path, looks_like_k8s

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "vendor",
        "third_party",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
K8S_SNIFF_BYTES = 1024 * 1024


@dataclass
class Discovery:
    """The files found, and what was skipped and why (nothing is dropped silently)."""

    files: list[tuple[Path, str, FileKind]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _matches(rel: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(rel, pattern) for pattern in patterns)


def relative(path: Path, base: Path) -> str:
    """POSIX path of ``path`` relative to ``base`` (parent symlinks resolved), else absolute.

    The last component is kept as named, so a symbolic link is reported under its own name.
    """
    full = path.absolute().parent.resolve() / path.name
    try:
        return full.relative_to(base.resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def classify(path: Path, rel_in_repo: str) -> FileKind | None:
    """Kind of a file: by name, or for other YAML by sniffing for a Kubernetes manifest."""
    kind = kind_for_path(rel_in_repo)
    if kind is not None:
        return kind
    in_github_dir = ".github" in rel_in_repo.split("/")
    if rel_in_repo.lower().endswith(YAML_SUFFIXES) and not in_github_dir:
        try:
            with path.open("rb") as handle:
                head = handle.read(K8S_SNIFF_BYTES)
        except OSError:
            return None
        if looks_like_k8s(head):
            return FileKind.K8S
    return None


def discover(
    roots: Iterable[Path],
    base: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    policy_exclude: tuple[str, ...] = (),
) -> Discovery:
    """Walk ``roots``; classify each file relative to its root; report paths relative to base."""
    found = Discovery()
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            _consider(
                root,
                root.parent,
                base,
                include,
                exclude,
                policy_exclude,
                found,
                seen,
                explicit=True,
            )
            continue
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            current = Path(directory)
            kept = []
            for name in sorted(dirnames):
                child = current / name
                if name in SKIP_DIRS:
                    continue
                if child.is_symlink():
                    found.skipped.append((relative(child, base), "symbolic link to a directory"))
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                _consider(current / name, root, base, include, exclude, policy_exclude, found, seen)
    found.files.sort(key=lambda item: item[1])
    return found


def _consider(
    path: Path,
    root: Path,
    base: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    policy_exclude: tuple[str, ...],
    found: Discovery,
    seen: set[Path],
    *,
    explicit: bool = False,
) -> None:
    rel_in_repo = path.relative_to(root).as_posix() if not explicit else path.name
    rel = relative(path, base)
    if include and not (_matches(rel, include) or _matches(rel_in_repo, include)):
        return
    if exclude and (_matches(rel, exclude) or _matches(rel_in_repo, exclude)):
        return
    kind = classify(path, _repo_relative(path, root) if explicit else rel_in_repo)
    if kind is None:
        return
    if policy_exclude and (_matches(rel, policy_exclude) or _matches(rel_in_repo, policy_exclude)):
        found.skipped.append((rel, "excluded by `pins.exclude` in the policy file"))
        return
    if path.is_symlink():
        found.skipped.append((rel, "symbolic link (not followed)"))
        return
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    found.files.append((path, rel, kind))


def _repo_relative(path: Path, start: Path) -> str:
    """For a file named directly, find its path below the nearest directory holding `.github`."""
    for parent in [path.parent, *path.parent.parents]:
        if (parent / ".git").exists() or (parent / ".github").is_dir():
            return path.relative_to(parent).as_posix()
    return path.relative_to(start).as_posix()
