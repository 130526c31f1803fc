"""Run pin-check: discover, parse each file once, run its checks, suppress, count."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from envsecops.model import Finding
from envsecops.pins.discover import Discovery, Filters, discover, relative
from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS
from envsecops.pins.rules.base import Emitter, Location
from envsecops.pins.rules.parse_error import RULE_BY_KIND
from envsecops.pins.source import SourceError, SourceFile
from envsecops.pins.suppress import Suppressed, apply_inline, apply_policy
from envsecops.policy.pins import PinsPolicy

PARALLEL_THRESHOLD = 256
CHUNK = 64


@dataclass(frozen=True, slots=True)
class PinCheckOptions:
    """What to check and how."""

    paths: tuple[Path, ...]
    base: Path
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    today: date = field(default_factory=date.today)
    jobs: int = 0


@dataclass
class FileResult:
    """What checking one file produced."""

    rel: str
    kind: FileKind
    findings: list[Finding]
    suppressed: list[Suppressed]
    metrics: Counter[tuple[str, str]]
    related: list[tuple[Path, FileKind]]


@dataclass
class PinReport:
    """The finished result: active findings, suppressed ones, files, skips and stats."""

    files: list[tuple[str, FileKind]]
    findings: list[Finding]
    suppressed: list[Suppressed]
    skipped: list[tuple[str, str]]
    metrics: Counter[tuple[str, str]]

    def stats(self) -> dict[str, dict[str, int]]:
        """Metrics grouped by file kind, sorted, zero counts omitted."""
        grouped: dict[str, dict[str, int]] = {}
        for (kind, metric), count in sorted(self.metrics.items()):
            if count:
                grouped.setdefault(kind, {})[metric] = count
        return grouped


def check_file(path: Path, rel: str, kind: FileKind) -> FileResult:
    """Parse one file and run every check for its kind; problems become findings."""
    source = SourceFile(path=path, rel=rel, kind=kind)
    emitter = Emitter(rel)
    metrics: Counter[tuple[str, str]] = Counter()
    related: list[tuple[Path, FileKind]] = []
    try:
        reader = DOCUMENT_BY_KIND.get(kind)
        if reader is None:  # a kind discovered but never registered: fail closed, visibly
            raise DocumentProblem("parse-error", f"pin-check has no reader for {kind.value} files")
        document = reader(source)
    except (DocumentProblem, SourceError) as exc:
        line = getattr(exc, "line", 1)
        column = getattr(exc, "column", 1)
        emitter.emit(
            RULE_BY_KIND[exc.kind],
            Location(line, column),
            rel,
            f"{exc.message}; nothing in this {kind.value} file was checked",
        )
        metrics[(kind.value, "files")] += 1
        metrics[(kind.value, "files_unparseable")] += 1
        return FileResult(rel, kind, emitter.findings, [], metrics, related)
    document.metrics(metrics)
    related = document.related()
    for check in CHECKS:
        if kind in check.kinds:
            check.run(document, emitter)
    active, suppressed = apply_inline(source, emitter.findings)
    return FileResult(rel, kind, active, suppressed, metrics, related)


def _check_batch(batch: list[tuple[Path, str, FileKind]]) -> list[FileResult]:
    return [check_file(path, rel, kind) for path, rel, kind in batch]


def _run_all(work: list[tuple[Path, str, FileKind]], jobs: int) -> list[FileResult]:
    workers = jobs or (os.cpu_count() or 1)
    if len(work) < PARALLEL_THRESHOLD or workers < 2:
        return _check_batch(work)
    from concurrent.futures import ProcessPoolExecutor  # only large runs pay for the import

    batches = [work[i : i + CHUNK] for i in range(0, len(work), CHUNK)]
    results: list[FileResult] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for batch_result in pool.map(_check_batch, batches):
            results.extend(batch_result)
    return results


def run_pin_check(options: PinCheckOptions, policy: PinsPolicy) -> PinReport:
    """Check every discovered file, then the files they pull in, and apply the policy."""
    filters = Filters(options.include, options.exclude, policy.exclude, policy.root)
    found: Discovery = discover(options.paths, options.base, filters)
    results = _run_all(found.files, options.jobs)
    done = {path.resolve() for path, _rel, _kind in found.files}
    pending = _pending_related(results, done)
    while pending:
        extra = [(p, relative(p, options.base), k) for p, k in pending]
        more = _run_all(extra, options.jobs)
        results.extend(more)
        pending = _pending_related(more, done)
    metrics: Counter[tuple[str, str]] = Counter()
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    for result in results:
        metrics.update(result.metrics)
        findings.extend(result.findings)
        suppressed.extend(result.suppressed)
    findings, by_policy = apply_policy(policy, findings, options.today, options.base)
    suppressed.extend(by_policy)
    findings.sort(key=Finding.sort_key)
    suppressed.sort(key=lambda s: s.finding.sort_key())
    return PinReport(
        files=sorted((r.rel, r.kind) for r in results),
        findings=findings,
        suppressed=suppressed,
        skipped=found.skipped,
        metrics=metrics,
    )


def _pending_related(results: list[FileResult], done: set[Path]) -> list[tuple[Path, FileKind]]:
    pending: list[tuple[Path, FileKind]] = []
    for result in results:
        for path, kind in result.related:
            resolved = path.resolve()
            if resolved not in done and path.is_file():
                done.add(resolved)
                pending.append((path, kind))
    return pending
