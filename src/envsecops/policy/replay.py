"""`envsecops policy diff`: replay recorded bags under an old and a new policy, list verdict flips.

Every `bag.json` or `*.bag.json` under the folder (recursively, sorted) is parsed once and
judged by both policies. A bag whose verdict flips (allow→deny: the new policy would break
that run; deny→allow: it would let that run through) is listed with the reasons that
appear and disappear; a bag whose verdict stays but whose reasons change is counted and
listed too. Reasons are compared by (code, subject): messages cite policy line numbers,
which move with every edit. A bag that cannot be read is listed, never skipped; a folder
with no bags at all is exit 2, because nothing replayed must not read as "safe to roll out".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envsecops import __version__
from envsecops.errors import EnvsecopsError, InputError
from envsecops.model.decision import Reason, Verdict
from envsecops.policy.model import Policy
from envsecops.policy.outcome import policy_reasons, read_bag, verdict_of
from envsecops.report.pins_text import clean

SCHEMA_ID = "https://envsecops.dev/schemas/policy-diff.v1.json"
"""The JSON report's schema (schemas/policy-diff.v1.json)."""
BAG_NAME = "bag.json"
BAG_SUFFIX = ".bag.json"
SHOWN_PER_BAG = 20
"""Reasons listed per bag in the text report (the JSON report has all of them)."""


@dataclass(frozen=True, slots=True)
class BagChange:
    """A bag judged differently by the two policies."""

    path: str
    env_hash: str
    old_verdict: Verdict
    new_verdict: Verdict
    appeared: tuple[Reason, ...]  # reasons under the new policy only
    disappeared: tuple[Reason, ...]  # reasons under the old policy only

    @property
    def flipped(self) -> bool:
        """Whether the verdict itself changes."""
        return self.old_verdict is not self.new_verdict

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form (report version 1)."""
        return {
            "path": self.path,
            "env_hash": self.env_hash,
            "old_verdict": self.old_verdict.value,
            "new_verdict": self.new_verdict.value,
            "flipped": self.flipped,
            "appeared": [r.to_json() for r in self.appeared],
            "disappeared": [r.to_json() for r in self.disappeared],
        }


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A bag file that could not be replayed, and why."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class PolicyLabel:
    """Which policy a side of the diff is: its id, where it was read from, and its mode."""

    policy_id: str
    source: str
    mode: str

    @classmethod
    def of(cls, policy: Policy) -> PolicyLabel:
        """The label of a loaded policy."""
        return cls(policy.policy_id, policy.source, policy.mode.value)

    def text(self) -> str:
        """`id (source, mode)`."""
        return f"{self.policy_id} ({self.source}, {self.mode})"


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """The replay of every bag found; ``exit_code`` is what `policy diff` exits with."""

    directory: str
    old: PolicyLabel
    new: PolicyLabel
    replayed: int
    changes: tuple[BagChange, ...]
    unreadable: tuple[Unreadable, ...]

    @property
    def flips(self) -> tuple[BagChange, ...]:
        """The bags whose verdict flips."""
        return tuple(c for c in self.changes if c.flipped)

    @property
    def reason_changes(self) -> tuple[BagChange, ...]:
        """The bags whose verdict stays but whose reasons change."""
        return tuple(c for c in self.changes if not c.flipped)

    def flip_count(self, old: Verdict, new: Verdict) -> int:
        """How many bags flip from ``old`` to ``new``."""
        return sum(1 for c in self.flips if (c.old_verdict, c.new_verdict) == (old, new))

    @property
    def exit_code(self) -> int:
        """2 when a bag was unreadable or none was found, 1 when a verdict flips, else 0."""
        if self.unreadable or not self.replayed:
            return 2
        return 1 if self.flips else 0

    def summary(self) -> str:
        """The last line of the text report."""
        if not self.replayed and not self.unreadable:
            return (
                f"policy diff: no bags ({BAG_NAME}, *{BAG_SUFFIX}) under {self.directory}: "
                "nothing was replayed, so nothing is known about this change"
            )
        deny, allow = Verdict.DENY, Verdict.ALLOW
        unchanged = self.replayed - len(self.changes)
        return (
            f"policy diff: {_count(self.replayed, 'bag')} replayed: "
            f"{_count(len(self.flips), 'flip')} "
            f"({self.flip_count(allow, deny)} allow→deny, {self.flip_count(deny, allow)} "
            f"deny→allow), {len(self.reason_changes)} with changed reasons only, "
            f"{unchanged} unchanged; {len(self.unreadable)} unreadable"
        )

    def render_text(self) -> str:
        """The policies, every flip and reason change with its reasons, unreadable bags, totals."""
        lines = [f"old: {clean(self.old.text())}", f"new: {clean(self.new.text())}"]
        if self.old.policy_id == self.new.policy_id:
            lines.append("note: both policies are the same document (same policy_id)")
        if self.old.mode != self.new.mode:
            lines.append(f"note: the mode changes from {self.old.mode} to {self.new.mode}")
        for change in self.flips + self.reason_changes:
            if change.flipped:
                head = f"FLIP {change.old_verdict} → {change.new_verdict}"
            else:
                head = f"REASONS (verdict stays {change.new_verdict})"
            lines.append(f"{head}  {clean(change.path)}  {change.env_hash}")
            shown = [("+", r) for r in change.appeared] + [("-", r) for r in change.disappeared]
            for sign, reason in shown[:SHOWN_PER_BAG]:
                lines.append(
                    f"    {sign} {clean(reason.code)} {clean(reason.subject)}: "
                    f"{clean(reason.message)}"
                )
            if len(shown) > SHOWN_PER_BAG:
                lines.append(f"    … and {len(shown) - SHOWN_PER_BAG} more (see --format json)")
        lines.extend(
            f"UNREADABLE  {clean(u.path)}: {clean(line)}"
            for u in self.unreadable
            for line in u.error.splitlines()[:1]
        )
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report for CI, as schemas/policy-diff.v1.json describes it."""
        deny, allow = Verdict.DENY, Verdict.ALLOW
        return {
            "$schema": SCHEMA_ID,
            "version": "1",
            "tool": {"name": "envsecops", "version": __version__},
            "directory": self.directory,
            "old": {
                "policy_id": self.old.policy_id,
                "source": self.old.source,
                "mode": self.old.mode,
            },
            "new": {
                "policy_id": self.new.policy_id,
                "source": self.new.source,
                "mode": self.new.mode,
            },
            "summary": {
                "replayed": self.replayed,
                "flips": len(self.flips),
                "allow_to_deny": self.flip_count(allow, deny),
                "deny_to_allow": self.flip_count(deny, allow),
                "reasons_changed": len(self.reason_changes),
                "unchanged": self.replayed - len(self.changes),
                "unreadable": len(self.unreadable),
            },
            "exit_code": self.exit_code,
            "changes": [c.to_json() for c in self.changes],
            "unreadable": [{"path": u.path, "error": u.error} for u in self.unreadable],
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def find_bags(directory: Path) -> list[Path]:
    """Every `bag.json` and `*.bag.json` under ``directory``, sorted (symlinked folders are
    not followed); a file given as ``directory`` is the one bag."""
    if directory.is_file():
        return [directory]
    found: list[Path] = []
    for folder, dirs, names in os.walk(directory):
        dirs.sort()
        found.extend(Path(folder) / n for n in names if n == BAG_NAME or n.endswith(BAG_SUFFIX))
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def _key(reason: Reason) -> tuple[str, str]:
    return reason.code, reason.subject


def compare_reasons(
    old: tuple[Reason, ...], new: tuple[Reason, ...]
) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """(reasons only under ``new``, reasons only under ``old``), compared by (code, subject)."""
    old_keys, new_keys = {_key(r) for r in old}, {_key(r) for r in new}
    return (
        tuple(r for r in new if _key(r) not in old_keys),
        tuple(r for r in old if _key(r) not in new_keys),
    )


def replay(old: Policy, new: Policy, bags: Path) -> ReplayReport:
    """Judge every bag under ``bags`` (or that one bag file) by both policies; report what
    the change would change."""
    if not bags.exists():
        raise InputError(
            "there is no such folder of recorded bags",
            path=str(bags),
            fix="download the bag.json files of recent runs (the attest step's output) into "
            "one folder and pass it with --bags",
        )
    changes: list[BagChange] = []
    unreadable: list[Unreadable] = []
    replayed = 0
    for file in find_bags(bags):
        display = os.path.normpath(file)
        try:
            bag = read_bag(file, display)
        except EnvsecopsError as exc:
            unreadable.append(Unreadable(display, exc.message))
            continue
        replayed += 1
        before, after = policy_reasons(old, bag), policy_reasons(new, bag)
        appeared, disappeared = compare_reasons(before, after)
        if appeared or disappeared:
            changes.append(
                BagChange(
                    path=display,
                    env_hash=bag.env_hash,
                    old_verdict=verdict_of(before),
                    new_verdict=verdict_of(after),
                    appeared=appeared,
                    disappeared=disappeared,
                )
            )
    return ReplayReport(
        directory=str(bags),
        old=PolicyLabel.of(old),
        new=PolicyLabel.of(new),
        replayed=replayed,
        changes=tuple(changes),
        unreadable=tuple(unreadable),
    )
