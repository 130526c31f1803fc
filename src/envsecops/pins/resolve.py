"""Resolve an action's `owner/repo` + ref to a commit SHA and the most specific tag naming it.

One verb, :meth:`RefResolver.resolve`. The GitHub implementation asks the REST API through
PyGithub: `git/ref/tags/<ref>` (annotated tag objects are dereferenced to their commit), then
`git/ref/heads/<ref>`, then, for a short hex ref, `commits/<ref>`; it lists the repository's
tags (paginated, bounded) to name a commit by its most specific version tag. Every lookup is
cached, so each owner/repo@ref costs one round of requests per run.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from envsecops.errors import InfraError
from envsecops.gh.api import ApiSettings, GitHubNotFound, api_call, build_client
from envsecops.pins.refs import COMMIT_SHA, PATH_SEPARATORS

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

MAX_TAGS = 1000
MAX_TAG_DEPTH = 4
REPO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, no "..", no "@{",
# no component starting with "." or ending with ".lock", no leading/trailing "/" or "//".
BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|^\.|/\.|\.lock(/|$)|\.$|^@$")
HEX_PREFIX = re.compile(r"[0-9a-fA-F]{7,40}")
VERSION_NAME = re.compile(r"v?(?P<release>\d+(?:\.\d+)*)(?P<suffix>[.+-][0-9A-Za-z.+-]*)?")


class RefKind(StrEnum):
    """What a ref named."""

    TAG = "tag"
    BRANCH = "branch"
    COMMIT = "commit"


@dataclass(frozen=True, slots=True)
class Resolution:
    """``ref`` of ``repo`` is commit ``sha``; ``tag`` is its most specific version tag, if any."""

    repo: str
    ref: str
    sha: str
    kind: RefKind
    tag: str | None = None


class ResolveError(Exception):
    """A ref that names no single commit; a finding, not an infrastructure failure.

    ``missing`` is "repository" when the whole repository is absent or private, else "ref".
    """

    def __init__(self, repo: str, ref: str, message: str, *, missing: str = "ref") -> None:
        super().__init__(message)
        self.repo = repo
        self.ref = ref
        self.message = message
        self.missing = missing


class RefResolver(ABC):
    """Turns `owner/repo` + ref into a commit; implementations cache within a run."""

    @abstractmethod
    def resolve(self, repo: str, ref: str, *, describe: bool = True) -> Resolution:
        """Resolve ``ref``; with ``describe``, also find the most specific version tag.

        Raises ResolveError when the ref names no single commit, InfraError when the service
        cannot answer.
        """


_NAMESPACE = {RefKind.TAG: "tags", RefKind.BRANCH: "heads"}


def _candidates(ref: str) -> list[tuple[RefKind, str]]:
    """Where to look: `refs/tags/x` and `refs/heads/x` name one place; else tag, then branch."""
    for kind, namespace in _NAMESPACE.items():
        prefix = f"refs/{namespace}/"
        if ref.startswith(prefix):
            return [(kind, ref.removeprefix(prefix))]
    return [(RefKind.TAG, ref), (RefKind.BRANCH, ref)]


def _checked(settings: ApiSettings, repo: str, ref: str, sha: object) -> str:
    """A commit SHA from the API, lowercase; anything else is an API failure, not a finding."""
    text = str(sha).lower()
    if not COMMIT_SHA.fullmatch(text):
        raise InfraError(
            f"{settings.service}: `{ref}` of {repo} resolved to {text[:80]!r}, not a commit SHA",
            fix="check that --github-api-url / $GITHUB_API_URL points at a GitHub REST API",
        )
    return text


def repo_of(target: str) -> str:
    """`owner/repo` of a `uses:` target (`owner/repo[/path]`)."""
    return "/".join(PATH_SEPARATORS.split(target, maxsplit=2)[:2])


def version_key(name: str) -> tuple[bool, int, tuple[int, ...], str] | None:
    """Sort key of a version-like tag: final before pre-release, then more parts, then higher."""
    match = VERSION_NAME.fullmatch(name)
    if match is None:
        return None
    release = tuple(int(part) for part in match.group("release").split("."))
    return (not match.group("suffix"), len(release), release, name)


def most_specific_tag(names: list[str]) -> str | None:
    """The most specific version tag among ``names`` (`v4.2.1` over `v4.2` over `v4`)."""
    keyed = [(key, name) for name in names if (key := version_key(name)) is not None]
    return max(keyed)[1] if keyed else None


@dataclass(frozen=True, slots=True)
class _TagListing:
    pairs: tuple[tuple[str, str], ...]
    complete: bool


class GitHubResolver(RefResolver):
    """Resolves through the GitHub REST API with PyGithub; the client is built on first use."""

    def __init__(self, settings: ApiSettings, *, max_tags: int = MAX_TAGS) -> None:
        self.settings = settings
        self.max_tags = max_tags
        self._client: Github | None = None
        self._repos: dict[str, Repository] = {}
        self._refs: dict[tuple[str, str], Resolution | ResolveError] = {}
        self._tags: dict[str, _TagListing] = {}

    def resolve(self, repo: str, ref: str, *, describe: bool = True) -> Resolution:
        """Resolve (cached), then name the commit by its most specific tag when asked."""
        key = (repo.lower(), ref)
        cached = self._refs.get(key)
        if cached is None:
            try:
                cached = self._lookup(repo, ref)
            except ResolveError as exc:
                cached = exc
            self._refs[key] = cached
        if isinstance(cached, ResolveError):
            raise cached
        if not describe:
            return cached
        listing = self._listing(repo)
        names = [name for name, sha in listing.pairs if sha == cached.sha]
        if cached.kind is RefKind.TAG and ref not in names:
            names.append(ref)
        return Resolution(repo, ref, cached.sha, cached.kind, most_specific_tag(names))

    def _repository(self, repo: str) -> Repository:
        key = repo.lower()
        if key not in self._repos:
            if self._client is None:
                self._client = build_client(self.settings)
            self._repos[key] = self._client.get_repo(repo)
        return self._repos[key]

    def _lookup(self, repo: str, ref: str) -> Resolution:
        if not REPO_NAME.fullmatch(repo) or repo.split("/")[1] in {".", ".."}:
            raise ResolveError(repo, ref, f"`{repo}` is not a valid GitHub owner/repository name")
        if not ref or BAD_REF.search(ref):
            raise ResolveError(repo, ref, f"`{ref}` is not a valid git ref name")
        if COMMIT_SHA.fullmatch(ref):
            return Resolution(repo, ref, ref, RefKind.COMMIT)
        repository = self._repository(repo)
        for kind, name in _candidates(ref):
            try:
                with api_call(self.settings, repo, f"the {kind.value} `{name}`"):
                    target = repository.get_git_ref(f"{_NAMESPACE[kind]}/{name}").object
                    object_type, object_sha = target.type, target.sha
            except GitHubNotFound:
                continue
            sha = self._peel(repository, repo, ref, object_type, object_sha)
            return Resolution(repo, ref, sha, kind)
        if HEX_PREFIX.fullmatch(ref):
            return self._short_sha(repository, repo, ref)
        raise self._missing(repository, repo, ref)

    def _peel(self, repository: Repository, repo: str, ref: str, object_type: str, sha: str) -> str:
        """Follow annotated tag objects (possibly nested) down to the commit."""
        for _ in range(MAX_TAG_DEPTH):
            if object_type == "commit":
                return _checked(self.settings, repo, ref, sha)
            if object_type != "tag":
                raise ResolveError(repo, ref, f"`{ref}` points to a {object_type}, not a commit")
            with api_call(self.settings, repo, f"the annotated tag object {sha} of `{ref}`"):
                target = repository.get_git_tag(sha).object
                object_type, sha = target.type, target.sha
        if object_type == "commit":
            return _checked(self.settings, repo, ref, sha)
        raise ResolveError(
            repo, ref, f"`{ref}` is a chain of more than {MAX_TAG_DEPTH} tag objects"
        )

    def _short_sha(self, repository: Repository, repo: str, ref: str) -> Resolution:
        """A short or not-lowercase SHA: resolved when it names one commit, else 404/422."""
        from github.GithubException import GithubException

        try:
            with api_call(self.settings, repo, f"the commit `{ref}`"):
                try:
                    found = repository.get_commit(ref)
                    sha = str(found.raw_data.get("sha", "")).lower()  # fetch: lazy .sha is `ref`
                except GithubException as exc:
                    if exc.status == 422:
                        raise ResolveError(
                            repo,
                            ref,
                            f"the short SHA `{ref}` does not name exactly one commit in {repo} "
                            "(GitHub answered 422: unknown or ambiguous)",
                        ) from exc
                    raise
        except GitHubNotFound as exc:
            raise ResolveError(
                repo, ref, f"{repo} has no tag, branch or commit named `{ref}`"
            ) from exc
        if not sha.startswith(ref.lower()) or not COMMIT_SHA.fullmatch(sha):
            raise ResolveError(
                repo, ref, f"GitHub resolved `{ref}` to {sha!r}, which does not extend it"
            )
        return Resolution(repo, ref, sha, RefKind.COMMIT)

    def _missing(self, repository: Repository, repo: str, ref: str) -> ResolveError:
        """Say whether the repository or only the ref is missing."""
        try:
            with api_call(self.settings, repo, "the repository"):
                _ = repository.raw_data
        except GitHubNotFound:
            hint = "" if self.settings.token else " (set GITHUB_TOKEN if it is private)"
            return ResolveError(
                repo,
                ref,
                f"the repository {repo} does not exist or is private{hint}",
                missing="repository",
            )
        return ResolveError(repo, ref, f"{repo} has no tag or branch named `{ref}`")

    def _listing(self, repo: str) -> _TagListing:
        """The repository's tags (name, peeled commit), first ``max_tags`` only; cached."""
        key = repo.lower()
        listing = self._tags.get(key)
        if listing is not None:
            return listing
        pairs: list[tuple[str, str]] = []
        complete = True
        try:
            with api_call(self.settings, repo, "the list of tags"):
                for tag in self._repository(repo).get_tags():
                    sha = str(tag.commit.sha).lower()
                    if COMMIT_SHA.fullmatch(sha) and isinstance(tag.name, str):
                        pairs.append((tag.name, sha))
                    if len(pairs) >= self.max_tags:
                        complete = False
                        break
        except GitHubNotFound:
            complete = False  # no listing to name the commit by; resolution itself stands
        listing = _TagListing(tuple(pairs), complete)
        self._tags[key] = listing
        for name, sha in pairs:
            self._refs.setdefault((key, name), Resolution(repo, name, sha, RefKind.TAG))
        return listing
