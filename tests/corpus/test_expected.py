"""pin-check over ../shared/corpus agrees with EXPECTED.csv, repository by repository.

EXPECTED.csv (`repo,file_kind,metric,count`) holds independently counted figures. For each
repository folder (`owner__name` for `owner/name`) the real engine runs over the folder, and:
every listed figure must equal `PinReport.stats()`, and every figure the engine reports that
EXPECTED.csv does not list must be 0 (stats() omits zeros, so it must be absent) — except the
few metrics EXPECTED.csv never defines, named with their reason in NOT_IN_EXPECTED.
"""

from __future__ import annotations

import csv
import fnmatch
from functools import cache

import pytest

from envsecops.pins.engine import PinCheckOptions, PinReport, run_pin_check
from envsecops.pins.rules import parse_error
from envsecops.policy.pins import PinsPolicy
from tests.conftest import SHARED, shared_dir

pytestmark = pytest.mark.corpus

Figures = dict[tuple[str, str], int]

# (file kind glob, metric glob) -> why EXPECTED.csv has no figure for it.
NOT_IN_EXPECTED: dict[tuple[str, str], str] = {
    # EXPECTED.csv counts what the files contain, not whether our parser could read them.
    # An unparseable file is still caught: its contents go missing from the figures, and
    # test_corpus_parses_without_problems names the file, line and parser message.
    ("*", "files_unparseable"): "a property of our parser, asserted separately",
}
PARSE_RULES = frozenset(rule.id for rule in parse_error.RULES)


def _repo_folders() -> list[str]:
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        return ["corpus-absent"]
    return sorted(p.name for p in corpus.iterdir() if p.is_dir())


REPOS = _repo_folders()


@cache
def _expected() -> dict[str, Figures]:
    path = shared_dir("corpus") / "EXPECTED.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["repo", "file_kind", "metric", "count"]
        table: dict[str, Figures] = {}
        for row in reader:
            folder = row["repo"].replace("/", "__")
            key = (row["file_kind"], row["metric"])
            assert key not in table.get(folder, {}), f"EXPECTED.csv lists {row} twice"
            table.setdefault(folder, {})[key] = int(row["count"])
    return table


@cache
def _report(folder: str) -> PinReport:
    root = shared_dir("corpus") / folder
    return run_pin_check(PinCheckOptions(paths=(root,), base=root), PinsPolicy(source=None))


def _figures(report: PinReport) -> Figures:
    return {(kind, metric): n for kind, ms in report.stats().items() for metric, n in ms.items()}


def _undefined(kind: str, metric: str) -> bool:
    return any(
        fnmatch.fnmatchcase(kind, kind_glob) and fnmatch.fnmatchcase(metric, metric_glob)
        for kind_glob, metric_glob in NOT_IN_EXPECTED
    )


def test_every_expected_repository_has_a_folder() -> None:
    corpus = shared_dir("corpus")
    folders = {p.name for p in corpus.iterdir() if p.is_dir()}
    assert set(_expected()) == folders


@pytest.mark.parametrize("folder", REPOS)
def test_figures_match_expected(folder: str) -> None:
    expected = _expected().get(folder)
    assert expected, f"EXPECTED.csv has no rows for {folder}"
    got = _figures(_report(folder))
    wrong = [
        f"  {kind:<13} {metric:<45} expected {count:>4}, got {got.get((kind, metric), 0):>4}"
        for (kind, metric), count in sorted(expected.items())
        if got.get((kind, metric), 0) != count
    ]
    extra = [
        f"  {kind:<13} {metric:<45} expected    0, got {count:>4} (not in EXPECTED.csv)"
        for (kind, metric), count in sorted(got.items())
        if (kind, metric) not in expected and not _undefined(kind, metric)
    ]
    problems = wrong + extra
    assert not problems, f"{folder} disagrees with EXPECTED.csv:\n" + "\n".join(problems)


def test_corpus_parses_without_problems() -> None:
    problems = []
    for folder in REPOS:
        report = _report(folder)
        assert report.files, f"{folder}: no files found"
        problems += [
            f"{folder}/{f.path}:{f.line}:{f.column}: {f.rule_id}: {f.message}"
            for f in report.findings + [s.finding for s in report.suppressed]
            if f.rule_id in PARSE_RULES
        ]
        problems += [
            f"{folder}: {kind} files_unparseable = {n}"
            for kind, metrics in report.stats().items()
            for metric, n in metrics.items()
            if metric == "files_unparseable"
        ]
    assert problems == []


# How many findings each rule must make of a repository's figures: one per counted
# reference (the corpus has no YAML aliases, which would be counted per use but reported once).
FINDINGS_PER_FIGURE: dict[str, tuple[str, ...]] = {
    "unpinned-uses": (
        "uses_unpinned_ref",
        "uses_no_ref",
        "uses_expression",
        "uses_malformed",
    ),
    "unpinned-docker-uses": ("uses_docker_nodigest",),
    "pin-comment": (),
    "unpinned-container-image": tuple(
        f"{role}_{klass}"
        for role in ("container_image", "service_image", "runs_image")
        for klass in (
            "no_digest_tagged",
            "no_digest_untagged_or_latest",
            "expression",
            "variable",
        )
    ),
}


@pytest.mark.parametrize("folder", REPOS)
@pytest.mark.parametrize(
    "rule_id", [rule for rule, metrics in FINDINGS_PER_FIGURE.items() if metrics]
)
def test_findings_match_the_figures(folder: str, rule_id: str) -> None:
    report = _report(folder)
    figures = _figures(report)
    counted = sum(
        figures.get((kind, metric), 0)
        for kind in ("workflow", "action")
        for metric in FINDINGS_PER_FIGURE[rule_id]
    )
    found = [f for f in report.findings if f.rule_id == rule_id]
    found += [s.finding for s in report.suppressed if s.finding.rule_id == rule_id]
    assert len(found) == counted, "\n".join(f"{f.path}:{f.line} {f.reference}" for f in found)


def test_sha_pins_without_a_version_comment_are_the_only_pin_comment_findings() -> None:
    # Independent of the parser: a `uses:` line ending in `@<40 hex>` whose comment, if any,
    # has no digit in it (every version comment in the corpus has one: `# v7.0.1`, `# release/v1`).
    corpus = shared_dir("corpus")
    findings = {
        (f"{folder}/{f.path}", f.line)
        for folder in REPOS
        for f in _report(folder).findings
        if f.rule_id == "pin-comment"
    }
    lines = set()
    for path in sorted(corpus.glob("*/.github/workflows/*.y*ml")) + sorted(
        corpus.glob("*/**/action.y*ml")
    ):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            uses, _, comment = line.partition(" #")
            if "uses:" in uses and _has_sha(uses) and not any(c.isdigit() for c in comment):
                lines.add((path.relative_to(corpus).as_posix(), number))
    assert findings == lines
    assert findings, "the corpus has a SHA pin without a version comment; the rule must see it"


def _has_sha(text: str) -> bool:
    ref = text.rsplit("@", 1)[-1].strip().strip("'\"")
    return len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)
