"""The local demo: the whole chain on this machine and on loopback, every step checked.

It runs pin-check on a small repository written to a temporary, GitHub-Actions-like job tree
from the data in ``sample.py`` (so that the project's own tree holds no deliberately unpinned
files), then (:mod:`envsecops.demo.chain`) starts a local OIDC issuer and moto's server,
attests this machine's bag with a generated key bound by the issuer's token, drafts a policy
with credentials and ledgers, verifies (allow), mints AWS credentials through the two-hop path
and proves them usable, records to the file and S3 ledgers, prints the job summary and
`audit why`; then plants a binary first on PATH and shows the deny, the refused mint and its
record. It succeeds only when every expectation held; it always stops the servers, restores
the environment and removes its files.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from envsecops import __version__
from envsecops.demo.local_env import present_markers
from envsecops.demo.outcome import Verdict
from envsecops.demo.sample import CLEAN, EXPECTED, FILES, Clean, Expected, SampleFile
from envsecops.errors import ExitCode
from envsecops.model import Finding, Severity
from envsecops.pins.engine import PinCheckOptions, PinReport, run_pin_check
from envsecops.pins.registry import RULES
from envsecops.pins.rules.parse_error import RULE_BY_KIND as PARSE_RULES
from envsecops.policy.pins import PinsPolicy
from envsecops.report.context import RenderContext
from envsecops.report.pins_text import render as render_text


def write_sample(root: Path, files: Iterable[SampleFile] = FILES) -> None:
    """Write the sample repository's files below ``root``."""
    for sample in files:
        target = root / sample.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sample.text, encoding="utf-8")


def _line_of(root: Path, path: str, marker: str) -> int:
    """The 1-based line of ``path`` that holds ``marker``; the sample data guarantees one."""
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    matches = [number for number, text in enumerate(lines, start=1) if marker in text]
    if len(matches) != 1:
        raise ValueError(f"sample {path}: marker {marker!r} is on {len(matches)} lines, not 1")
    return matches[0]


def _check_expected(root: Path, expected: Expected, findings: list[Finding]) -> Verdict:
    line = _line_of(root, expected.path, expected.marker)
    where = f"{expected.path}:{line}"
    registered = [rule for rule in expected.rules if rule in RULES]
    if not registered:
        return Verdict(
            False,
            f"{where}: {expected.what} - no check is registered for "
            f"{' or '.join(expected.rules)}, so pin-check cannot report it yet",
        )
    hits = [
        f
        for f in findings
        if f.path == expected.path and f.line == line and f.rule_id in registered
    ]
    if not hits:
        return Verdict(
            False, f"{where}: {expected.what} - MISSED (expected {' or '.join(registered)})"
        )
    return Verdict(True, f"{where}: {expected.what} - reported as {hits[0].rule_id}")


def _check_clean(root: Path, clean: Clean, findings: list[Finding]) -> Verdict:
    line = _line_of(root, clean.path, clean.marker)
    where = f"{clean.path}:{line}"
    hits = [f for f in findings if f.path == clean.path and f.line == line]
    if hits:
        rules = ", ".join(sorted({f.rule_id for f in hits}))
        return Verdict(False, f"{where}: {clean.what} - wrongly reported ({rules})")
    return Verdict(True, f"{where}: {clean.what} - correctly left alone")


def verify(root: Path, report: PinReport) -> list[Verdict]:
    """Every expectation of the sample, checked against the report."""
    verdicts = [_check_expected(root, e, report.findings) for e in EXPECTED]
    verdicts += [_check_clean(root, c, report.findings) for c in CLEAN]
    written = {sample.path for sample in FILES}
    checked = {rel for rel, _kind in report.files}
    for path in sorted(written - checked):
        verdicts.append(Verdict(False, f"{path}: pin-check did not read this file"))
    for finding in report.findings:
        if finding.rule_id in PARSE_RULES:
            verdicts.append(
                Verdict(
                    False,
                    f"{finding.path}:{finding.line}: unexpected {finding.rule_id}: "
                    f"{finding.message}",
                )
            )
    return verdicts


def _pin_check(root: Path, report_path: Path, stream: TextIO) -> list[Verdict]:
    """Stage 1 on the sample repository: the report as text, and as JSON for `record`."""
    from envsecops.report.pins_json import render as render_json

    write = stream.write
    write("Stage 1, pin-check: a sample repository with these files:\n")
    for sample in FILES:
        write(f"  {sample.path}\n")
    write("\n$ envsecops pin-check .\n")
    report = run_pin_check(
        PinCheckOptions(paths=(root,), base=root, jobs=1), PinsPolicy(source=None)
    )
    context = RenderContext(version=__version__, fail_on=Severity.LOW, policy_source=None)
    write(render_text(report, context))
    report_path.write_text(render_json(report, context), encoding="utf-8")
    verdicts = verify(root, report)
    write("\nWhat the sample was built to show:\n")
    for verdict in verdicts:
        write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")
    return verdicts


def run_demo(out: TextIO | None = None) -> int:
    """Run the demo, writing to ``out`` (stdout by default); 0 only if every expectation held.

    Exit 2 (with the fix) when moto, a development dependency, cannot be imported.
    """
    from envsecops.demo.chain import run_chain
    from envsecops.demo.cloud import MOTO_FIX, moto_missing
    from envsecops.demo.runner import Runner

    stream = sys.stdout if out is None else out
    write = stream.write
    missing = moto_missing()
    if missing is not None:
        write(
            f"envsecops demo: moto's server is needed for the local cloud (STS, IAM, S3) and "
            f"{missing}.\nmoto is a development dependency, not a runtime one; fix: {MOTO_FIX}\n"
        )
        return int(ExitCode.USAGE)
    started = time.monotonic()
    write(f"envsecops {__version__} demo: the chain is pin-check -> attest-runner -> ")
    write("verify-bag -> mint-creds -> record-decision, on this machine and on loopback\n\n")
    with tempfile.TemporaryDirectory(prefix="envsecops-demo-") as temp:
        runner = Runner(Path(temp) / "runner")
        runner.lay_out()
        write_sample(runner.workspace)
        pin_report = runner.temp / "pin-check.json"
        pinned = _pin_check(runner.workspace, pin_report, stream)
        hidden = present_markers()
        if hidden:
            write(
                "\n(The demo runs the chain as a local run: it hides "
                f"{', '.join(hidden)} from its own attest, verify and mint, and serves this "
                "job's OIDC tokens itself.)\n"
            )
        chain = run_chain(runner, pin_report, stream)
    seconds = time.monotonic() - started
    failed = [v for v in pinned if not v.ok]
    failed_chain = [v for v in chain if not v.ok]
    if failed or failed_chain:
        write(f"\ndemo: FAILED in {seconds:.1f} s - {len(failed)} of {len(pinned)} pin-check ")
        write(f"expectations and {len(failed_chain)} of {len(chain)} chain expectations ")
        write("did not hold:\n")
        write("".join(f"  [FAIL] {v.text}\n" for v in [*failed, *failed_chain]))
        return int(ExitCode.FINDINGS)
    write(
        f"\ndemo: ok in {seconds:.1f} s - pin-check reported what it should "
        f"({len(pinned)} expectations); this machine was attested, verified (allow), minted "
        "AWS credentials through moto's two hops, recorded in the file and S3 ledgers and "
        "explained by audit why; with a binary planted on PATH it was denied, refused a "
        f"credential and recorded ({len(chain)} chain expectations); the servers are stopped "
        "and the temporary files removed\n"
    )
    return int(ExitCode.OK)
