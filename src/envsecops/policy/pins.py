"""The `pins:` section of the policy file: pin-check exceptions, each with a reason and expiry."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from envsecops.errors import InputError
from envsecops.policy.source import read_policy
from envsecops.syntax.yaml import (
    MappingNode,
    Node,
    SequenceNode,
    items,
    position,
    scalar,
    sequence,
)

TOP_LEVEL_KEYS = frozenset(
    {
        "version",
        "name",
        "mode",
        "runner",
        "binaries",
        "tool-cache",
        "packages",
        "configs",
        "env",
        "actions",
        "sbom",
        "pins",
        "credentials",
        "ledger",
        "max-attestation-age",
    }
)
PINS_KEYS = frozenset({"exceptions", "exclude"})
EXCEPTION_KEYS = frozenset({"rule", "path", "reference", "reason", "expires"})
EXCEPTION_EXAMPLE = """pins:
  exceptions:
    - rule: unpinned-uses
      path: .github/workflows/release.yml
      reference: pypa/gh-action-pypi-publish@release/v1
      reason: publisher requires its release branch; tracked in #123
      expires: "2027-01-31"
  exclude:
    - tests/fixtures/**   # files pin-check must not read (listed as skipped)"""


@dataclass(frozen=True, slots=True)
class PinException:
    """An accepted finding: rule id, path glob, optional reference glob, reason, expiry date."""

    rule: str
    path: str
    reference: str | None
    reason: str
    expires: date
    line: int

    def matches(self, rule_id: str, path: str, reference: str) -> bool:
        """Whether this exception covers a finding."""
        if rule_id != self.rule or not fnmatch.fnmatchcase(path, self.path):
            return False
        return self.reference is None or fnmatch.fnmatchcase(reference, self.reference)


@dataclass(frozen=True, slots=True)
class PinsPolicy:
    """The parsed `pins:` section."""

    source: str | None
    exceptions: tuple[PinException, ...] = ()
    exclude: tuple[str, ...] = ()
    root: Path | None = None

    def relative(self, path: str, base: Path) -> str:
        """A finding path (relative to ``base``) as seen from the repository owning the policy.

        Exception and exclude globs are written relative to that repository's root, whatever
        directory pin-check was started from.
        """
        if self.root is None:
            return path
        full = (base / path).resolve()
        try:
            return full.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path


def _fail(path: str, node: Node | None, message: str) -> InputError:
    line, column = position(node) if node is not None else (None, None)
    return InputError(message, path=path, line=line, column=column, fix=EXCEPTION_EXAMPLE)


def _check_keys(path: str, node: Node, allowed: frozenset[str], where: str) -> None:
    if not isinstance(node, MappingNode):
        raise _fail(path, node, f"{where} must be a mapping")
    for name, key, _value in items(node):
        if name not in allowed:
            raise _fail(
                path,
                key,
                f"unknown key {name!r} in {where} (allowed: {', '.join(sorted(allowed))})",
            )


def load_pins_policy(file: Path, display: str, known_rules: frozenset[str]) -> PinsPolicy:
    """Load the `pins:` section strictly; any defect is an InputError naming line and column.

    Only the top-level keys and the `pins:` section are checked, so that pin-check works with
    a policy that holds nothing else yet; `envsecops verify` loads the whole file.
    """
    root = read_policy(file, display)
    _check_keys(display, root, TOP_LEVEL_KEYS, "the policy file")
    pins = {name: value for name, _key, value in items(root)}.get("pins")
    repo_root = file.parent.parent if file.parent.name == ".github" else file.parent
    return pins_from_node(pins, display, known_rules, repo_root)


def pins_from_node(
    pins: Node | None,
    display: str,
    known_rules: frozenset[str] | None,
    root: Path | None,
) -> PinsPolicy:
    """The `pins:` section from its composed node (None: the policy has no such section).

    ``known_rules`` None means pin-check's own registry, imported only when an exception
    needs checking; ``root`` is the repository the globs are relative to.
    """
    if pins is None:
        return PinsPolicy(source=display, root=root)
    _check_keys(display, pins, PINS_KEYS, "`pins:`")
    exceptions: list[PinException] = []
    exclude: list[str] = []
    for name, _key, value in items(pins):
        if not isinstance(value, SequenceNode):
            raise _fail(display, value, f"`pins.{name}` must be a list")
        for entry in sequence(value):
            if name == "exceptions":
                if known_rules is None:
                    from envsecops.pins.registry import RULES

                    known_rules = frozenset(RULES)
                exceptions.append(_exception(display, entry, known_rules))
                continue
            glob = scalar(entry)
            if not glob or not glob.strip():
                raise _fail(display, entry, "`pins.exclude` entries must be non-empty path globs")
            exclude.append(glob.strip())
    return PinsPolicy(
        source=display, exceptions=tuple(exceptions), exclude=tuple(exclude), root=root
    )


def _exception(display: str, entry: Node, known_rules: frozenset[str]) -> PinException:
    _check_keys(display, entry, EXCEPTION_KEYS, "a `pins.exceptions` entry")
    fields: dict[str, tuple[str, Node]] = {}
    for name, _key, value in items(entry):
        text = scalar(value)
        if text is None:
            raise _fail(display, value, f"`{name}` must be a string")
        fields[name] = (text.strip(), value)
    for required in ("rule", "path", "reason", "expires"):
        if not fields.get(required, ("", None))[0]:
            raise _fail(display, entry, f"a `pins.exceptions` entry needs a non-empty `{required}`")
    rule, rule_node = fields["rule"]
    if rule not in known_rules:
        raise _fail(display, rule_node, f"unknown rule id {rule!r}")
    expires_text, expires_node = fields["expires"]
    try:
        expires = date.fromisoformat(expires_text)
    except ValueError as exc:
        raise _fail(
            display, expires_node, f"`expires` must be a date like 2027-01-31, not {expires_text!r}"
        ) from exc
    reference = fields.get("reference", ("", entry))[0] or None
    return PinException(
        rule=rule,
        path=fields["path"][0],
        reference=reference,
        reason=fields["reason"][0],
        expires=expires,
        line=position(entry)[0],
    )
