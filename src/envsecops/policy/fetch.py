"""Read the policy from the repository's default branch through the GitHub API, never the workspace.

A pull request can rewrite the workspace copy of its own gate; it cannot rewrite the default
branch. So in Actions the policy is the file at the head commit of the default branch: the
repository's ``default_branch``, that branch's head commit, then the file's contents *at that
commit*, so that the text and the commit recorded in ``source`` are one. Every failure is an
InfraError (the service: unreachable, 5xx, rate limit, a token without access, an answer that
does not hold together) or an InputError (no policy there, not a regular file, too large, not
UTF-8); verify turns either into a `policy.fetch` deny.
"""

from __future__ import annotations

from dataclasses import dataclass

from envsecops.errors import EnvsecopsError, InfraError, InputError
from envsecops.gh.api import DEFAULT_API_URL, build_client
from envsecops.policy.remote import (
    branch_head,
    default_branch,
    read_file,
    repository_name,
    repository_path,
    settings_for,
)

READ = "contents: read"
INIT = "`envsecops policy init --from bag.json > .github/envsecops.yml`"


@dataclass(frozen=True, slots=True)
class FetchedPolicy:
    """The policy text and where it came from: ``OWNER/REPO@BRANCH:PATH (commit SHA)``."""

    text: str
    source: str


def _merge_fix(branch: str, path: str) -> str:
    return (
        f"merge a policy into {branch} first: {INIT}, commit {path} and merge it "
        f"(if it is there, the job's token lacks `permissions: {{{READ}}}`, which GitHub "
        "answers with the same 404)"
    )


def fetch_default_branch_policy(
    repository: str, path: str, *, token: str | None, api_url: str = DEFAULT_API_URL
) -> FetchedPolicy:
    """The policy file ``path`` at the head commit of ``repository``'s default branch.

    Raises InfraError or InputError, with the fix; never anything else.
    """
    try:
        return _fetch(repository, path, token=token, api_url=api_url)
    except (InfraError, InputError):
        raise
    except EnvsecopsError as exc:  # an unusable API URL: the service cannot be asked
        raise InfraError(exc.message, fix=exc.fix) from exc
    except Exception as exc:  # a fetch that failed oddly still denies, explained
        raise InfraError(
            f"reading {path} of {repository} from {api_url} failed unexpectedly "
            f"({type(exc).__name__}: {str(exc)[:300]})",
            fix="retry; if it persists, report it with this message",
        ) from exc


def _fetch(repository: str, path: str, *, token: str | None, api_url: str) -> FetchedPolicy:
    settings = settings_for(api_url, token)
    repo = repository_name(repository)
    rel = repository_path(path)
    handle = build_client(settings).get_repo(repo)
    branch = default_branch(settings, handle, repo, needs=READ)
    sha = branch_head(settings, handle, repo, branch, needs=READ, empty_fix=_merge_fix(branch, rel))
    source = f"{repo}@{branch}:{rel} ({sha})"
    found = read_file(settings, handle, repo, rel, sha, where=source, needs=READ)
    if found is None:
        raise InputError(
            f"{source}: there is no policy on the default branch {branch}",
            fix=_merge_fix(branch, rel),
        )
    try:
        text = found.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: byte {exc.start} is not UTF-8 (0x{found.data[exc.start]:02x})",
            fix="save the policy as UTF-8 and merge it",
        ) from exc
    return FetchedPolicy(text=text, source=source)
