"""Which allowlist entry each bag component needs, or why no policy entry can ever allow it.

`policy init` (:mod:`envsecops.policy.render`) and `policy propose`
(:mod:`envsecops.policy.amend`) share this one classification, so that what a drafted policy
allows and what a proposed amendment adds are the same thing: binaries and configs by absolute
path and digest, tool-cache trees by tool, version and tree digest, packages by purl (without
version) and exact version, risky environment variables by name and value digest, actions by
``owner/repo`` and full commit SHA. Problem statuses, failed catalogers, env-vs-claim
mismatches and tag-pinned actions are *blocked*: no allowlist edit should make them pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envsecops.bag.env import risk_of
from envsecops.model.bag import Component, ComponentKind, Status
from envsecops.policy.load_packages import purl_problem
from envsecops.policy.rules.binaries import UNSAFE_ENTRY_STATES
from envsecops.policy.rules.common import subject

SECTIONS = ("binaries", "tool-cache", "packages", "configs", "env", "actions")
"""The allowlist sections, in the order a policy file lists them."""
PATH_ENTRY = "path-entry"
MISMATCH_PREFIXES = ("env-claim-mismatch:", "env-file-mismatch:")
FAILED_PREFIX = "cataloger-failed:"
FULL_SHA = re.compile(r"[0-9a-f]{40}\Z")
ANY = "any"
"""`env.allowed` value for a variable whose value has no digest (secret-named or HMAC-keyed)."""
WITHHELD = "withheld"
"""`configs` value for a credentials file whose digest attest withheld."""
GOOD = frozenset({Status.OK, Status.DIGEST_ONLY})
MAX_ALIASES = 3


@dataclass(frozen=True, slots=True)
class Entry:
    """One allowlist value a component needs: ``section`` → ``keys`` → ``value``.

    ``keys`` is the key path under the section (``("/usr/bin/git",)``, ``("Python",
    "3.12.7")``, ``("pkg:deb/debian/adduser",)``); ``value`` a digest, an exact version
    (empty: the package has no version), a commit SHA, ``withheld`` or ``any``; ``note`` a
    short remark for a trailing comment; ``pin_findings`` (actions) the unpinned references
    found in the action's own files.
    """

    section: str
    keys: tuple[str, ...]
    value: str
    component: Component
    note: str = ""
    pin_findings: int = 0

    def describe(self) -> str:
        """A human line: ``binary /usr/bin/git sha256:…``."""
        what = {"tool-cache": "toolchain", "binaries": "binary", "configs": "config"}.get(
            self.section, self.section.rstrip("s")
        )
        value = self.value or "(no version)"
        return f"{what} {' '.join(self.keys)} {value}"


@dataclass(frozen=True, slots=True)
class Blocked:
    """A component no allowlist entry can allow, and why (with the reason code it will carry)."""

    component: Component
    code: str
    why: str


def label(component: Component) -> str:
    """The subject the evaluator's reasons give ``component`` (``binary /usr/bin/git``)."""
    return subject(component)


def purl_base(purl: str) -> str:
    """``pkg:TYPE/NAMESPACE/NAME`` of a purl: version, qualifiers and subpath cut off, the rest
    as written (still percent-encoded, as policy patterns must be)."""
    base = purl.split("#", 1)[0].split("?", 1)[0]
    slash, at = base.rfind("/"), base.rfind("@")
    return base[:at] if at > slash else base


def is_risky_env(component: Component) -> bool:
    """Whether the default `env.forbidden` list (attest-runner's risky list) covers a variable."""
    return component.prop("risky") == "true" or risk_of(component.name) is not None


def classify(component: Component, *, any_env: bool = False) -> Entry | Blocked | None:
    """The entry that allows ``component``, why none can, or None when the policy ignores it.

    Environment variables need an entry only when the default forbidden list (the risky
    ones) covers them, unless ``any_env``: a policy's own `env.forbidden` list may name any.
    """
    if component.kind is ComponentKind.RUNNER and component.name.startswith(FAILED_PREFIX):
        error = component.prop("error") or "no detail"
        return Blocked(component, "cataloger.failed", f"the cataloger failed: {error}")
    if component.status not in GOOD:
        detail = component.prop("detail")
        why = component.status.value + (f" ({detail})" if detail else "")
        return Blocked(component, "component.problem", why)
    kind = component.kind
    if kind is ComponentKind.RUNNER:
        if component.name.startswith(MISMATCH_PREFIXES):
            variable = component.prop("variable") or component.name.split(":", 1)[1]
            why = f"${variable} disagrees with the signed claim or the runner image file"
            return Blocked(component, "runner.mismatch", why)
        return None
    if kind is ComponentKind.BINARY:
        return _binary(component)
    if kind is ComponentKind.CONFIG:
        return _config(component)
    if kind is ComponentKind.TOOLCHAIN:
        return _toolchain(component)
    if kind is ComponentKind.PACKAGE:
        return _package(component)
    if kind is ComponentKind.ENV:
        return _env(component, any_env)
    if kind is ComponentKind.ACTION:
        return _action(component)
    return None


def _binary(component: Component) -> Entry | Blocked | None:
    if component.name == PATH_ENTRY:
        state = component.prop("path-entry-state") or "ok"
        if state in UNSAFE_ENTRY_STATES:
            return Blocked(component, "binary.path-entry", f"the PATH entry is {state}")
        return None
    if component.digest is None or not component.path:
        return Blocked(component, "component.problem", "no digest was taken")
    notes = []
    if component.prop("setuid") == "true":
        notes.append("setuid")
    if shadowed := component.prop("shadowed-by"):
        notes.append(f"shadowed by {shadowed}")
    if aliases := component.prop("aliases"):
        names = aliases.split(",")
        more = f" and {len(names) - MAX_ALIASES} more" if len(names) > MAX_ALIASES else ""
        notes.append(f"also reached as {', '.join(names[:MAX_ALIASES])}{more}")
    key = literal_glob(component.path)
    return Entry("binaries", (key,), component.digest, component, "; ".join(notes))


def _config(component: Component) -> Entry | Blocked:
    key = literal_glob(component.name)
    note = component.path if component.path and component.path != component.name else ""
    if component.status is Status.DIGEST_ONLY:
        withheld = "credentials file: attest withheld its digest"
        return Entry("configs", (key,), WITHHELD, component, f"{note}; {withheld}".lstrip("; "))
    if component.digest is None:
        return Blocked(component, "component.problem", "no digest was taken")
    return Entry("configs", (key,), component.digest, component, note)


def _toolchain(component: Component) -> Entry | Blocked:
    if component.digest is None:
        return Blocked(component, "component.problem", "no tree digest was taken")
    tool = literal_glob(component.name)
    if component.prop("layout") == "unexpected" or component.version is None:
        where = component.path or component.name
        note = f"unexpected entry {where}: not a <tool>/<version>/<arch> tree; remove it?"
        return Entry("tool-cache", (tool, "*"), component.digest, component, note)
    arch = component.prop("arch") or ""
    version = literal_glob(component.version)
    return Entry("tool-cache", (tool, version), component.digest, component, arch)


def _package(component: Component) -> Entry | Blocked:
    if not component.purl:
        why = "a package without a purl cannot be matched by `packages.allow`"
        return Blocked(component, "package.unlisted", why)
    base = purl_base(component.purl)
    problem = purl_problem(base)
    if problem is not None:
        why = f"its purl cannot be written as a `packages.allow` pattern ({problem})"
        return Blocked(component, "package.unlisted", why)
    return Entry("packages", (base,), component.version or "", component)


def _env(component: Component, any_env: bool) -> Entry | None:
    if not (any_env or is_risky_env(component)):
        return None
    risk = component.prop("risk") or ("risky" if is_risky_env(component) else "forbidden")
    key = literal_glob(component.name)
    if component.digest is not None:
        return Entry("env", (key,), component.digest, component, risk)
    if component.prop("secret") == "true":
        note = f"{risk}; secret-named variable: recorded without a digest, so any value matches"
    elif component.prop("hmac-sha256"):
        note = f"{risk}; its value digest is keyed (HMAC), so any value matches"
    else:
        note = f"{risk}; no value digest was recorded, so any value matches"
    return Entry("env", (key,), ANY, component, note)


def _action(component: Component) -> Entry | Blocked:
    ref = component.version or ""
    if component.prop("ref-is-sha") == "false" or not FULL_SHA.match(ref):
        if not ref:
            where = component.path or component.name
            return Blocked(component, "action.unlisted", f"not an action download: {where}")
        why = f"referenced by {ref!r}, not a full commit SHA: pin it to a SHA first"
        return Blocked(component, "action.unpinned", why)
    text = component.prop("pin-findings") or "0"
    findings = int(text) if text.isascii() and text.isdigit() else 1
    note = ""
    if findings:
        unpinned = component.prop("unpinned-uses") or component.prop("pin-finding-list") or ""
        what = f"{findings} unpinned reference{'' if findings == 1 else 's'} in its own files"
        note = f"{what}: {unpinned}" if unpinned else what
    return Entry("actions", (literal_glob(component.name),), ref, component, note, findings)


def literal_glob(text: str) -> str:
    """``text`` as a glob that matches only itself (``*``, ``?`` and ``[`` bracketed)."""
    if not any(char in text for char in "*?["):
        return text
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)
