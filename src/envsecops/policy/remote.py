"""The GitHub reads that fetching and proposing a policy share: names, the default branch, files.

Names are checked before any request is built from them. Every call runs under
:func:`~envsecops.policy.remote_call.github_call`. A file is read with the contents API and
kept only when it is a regular file at that very path, inline (≤ 1 MB), base64 that decodes to
exactly ``size`` bytes whose git blob id is the ``sha`` GitHub gave.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envsecops.errors import InfraError, InputError
from envsecops.gh.api import ApiSettings, GitHubNotFound, api_settings
from envsecops.pins.refs import COMMIT_SHA
from envsecops.pins.resolve import BAD_REF, REPO_NAME
from envsecops.policy.remote_call import SHAPE_FIX, TOKEN_ENV_HINT, github_call, permission_fix

if TYPE_CHECKING:
    from github.Repository import Repository

MAX_POLICY_BYTES = 1024 * 1024
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A regular file read through the contents API at ``ref``; ``blob`` is its git blob id."""

    path: str
    data: bytes
    blob: str
    ref: str


def settings_for(api_url: str, token: str | None) -> ApiSettings:
    """The API settings for ``api_url`` (https, or http on loopback only) and ``token``.

    Raises UsageError for an unusable URL, InputError for a token no HTTP header can carry
    (never echoing it).
    """
    checked = api_settings(api_url, {})
    value = (token or "").strip()
    if value and not _HEADER_SAFE.fullmatch(value):
        raise InputError(
            f"the GitHub token in {TOKEN_ENV_HINT} holds spaces, line breaks or non-ASCII "
            "characters, which no HTTP header can carry (the token itself is not shown)",
            fix=f"set {TOKEN_ENV_HINT} to the token alone, e.g. `${{{{ github.token }}}}`",
        )
    return ApiSettings(checked.base_url, value or None)


def repository_name(name: str) -> str:
    """``OWNER/REPO`` checked before any request is built from it."""
    if not REPO_NAME.fullmatch(name) or name.split("/")[1] in {".", ".."}:
        raise InputError(
            f"{name!r} is not a GitHub OWNER/REPO name",
            fix="pass the repository as OWNER/REPO, e.g. --repository octo-org/payments",
        )
    return name


def repository_path(path: str) -> str:
    """A file path inside the repository, normalized: relative, `/`-separated, no `..`.

    `./` and doubled slashes are dropped; absolute paths, `..`, backslashes and control
    characters are refused before any request is built from them.
    """
    parts = [part for part in path.split("/") if part not in {"", "."}]
    bad = (
        path.startswith("/")
        or ".." in parts
        or any(ord(char) < 0x20 or char in "\\\x7f" for char in path)
    )
    if bad or not parts:
        raise InputError(
            f"{path!r} is not a path inside the repository",
            fix="give the policy path relative to the repository root, e.g. .github/envsecops.yml",
        )
    return "/".join(parts)


def default_branch(settings: ApiSettings, handle: Repository, repo: str, *, needs: str) -> str:
    """The repository's default branch; a 404 means it is absent or hidden from the token."""
    try:
        with github_call(settings, repo, "the repository's default branch", needs=needs):
            data: Any = handle.raw_data
    except GitHubNotFound as exc:
        raise InfraError(
            f"{settings.service}: the repository {repo} was not found (HTTP 404): it does not "
            "exist, or the token cannot see it",
            fix=permission_fix(needs, settings),
        ) from exc
    branch = data.get("default_branch") if isinstance(data, Mapping) else None
    if not isinstance(branch, str) or not branch or BAD_REF.search(branch):
        raise InfraError(
            f"{settings.service}: the repository {repo} answered without a usable "
            f"default_branch ({str(branch)[:80]!r})",
            fix=SHAPE_FIX,
        )
    return branch


def branch_head(
    settings: ApiSettings,
    handle: Repository,
    repo: str,
    branch: str,
    *,
    needs: str,
    empty_fix: str,
) -> str:
    """The commit SHA at the head of ``branch`` (`git/ref/heads/BRANCH`)."""
    from github.GithubException import GithubException

    what = f"the head of the branch {branch}"
    try:
        with github_call(settings, repo, what, needs=needs):
            try:
                data: Any = handle.get_git_ref(f"heads/{branch}").raw_data
            except GithubException as exc:
                if exc.status == 409:  # "Git Repository is empty."
                    raise InputError(
                        f"the repository {repo} is empty: {branch} has no commit", fix=empty_fix
                    ) from exc
                raise
    except GitHubNotFound as exc:
        raise InfraError(
            f"{settings.service}: the branch {branch} of {repo} was not found (HTTP 404)",
            fix=permission_fix(needs, settings),
        ) from exc
    target = data.get("object") if isinstance(data, Mapping) else None
    kind = target.get("type") if isinstance(target, Mapping) else None
    sha = str(target.get("sha", "")).lower() if isinstance(target, Mapping) else ""
    if kind != "commit" or not COMMIT_SHA.fullmatch(sha):
        raise InfraError(
            f"{settings.service}: {what} in {repo} is {str(kind)[:20]!r} {sha[:80]!r}, "
            "not a commit SHA",
            fix=SHAPE_FIX,
        )
    return sha


def read_file(
    settings: ApiSettings,
    handle: Repository,
    repo: str,
    path: str,
    ref: str,
    *,
    where: str,
    needs: str,
) -> RemoteFile | None:
    """The regular file at ``path`` as of ``ref``; None when there is none (404)."""
    try:
        with github_call(settings, repo, f"the file {path} at {ref}", needs=needs):
            found = handle.get_contents(path, ref=ref)
            data: Any = None if isinstance(found, list) else found.raw_data
    except GitHubNotFound:
        return None
    if data is None:
        raise InputError(
            f"{where} is a directory, not a file",
            fix=f"name the policy file itself, e.g. {path.rstrip('/')}/envsecops.yml",
        )
    if not isinstance(data, Mapping):
        raise InfraError(f"{where}: the contents API answered {type(data).__name__}", fix=SHAPE_FIX)
    return RemoteFile(path, _file_bytes(where, path, data), str(data.get("sha")), ref)


def _not_a_file(where: str, path: str, data: Mapping[str, Any]) -> InputError | None:
    kind = data.get("type")
    keep = f"commit the policy itself as a regular file at {path}"
    if kind == "symlink":
        target = str(data.get("target"))[:200]
        return InputError(f"{where} is a symbolic link to {target!r}, not a file", fix=keep)
    if kind == "submodule":
        url = str(data.get("submodule_git_url"))[:200]
        return InputError(f"{where} is a git submodule ({url}), not a file", fix=keep)
    if kind == "file" and data.get("path") != path:
        other = str(data.get("path"))[:200]
        return InputError(f"{where} is a symbolic link to {other!r}, not a file", fix=keep)
    return None


def _file_bytes(where: str, path: str, data: Mapping[str, Any]) -> bytes:
    refused = _not_a_file(where, path, data)
    if refused is not None:
        raise refused
    size, encoding, content = data.get("size"), data.get("encoding"), data.get("content")
    if data.get("type") != "file" or not isinstance(size, int) or isinstance(size, bool):
        raise InfraError(
            f"{where}: the contents API answered type {str(data.get('type'))[:20]!r}, "
            f"size {str(size)[:20]!r}",
            fix=SHAPE_FIX,
        )
    if size > MAX_POLICY_BYTES or encoding == "none":
        raise InputError(
            f"{where} is {size:,} bytes; the GitHub contents API returns a file inline only up "
            f"to 1 MB, and envsecops refuses a policy over {MAX_POLICY_BYTES:,} bytes",
            fix="shrink the policy: list each digest once, use globs (`my-org/*: any-sha`) "
            "and drop entries no bag needs",
        )
    if encoding != "base64" or not isinstance(content, str):
        raise InfraError(
            f"{where}: the content is encoded as {str(encoding)[:20]!r}, not base64", fix=SHAPE_FIX
        )
    try:
        raw = base64.b64decode(content.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InfraError(
            f"{where}: the content is not valid base64 ({exc})", fix=SHAPE_FIX
        ) from exc
    blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()  # noqa: S324 - git's object id
    if len(raw) != size or blob != data.get("sha"):
        raise InfraError(
            f"{where}: the content ({len(raw)} bytes, blob {blob[:12]}) is not the file GitHub "
            f"described ({size} bytes, blob {str(data.get('sha'))[:12]})",
            fix="retry; if it persists, something between this job and the API alters answers",
        )
    return raw
