"""Check 4a, the policy itself: read it from a file or the default branch; every failure a reason.

Where it comes from is decided by the CLI (a :class:`PolicyRequest`); the loader and the fetch
are passed in (:class:`PolicyLoaders`), so tests and the policy tooling can substitute them. A
missing file is ``policy.missing``, one that does not load ``policy.invalid`` (the loader's
message names file, line and column), a failed fetch ``policy.fetch`` and an empty allowlist
``policy.empty``; the mode and the age limit are read from whatever did load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from envsecops.errors import UsageError
from envsecops.model.decision import Mode, Reason
from envsecops.verify.attestation import explain

if TYPE_CHECKING:
    from envsecops.policy.model import Policy

SOURCES = ("local", "workspace", "default-branch")
INIT_FIX = (
    "draft one that approves this bag with `envsecops policy init --from bag.json > "
    ".github/envsecops.yml`, review it and merge it into the default branch"
)


class Fetched(Protocol):
    """What the default-branch fetch returns (envsecops.policy.fetch.FetchedPolicy)."""

    @property
    def text(self) -> str:
        """The policy file's text."""

    @property
    def source(self) -> str:
        """``OWNER/REPO@BRANCH:PATH (commit SHA)``."""


@dataclass(frozen=True, slots=True)
class PolicyLoaders:
    """The loader and the fetch; the defaults import the real ones lazily."""

    load_file: Callable[[Path, str], Policy]
    load_text: Callable[[str, str], Policy]
    fetch: Callable[[str, str, str | None, str], Fetched]

    @classmethod
    def default(cls) -> PolicyLoaders:
        """envsecops.policy.load and envsecops.policy.fetch."""

        def load_file(path: Path, display: str) -> Policy:
            from envsecops.policy.load import load_policy_file

            return load_policy_file(path, display)

        def load_text(text: str, display: str) -> Policy:
            from envsecops.policy.load import load_policy_text

            return load_policy_text(text, display)

        def fetch(repository: str, path: str, token: str | None, api_url: str) -> Fetched:
            from envsecops.policy.fetch import fetch_default_branch_policy

            return fetch_default_branch_policy(repository, path, token=token, api_url=api_url)

        return cls(load_file, load_text, fetch)


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """Where to read the policy: a file (local, workspace) or the default branch."""

    source: str  # one of SOURCES; recorded as the decision's policy_source
    display: str  # the path as given, or OWNER/REPO:PATH
    path: Path | None = None  # the file to read (local, workspace)
    repository: str | None = None  # default-branch: OWNER/REPO from the validated claims
    repo_path: str | None = None  # default-branch: the file's path inside the repository
    token: str | None = field(default=None, repr=False)
    api_url: str = "https://api.github.com"
    problem: str | None = None  # why a default-branch fetch cannot even be attempted


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """The policy (None when none loaded), its text, where it came from, and the reasons."""

    policy: Policy | None
    text: str | None
    source: str
    reasons: tuple[Reason, ...]

    @property
    def usable(self) -> bool:
        """Whether the allowlist can be evaluated (loaded and not empty)."""
        return self.policy is not None and not self.reasons


def obtain_policy(request: PolicyRequest, loaders: PolicyLoaders) -> PolicyCheck:
    """Read and load the policy the request names; any failure is a reason, never a raise."""
    subject = f"policy {request.display}"
    if request.source == "default-branch":
        if request.problem is not None or not request.repository or not request.repo_path:
            why = request.problem or "the repository or the policy path is unknown"
            return PolicyCheck(None, None, request.display, (Reason("policy.fetch", subject, why),))
        try:
            fetched = loaders.fetch(
                request.repository, request.repo_path, request.token, request.api_url
            )
        except Exception as exc:  # noqa: BLE001 - a fetch that fails is a deny, with the reason
            message = f"the policy could not be read from the default branch: {explain(exc)}"
            return PolicyCheck(
                None, None, request.display, (Reason("policy.fetch", subject, message),)
            )
        text, source = fetched.text, fetched.source
        load: Callable[[], Policy] = partial(loaders.load_text, text, source)
    else:
        path = request.path
        if path is None or not path.exists():
            message = f"there is no policy file at {request.display} (fix: {INIT_FIX})"
            return PolicyCheck(
                None, None, request.display, (Reason("policy.missing", subject, message),)
            )
        text, source = None, request.display
        load = partial(loaders.load_file, path, request.display)
    try:
        policy = load()
    except Exception as exc:  # noqa: BLE001 - a policy that does not load denies, explained
        if type(exc).__name__ == "PolicyMissingError":  # raced away since the check above
            message = f"there is no policy file at {request.display}: {explain(exc)}"
            return PolicyCheck(None, None, source, (Reason("policy.missing", subject, message),))
        message = f"the policy cannot be loaded: {explain(exc)}"
        return PolicyCheck(
            None, text, source, (Reason("policy.invalid", f"policy {source}", message),)
        )
    if text is None and request.path is not None:
        text = _read_text(request.path)
    reasons: tuple[Reason, ...] = ()
    if policy.empty_allowlist:
        reasons = (
            Reason(
                "policy.empty",
                f"policy {source}",
                "the policy allows nothing (no binaries, tool-cache, packages.allow, configs "
                f"or actions): an empty allowlist is a deny, never allow-all (fix: {INIT_FIX})",
            ),
        )
    return PolicyCheck(policy, text, source, reasons)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def key_line(text: str | None, key: str) -> int | None:
    """The line of a top-level ``key`` in the policy text, or None."""
    if text is None:
        return None
    from envsecops.syntax.yaml import YamlProblem, compose_documents, items, position

    try:
        roots = compose_documents(text)
    except YamlProblem:
        return None
    for root in roots[:1]:
        for name, key_node, _value in items(root):
            if name == key:
                return position(key_node)[0]
    return None


def where(check: PolicyCheck, key: str) -> str:
    """``FILE:LINE`` of a top-level key, or a phrase saying the value is the default."""
    line = key_line(check.text, key)
    if line is not None:
        return f"{check.source}:{line}"
    return f"the default, {check.source} does not set `{key}`"


def effective_mode(check: PolicyCheck, requested: str | None) -> tuple[Mode, str | None]:
    """The decision's mode and a note; ``--mode`` may raise audit to enforce, never lower it.

    Lowering a loaded policy's enforce to audit is a UsageError naming the policy line. With
    no loaded policy the mode is enforce (fail closed) and a requested audit is only noted.
    """
    policy = check.policy
    if policy is None:
        note = None
        if requested == Mode.AUDIT.value:
            note = "--mode audit was not applied: no policy was loaded, so the mode is enforce"
        return Mode.ENFORCE, note
    if requested is None or requested == policy.mode.value:
        return policy.mode, None
    if requested == Mode.ENFORCE.value:
        return (
            Mode.ENFORCE,
            f"--mode enforce raised the policy's audit mode ({where(check, 'mode')})",
        )
    raise UsageError(
        f"--mode audit would lower the policy's enforce mode ({where(check, 'mode')}); --mode "
        "may only make verification stricter (audit -> enforce)",
        fix="drop --mode audit, or change `mode:` in the policy through a reviewed pull request",
    )
