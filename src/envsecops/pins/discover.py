"""Find the files pin-check reads under the given paths, skipping VCS and vendored trees."""

from __future__ import annotations

import contextlib
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
    absolute = Path(os.path.abspath(path))  # noqa: PTH100 - normalise `.`/`..`, keep links
    full = absolute.parent.resolve() / absolute.name
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


@dataclass(frozen=True, slots=True)
class Filters:
    """Which files to read: command-line globs, and the policy's excludes (relative to its root)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    policy_exclude: tuple[str, ...] = ()
    policy_root: Path | None = None

    def wanted(self, rel: str, rel_in_repo: str) -> bool:
        """Whether the command-line globs select this file."""
        names = (rel, rel_in_repo)
        if self.include and not any(_matches(n, self.include) for n in names):
            return False
        return not (self.exclude and any(_matches(n, self.exclude) for n in names))

    def excluded_by_policy(self, path: Path, rel: str) -> bool:
        """Whether the policy's `pins.exclude` covers this file."""
        if not self.policy_exclude:
            return False
        names = [rel]
        if self.policy_root is not None:
            with contextlib.suppress(ValueError):
                names.append(path.absolute().relative_to(self.policy_root.resolve()).as_posix())
        return any(_matches(n, self.policy_exclude) for n in names)


def discover(roots: Iterable[Path], base: Path, filters: Filters | None = None) -> Discovery:
    """Walk ``roots``; classify each file relative to its root; report paths relative to base."""
    walk = _Walk(base, filters or Filters())
    for root in roots:
        if root.is_file():
            walk.consider(root, _repo_relative(root, root.parent), relative(root, base))
            continue
        root_rel = relative(root, base)
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            current = Path(directory)
            inner = current.relative_to(root).as_posix()
            kept = []
            for name in sorted(dirnames):
                child = current / name
                if name in SKIP_DIRS:
                    continue
                if child.is_symlink():
                    walk.skip(child, "symbolic link to a directory")
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                rel_in_repo = name if inner == "." else f"{inner}/{name}"
                rel = rel_in_repo if root_rel == "." else f"{root_rel}/{rel_in_repo}"
                walk.consider(current / name, rel_in_repo, rel)
    walk.found.files.sort(key=lambda item: item[1])
    return walk.found


class _Walk:
    """State of one discovery: what was found, skipped and already seen."""

    def __init__(self, base: Path, filters: Filters) -> None:
        self.base = base
        self.filters = filters
        self.found = Discovery()
        self.seen: set[Path] = set()

    def skip(self, path: Path, why: str) -> None:
        """Record that ``path`` was passed over, and why."""
        self.found.skipped.append((relative(path, self.base), why))

    def consider(self, path: Path, rel_in_repo: str, rel: str) -> None:
        """Keep ``path`` if it is wanted, of a known kind, not excluded and not a link."""
        if not self.filters.wanted(rel, rel_in_repo):
            return
        kind = classify(path, rel_in_repo)
        if kind is None:
            return
        if self.filters.excluded_by_policy(path, rel):
            self.skip(path, "excluded by `pins.exclude` in the policy file")
            return
        if path.is_symlink():
            self.skip(path, "symbolic link (not followed)")
            return
        resolved = path.resolve()
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        self.found.files.append((path, rel, kind))


def _repo_relative(path: Path, start: Path) -> str:
    """For a file named directly, find its path below the nearest directory holding `.github`."""
    for parent in [path.parent, *path.parent.parents]:
        if (parent / ".git").exists() or (parent / ".github").is_dir():
            return path.relative_to(parent).as_posix()
    return path.relative_to(start).as_posix()
