"""Open the pull request that proposes a new policy text, idempotently, through the GitHub API.

The default branch's head commit is the base; the file there is read first (a text equal to it
proposes nothing). The branch `envsecops/policy-<12 hex of the text's SHA-256>` is created at
that commit (GitHub's 422 "Reference already exists" means a run before us got that far), the
file is committed on it unless it already holds the text, and the open pull request from it is
returned, or one is opened. Running it twice opens one branch, one commit and one pull request.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from envsecops.errors import InfraError, InputError
from envsecops.gh.api import ApiSettings, build_client
from envsecops.pins.resolve import BAD_REF
from envsecops.policy.remote import (
    MAX_POLICY_BYTES,
    RemoteFile,
    branch_head,
    default_branch,
    read_file,
    repository_name,
    repository_path,
    settings_for,
)
from envsecops.policy.remote_call import SHAPE_FIX, github_call

if TYPE_CHECKING:
    from github.GithubException import GithubException
    from github.Repository import Repository

WRITE = "contents: write, pull-requests: write"
BRANCH_PREFIX = "envsecops/policy-"


def proposal_branch(new_text: str) -> str:
    """The branch a proposal of ``new_text`` goes to: `envsecops/policy-` + 12 hex of SHA-256."""
    return BRANCH_PREFIX + hashlib.sha256(new_text.encode("utf-8")).hexdigest()[:12]


def _checked_branch(name: str) -> str:
    if not name or len(name) > 200 or BAD_REF.search(name) or name.startswith("refs/"):
        raise InputError(
            f"{name!r} is not a usable branch name",
            fix="name the branch like `envsecops/policy-update` (no spaces, `..`, `~^:?*[\\`)",
        )
    return name


def _encoded(new_text: str) -> bytes:
    try:
        data = new_text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"the proposed policy holds a character UTF-8 cannot encode at offset {exc.start}",
            fix="remove the unpaired surrogate from the text",
        ) from exc
    if len(data) > MAX_POLICY_BYTES:
        raise InputError(
            f"the proposed policy is {len(data):,} bytes; envsecops reads a policy only up to "
            f"{MAX_POLICY_BYTES:,} bytes, so it could never use this one",
            fix="shrink the policy: list each digest once and use globs",
        )
    return data


def open_policy_pull_request(
    repository: str,
    path: str,
    new_text: str,
    *,
    title: str,
    body: str,
    token: str | None,
    api_url: str,
    branch: str | None = None,
) -> str:
    """The html_url of the open pull request proposing ``new_text`` at ``path``.

    Raises InputError (bad names, nothing to propose, not a regular file), UsageError (an
    unusable API URL) or InfraError (the service, or a token without the grants: the fix names
    `permissions: {contents: write, pull-requests: write}`).
    """
    settings = settings_for(api_url, token)
    repo = repository_name(repository)
    rel = repository_path(path)
    data = _encoded(new_text)
    head = _checked_branch(branch or proposal_branch(new_text))
    if not title.strip():
        raise InputError("the pull request has an empty title", fix="give it a title")
    handle = build_client(settings).get_repo(repo)
    base = default_branch(settings, handle, repo, needs=WRITE)
    if head == base:
        raise InputError(
            f"the proposal branch {head} is the default branch of {repo}",
            fix="propose from another branch, e.g. the default `envsecops/policy-…`",
        )
    base_sha = branch_head(
        settings,
        handle,
        repo,
        base,
        needs=WRITE,
        empty_fix=f"push a first commit to {base}, then propose the policy",
    )
    where = f"{repo}@{base}:{rel} ({base_sha})"
    current = read_file(settings, handle, repo, rel, base_sha, where=where, needs=WRITE)
    if current is not None and current.data == data:
        raise InputError(
            f"{where} already is the proposed text: there is nothing to propose",
            fix="nothing to do; the policy on the default branch already allows this",
        )
    if not _create_branch(settings, handle, repo, head, base_sha):
        on_branch = f"{repo}@{head}:{rel}"
        current = read_file(settings, handle, repo, rel, head, where=on_branch, needs=WRITE)
    if current is None or current.data != data:
        _commit(settings, handle, repo, rel, head, title, data, current)
    return _open_pull(settings, handle, repo, head, base) or _create_pull(
        settings, handle, repo, head, base, title, body
    )


def _message(exc: GithubException) -> str:
    data: Any = exc.data
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message", ""))]
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return ": ".join(part for part in parts if part)


def _create_branch(
    settings: ApiSettings, handle: Repository, repo: str, head: str, base_sha: str
) -> bool:
    """Create ``head`` at ``base_sha``; False when it already exists."""
    from github.GithubException import GithubException

    with github_call(settings, repo, f"creating the branch {head}", needs=WRITE):
        try:
            handle.create_git_ref(f"refs/heads/{head}", base_sha)
        except GithubException as exc:
            if exc.status == 422 and "already exists" in _message(exc).lower():
                return False
            raise
    return True


def _commit(
    settings: ApiSettings,
    handle: Repository,
    repo: str,
    path: str,
    head: str,
    message: str,
    data: bytes,
    current: RemoteFile | None,
) -> None:
    """Commit ``data`` at ``path`` on ``head``, replacing the blob ``current`` names."""
    with github_call(settings, repo, f"committing {path} on {head}", needs=WRITE):
        if current is None:
            handle.create_file(path, message, data, branch=head)
        else:
            handle.update_file(path, message, data, current.blob, branch=head)


def _url(settings: ApiSettings, repo: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InfraError(
            f"{settings.service}: a pull request of {repo} came without an html_url "
            f"({str(value)[:80]!r})",
            fix=SHAPE_FIX,
        )
    return value


def _open_pull(
    settings: ApiSettings, handle: Repository, repo: str, head: str, base: str
) -> str | None:
    """The URL of the open pull request from ``head`` into ``base``, if there is one."""
    owner = repo.split("/", maxsplit=1)[0]
    with github_call(settings, repo, f"the open pull requests from {head}", needs=WRITE):
        for pull in handle.get_pulls(state="open", head=f"{owner}:{head}", base=base):
            return _url(settings, repo, pull.html_url)
    return None


def _create_pull(
    settings: ApiSettings,
    handle: Repository,
    repo: str,
    head: str,
    base: str,
    title: str,
    body: str,
) -> str:
    """Open the pull request from ``head`` into ``base``."""
    from github.GithubException import GithubException

    what = f"opening the pull request from {head} into {base}"
    with github_call(settings, repo, what, needs=WRITE):
        try:
            pull = handle.create_pull(base=base, head=head, title=title, body=body)
        except GithubException as exc:
            if exc.status == 422:
                raise InfraError(
                    f"{settings.service}: {what} in {repo}: HTTP 422 {_message(exc)}",
                    fix="run it again: a pull request opened meanwhile is found and returned",
                ) from exc
            raise
        return _url(settings, repo, pull.html_url)
