"""`envsecops policy test`: run every policy test case under a folder and report pass/fail.

Case files are every `*.yml`/`*.yaml` under the folder (sorted; one case per YAML
document; the format is in :mod:`envsecops.policy.testing_case`). A case that cannot be
loaded — bad YAML, an unknown key, no policy to judge it by, a bag.json that does not
parse — is an error for that case, never a crash and never a pass. Files that are the
policy under test, or that a case names as its policy, are not read as cases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from envsecops import __version__
from envsecops.errors import EnvsecopsError, InputError
from envsecops.model.bag import Bag
from envsecops.model.decision import Reason, Verdict
from envsecops.policy.load import load_policy_file
from envsecops.policy.model import Policy
from envsecops.policy.outcome import policy_reasons, read_bag, verdict_of
from envsecops.policy.testing_case import (
    CaseError,
    Expectation,
    ExpectedReason,
    PolicyCase,
    parse_case_file,
)
from envsecops.report.pins_text import clean

T = TypeVar("T")
SCHEMA_ID = "https://envsecops.dev/schemas/policy-test.v1.json"
"""The JSON report's schema (schemas/policy-test.v1.json)."""
CASE_SUFFIXES = (".yml", ".yaml")
SHOWN_PER_CASE = 20
"""Reasons listed per failing case in the text report (the JSON report has all of them)."""


class Outcome(StrEnum):
    """How one case ended."""

    PASSED = "pass"
    FAILED = "fail"
    ERROR = "error"  # the case could not be loaded or run


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's result: what was expected, what the policy said, and what differed."""

    name: str
    location: str
    outcome: Outcome
    expected: Expectation | None = None
    verdict: Verdict | None = None
    reasons: tuple[Reason, ...] = ()
    missing: tuple[ExpectedReason, ...] = ()
    unexpected: tuple[Reason, ...] = ()
    policy_id: str | None = None
    error: str | None = None
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form (report version 1)."""
        out: dict[str, Any] = {
            "name": self.name,
            "location": self.location,
            "outcome": self.outcome.value,
        }
        if self.expected is not None:
            out["expected"] = {
                "verdict": self.expected.verdict.value,
                "reasons": [_expected_json(e) for e in self.expected.reasons],
                "exact": self.expected.exact,
            }
        if self.verdict is not None:
            out["policy_id"] = self.policy_id
            out["verdict"] = self.verdict.value
            out["reasons"] = [r.to_json() for r in self.reasons]
            out["missing"] = [_expected_json(e) for e in self.missing]
            out["unexpected"] = [r.to_json() for r in self.unexpected]
        if self.error is not None:
            out["error"] = {"message": self.error, "fix": self.fix}
        return out


def _expected_json(reason: ExpectedReason) -> dict[str, str]:
    out = {"code": reason.code}
    if reason.subject is not None:
        out["subject"] = reason.subject
    return out


@dataclass(frozen=True, slots=True)
class TestReport:
    """Every case's result, in file order; ``exit_code`` is what `policy test` exits with."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    directory: str
    files: int
    results: tuple[CaseResult, ...]

    def count(self, outcome: Outcome) -> int:
        """How many cases ended with ``outcome``."""
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def exit_code(self) -> int:
        """2 when a case could not be loaded (or there was none), 1 when one failed, else 0."""
        if not self.results or self.count(Outcome.ERROR):
            return 2
        return 1 if self.count(Outcome.FAILED) else 0

    def summary(self) -> str:
        """The last line of the text report."""
        if not self.results:
            return (
                f"policy test: no case files ({', '.join('*' + s for s in CASE_SUFFIXES)}) "
                f"under {self.directory}: nothing was tested"
            )
        cases = f"{len(self.results)} case" + ("" if len(self.results) == 1 else "s")
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        return (
            f"policy test: {cases} in {files}: "
            f"{self.count(Outcome.PASSED)} passed, {self.count(Outcome.FAILED)} failed, "
            f"{self.count(Outcome.ERROR)} could not be loaded"
        )

    def render_text(self) -> str:
        """One line per case, what differed under each failing one, then the summary."""
        lines: list[str] = []
        for result in self.results:
            label = {Outcome.PASSED: "PASS ", Outcome.FAILED: "FAIL ", Outcome.ERROR: "ERROR"}
            where = f"  ({clean(result.location)})" if result.location != result.name else ""
            lines.append(f"{label[result.outcome]} {clean(result.name)}{where}")
            lines.extend("      " + clean(line) for line in _details(result))
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report for CI, as schemas/policy-test.v1.json describes it."""
        return {
            "$schema": SCHEMA_ID,
            "version": "1",
            "tool": {"name": "envsecops", "version": __version__},
            "directory": self.directory,
            "summary": {
                "files": self.files,
                "cases": len(self.results),
                "passed": self.count(Outcome.PASSED),
                "failed": self.count(Outcome.FAILED),
                "errors": self.count(Outcome.ERROR),
            },
            "exit_code": self.exit_code,
            "cases": [r.to_json() for r in self.results],
        }


def _details(result: CaseResult) -> Iterator[str]:
    if result.outcome is Outcome.ERROR:
        yield from (result.error or "").splitlines()
        if result.fix:
            first, *rest = result.fix.splitlines() or [""]
            yield "fix: " + first
            yield from ("     " + line for line in rest)
        return
    if result.outcome is Outcome.PASSED or result.expected is None:
        return
    if result.verdict is not result.expected.verdict:
        yield f"verdict: expected {result.expected.verdict}, got {result.verdict}"
    for expected in result.missing[:SHOWN_PER_CASE]:
        yield f"missing: {expected.label()}"
    for reason in result.unexpected[:SHOWN_PER_CASE]:
        yield f"unexpected: {reason.code} {reason.subject}: {reason.message}"
    hidden = max(0, len(result.missing) - SHOWN_PER_CASE)
    hidden += max(0, len(result.unexpected) - SHOWN_PER_CASE)
    if hidden:
        yield f"… and {hidden} more (see --format json)"


def _case_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    found: list[Path] = []
    for folder, dirs, names in os.walk(directory):
        dirs.sort()
        found.extend(Path(folder) / n for n in names if n.endswith(CASE_SUFFIXES))
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def _display(path: Path) -> str:
    return os.path.normpath(path)


class _Runner:
    """Runs cases, loading each policy and each bag.json once."""

    def __init__(self, default_policy: Path | None) -> None:
        self.default_policy = default_policy
        self.policies: dict[Path, Policy | EnvsecopsError] = {}
        self.bags: dict[Path, Bag | EnvsecopsError] = {}
        self.names: dict[str, str] = {}

    def policy(self, case: PolicyCase) -> Policy:
        path = case.policy or self.default_policy
        if path is None:
            raise InputError(
                f"case {case.name!r} names no policy and no --policy was given",
                path=case.location,
                fix="add `policy: ../.github/envsecops.yml` (relative to the case file) to the "
                "case, or run `envsecops policy test DIR --policy FILE`",
            )
        return _cached(self.policies, path, lambda: load_policy_file(path, _display(path)))

    def bag(self, case: PolicyCase) -> Bag:
        if case.bag is not None:
            return case.bag
        path = case.bag_file
        assert path is not None  # noqa: S101 - parse_case_file sets exactly one of the two
        return _cached(self.bags, path, lambda: read_bag(path, _display(path)))

    def run(self, case: PolicyCase) -> CaseResult:
        first = self.names.setdefault(case.name, case.location)
        if first != case.location:
            return CaseResult(
                case.name,
                case.location,
                Outcome.ERROR,
                error=f"{case.location}: another case is named {case.name!r} (at {first})",
                fix="give every case its own name, so that reports are unambiguous",
            )
        try:
            policy, bag = self.policy(case), self.bag(case)
        except EnvsecopsError as exc:
            return CaseResult(
                case.name, case.location, Outcome.ERROR, error=exc.message, fix=exc.fix
            )
        reasons = policy_reasons(policy, bag)
        verdict = verdict_of(reasons)
        missing, unexpected = compare(case.expect, reasons)
        passed = verdict is case.expect.verdict and not missing and not unexpected
        return CaseResult(
            name=case.name,
            location=case.location,
            outcome=Outcome.PASSED if passed else Outcome.FAILED,
            expected=case.expect,
            verdict=verdict,
            reasons=reasons,
            missing=missing,
            unexpected=unexpected,
            policy_id=policy.policy_id,
        )


def _cached(cache: dict[Path, T | EnvsecopsError], path: Path, load: Callable[[], T]) -> T:
    key = path.resolve()
    if key not in cache:
        try:
            cache[key] = load()
        except EnvsecopsError as exc:
            cache[key] = exc
    value = cache[key]
    if isinstance(value, EnvsecopsError):
        raise value
    return value


def compare(
    expect: Expectation, reasons: tuple[Reason, ...]
) -> tuple[tuple[ExpectedReason, ...], tuple[Reason, ...]]:
    """(expected reasons not found, reasons found that the case does not allow for).

    An expected reason without a subject matches any reason with its code. Every reason is
    unexpected when the case expects allow; with ``exact`` every reason must be listed.
    """

    def hit(expected: ExpectedReason, reason: Reason) -> bool:
        return reason.code == expected.code and expected.subject in {None, reason.subject}

    missing = tuple(e for e in expect.reasons if not any(hit(e, r) for r in reasons))
    if expect.verdict is Verdict.ALLOW:
        return missing, reasons
    if expect.exact:
        return missing, tuple(r for r in reasons if not any(hit(e, r) for e in expect.reasons))
    return missing, ()


def run_policy_tests(directory: Path, policy_path: Path | None) -> TestReport:
    """Run every case under ``directory`` (or in that one file); ``policy_path`` judges cases
    that name no policy."""
    if not directory.exists():
        raise InputError(
            "there is no such folder of policy test cases",
            path=str(directory),
            fix="create it with one YAML case per document; see docs/examples/policy-tests/",
        )
    parsed: list[tuple[Path, list[PolicyCase | CaseError]]] = []
    for file in _case_files(directory):
        display = _display(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            error = InputError(f"cannot read the case file: {exc}", path=display)
            parsed.append((file, [CaseError(display, error)]))
            continue
        parsed.append((file, list(parse_case_file(text, file, display))))
    policies = {p.resolve() for p in [policy_path] if p is not None}
    policies |= {
        c.policy.resolve()
        for _file, cases in parsed
        for c in cases
        if isinstance(c, PolicyCase) and c.policy is not None
    }
    runner = _Runner(policy_path)
    results: list[CaseResult] = []
    files = 0
    for file, cases in parsed:
        if file.resolve() in policies:
            continue
        files += 1
        for case in cases:
            if isinstance(case, CaseError):
                name = case.name or case.location
                error = case.error
                results.append(
                    CaseResult(
                        name, case.location, Outcome.ERROR, error=error.message, fix=error.fix
                    )
                )
            else:
                results.append(runner.run(case))
    return TestReport(str(directory), files, tuple(results))
