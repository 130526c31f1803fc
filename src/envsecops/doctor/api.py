"""The doctor's GitHub reads: one GET through PyGithub, and a refusal kept as a value.

Every request runs under :func:`~envsecops.policy.remote_call.github_call`, so an unreachable
service, a 5xx after PyGithub's bounded retries, a rate limit, a refused token (401) or an
answer of the wrong shape raises InfraError (exit 3) exactly as the policy fetch does. Only a
403 or a 404 for one resource, which GitHub gives a token without the permission, comes back
as :class:`Refused`, so that the check it belongs to reads "cannot check", never "pass".
Endpoints PyGithub has no method for go through its ``requester.requestJsonAndCheck``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from envsecops.errors import InfraError, InputError
from envsecops.policy.remote import read_file
from envsecops.policy.remote_call import TOKEN_ENV_HINT, github_call, refused_status

if TYPE_CHECKING:
    from github import Github

    from envsecops.gh.api import ApiSettings

MAX_PAGES = 20
PER_PAGE = 100
ADVICE_FOR_APP = (
    "the workflow's GITHUB_TOKEN cannot be granted it: use a GitHub App installation token "
    "or a fine-grained personal access token"
)


@dataclass(frozen=True, slots=True)
class Permission:
    """What a token needs to read one setting, in each kind of token's words."""

    fine_grained: str
    classic: str
    workflow: str | None = None  # the `permissions:` entry of a GITHUB_TOKEN, when one can

    def fix(self, anonymous: bool) -> str:
        """How to give a token this permission."""
        text = (
            f"use a token with the {self.fine_grained} permission (a classic token: {self.classic})"
        )
        text += (
            f"; in a workflow, `permissions: {{{self.workflow}}}`"
            if self.workflow
            else f"; {ADVICE_FOR_APP}"
        )
        if anonymous:
            text = f"no token was given: set {TOKEN_ENV_HINT}; " + text
        return text + f", in {TOKEN_ENV_HINT}"


REPO_ADMIN = Permission('"Administration" repository (read)', "`repo` scope")
ORG_ADMIN = Permission('"Administration" organization (read)', "`admin:org` scope")
ORG_READ = Permission('"Administration" organization (read)', "`read:org` scope")
REPO_ACTIONS = Permission('"Actions" repository (read)', "`repo` scope", "actions: read")
METADATA = Permission('"Metadata" repository (read)', "`repo` scope", "contents: read")
CONTENTS = Permission('"Contents" repository (read)', "`repo` scope", "contents: read")


@dataclass(frozen=True, slots=True)
class Refused:
    """GitHub's 403 or 404 for one resource: its status, message and the permission it names."""

    status: int
    message: str
    accepted: str | None

    def why(self, route: str) -> str:
        """GitHub's own words, for the detail column."""
        text = f"GitHub answered HTTP {self.status} {self.message or ''}".rstrip()
        text += f" to {route}"
        if self.status == 404:
            text += " (GitHub answers 404 as well to a token that may not see the resource)"
        if self.accepted:
            text += f"; it accepts a token with {self.accepted}"
        return text


@dataclass(frozen=True, slots=True)
class Read:
    """The answer to one request: ``data`` when it was read, else ``refused``."""

    route: str
    data: Any = None
    refused: Refused | None = None


def path_part(value: str) -> str:
    """One URL path segment (a branch name may hold `/`)."""
    return quote(value, safe="")


class DoctorApi:
    """The reads the checks make, against one PyGithub client."""

    def __init__(self, settings: ApiSettings, client: Github) -> None:
        self.settings = settings
        self.client = client

    @property
    def anonymous(self) -> bool:
        """No token: every refusal's fix starts by asking for one."""
        return self.settings.token is None

    def get(self, path: str, what: str, query: dict[str, str] | None = None) -> Read:
        """``GET path``: the JSON answer, or the refusal of a token that may not read it."""
        route = f"GET {path}" + (f"?{urlencode(query)}" if query else "")
        try:
            with github_call(self.settings, _scope(path), what, needs="contents: read"):
                _, data = self.client.requester.requestJsonAndCheck("GET", path, parameters=query)
        except InfraError as exc:
            return Read(route, refused=_refusal(exc))
        return Read(route, data=data)

    def pages(self, path: str, what: str, query: dict[str, str] | None = None) -> Read:
        """Every page of a listing (``per_page=100``), concatenated; refused on any page."""
        items: list[Any] = []
        first = ""
        for page in range(1, MAX_PAGES + 1):
            read = self.get(
                path, what, {**(query or {}), "per_page": str(PER_PAGE), "page": str(page)}
            )
            first = first or read.route
            if read.refused is not None:
                return Read(read.route, refused=read.refused)
            if not isinstance(read.data, list):
                raise InfraError(
                    f"{self.settings.service}: {what}: the answer to {read.route} is not a list",
                    fix="check that $GITHUB_API_URL points at a GitHub REST API",
                )
            items.extend(read.data)
            if len(read.data) < PER_PAGE:
                return Read(first, data=items)
        raise InfraError(
            f"{self.settings.service}: {what}: more than {MAX_PAGES * PER_PAGE} entries",
            fix="narrow the check to one repository with --repo",
        )

    def repository(self, name: str) -> Read:
        """``GET /repos/OWNER/NAME`` through PyGithub's Repository."""
        route = f"GET /repos/{name}"
        try:
            with github_call(self.settings, name, "the repository", needs="contents: read"):
                data: Any = self.client.get_repo(name).raw_data
        except InfraError as exc:
            return Read(route, refused=_refusal(exc))
        return Read(route, data=data)

    def file(self, name: str, path: str, ref: str) -> Read:
        """A regular file's bytes at ``ref`` (data None: no such file); refused without access."""
        route = f"GET /repos/{name}/contents/{path}?ref={ref}"
        handle = self.client.get_repo(name)
        try:
            found = read_file(
                self.settings,
                handle,
                name,
                path,
                ref,
                where=f"{name}@{ref}:{path}",
                needs="contents: read",
            )
        except InputError as exc:  # a directory, a link, over 1 MB: GitHub would not use it either
            raise InfraError(exc.message, fix=exc.fix) from exc
        except InfraError as exc:
            return Read(route, refused=_refusal(exc))
        return Read(route, data=None if found is None else found.data)


def _scope(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(parts[1:3]) if parts[0] == "repos" else (parts[1] if len(parts) > 1 else path)


def _refusal(exc: InfraError) -> Refused:
    status = refused_status(exc)
    if status is None:
        raise exc
    cause: Any = exc.__cause__
    data = getattr(cause, "data", None)
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    headers = {str(k).lower(): str(v) for k, v in (getattr(cause, "headers", None) or {}).items()}
    return Refused(status, message[:200], headers.get("x-accepted-github-permissions"))
