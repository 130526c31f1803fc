"""The local demo: pin-check a sample repository, attest and verify this machine, check it all.

It runs pin-check on a small repository written to a temporary directory from the data in
``sample.py`` (so that the project's own tree holds no deliberately unpinned files), then
attests this machine's bag with a generated key and verifies the attestation, drafts a policy
from that bag and verifies the machine against it (allow), then plants a binary first on PATH
and verifies again (deny, naming the drift). It succeeds only when pin-check reported every
finding the sample was built to provoke and nothing on its clean lines, the attestation
verified, and both decisions came out as expected, signed and re-verified.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from envsecops import __version__
from envsecops.demo.attest_step import run_attest_stage
from envsecops.demo.local_env import outside_actions, present_markers
from envsecops.demo.outcome import Verdict
from envsecops.demo.sample import CLEAN, EXPECTED, FILES, UPCOMING, Clean, Expected, SampleFile
from envsecops.demo.verify_step import run_verify_stage
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


def run_demo(out: TextIO | None = None) -> int:
    """Run the demo, writing to ``out`` (stdout by default); 0 only if every expectation held."""
    stream = sys.stdout if out is None else out
    write = stream.write
    write(f"envsecops {__version__} demo: the chain is pin-check -> attest-runner -> ")
    write("verify-bag -> mint-creds -> record-decision\n\n")
    with tempfile.TemporaryDirectory(prefix="envsecops-demo-") as temp:
        root = Path(temp)
        write_sample(root)
        write("Stage 1, pin-check: a sample repository with these files:\n")
        for sample in FILES:
            write(f"  {sample.path}\n")
        write("\n$ envsecops pin-check .\n")
        report = run_pin_check(
            PinCheckOptions(paths=(root,), base=root, jobs=1), PinsPolicy(source=None)
        )
        context = RenderContext(version=__version__, fail_on=Severity.LOW, policy_source=None)
        write(render_text(report, context))
        verdicts = verify(root, report)
        write("\nWhat the sample was built to show:\n")
        for verdict in verdicts:
            write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")
        hidden = present_markers()
        if hidden:
            write(
                "\n(The demo runs the chain as a local run: it hides "
                f"{', '.join(hidden)} from its own attest and verify.)\n"
            )
        with outside_actions():
            attested = run_attest_stage(Path(temp), stream)
            decided = (
                run_verify_stage(Path(temp), attested, stream)
                if attested is not None
                else [Verdict(False, "verify-bag was not run: stage 2 did not attest")]
            )
    write(
        "\nStages built but not run by this demo yet (they need a local OIDC issuer and a "
        "cloud on loopback; `envsecops mint --help`):\n"
    )
    for name, explanation in UPCOMING:
        write(f"  {name}: not in the demo yet - it will {explanation}\n")
    write(
        "  record-decision: built (file and S3 ledgers, `envsecops record`, `envsecops audit`);"
        " `envsecops record --decision decision.json` appends the decisions above to a ledger\n"
    )
    failed = [v for v in verdicts if not v.ok]
    failed_decisions = [v for v in decided if not v.ok]
    if failed or attested is None or failed_decisions:
        write(f"\ndemo: FAILED - {len(failed)} of {len(verdicts)} pin-check expectations ")
        write(f"did not hold; attestation {'verified' if attested else 'FAILED'}; ")
        write(f"{len(failed_decisions)} of {len(decided)} verify-bag expectations did not hold\n")
        return int(ExitCode.FINDINGS)
    write(
        f"\ndemo: ok - pin-check reported what it should ({len(verdicts)} expectations), "
        "this machine's bag was attested and verified, and verify-bag allowed it, then denied "
        "it once a binary was planted on PATH\n"
    )
    return int(ExitCode.OK)
