"""The demo's record-decision runs, the job summary, and the questions asked of the ledgers.

`envsecops record` runs as the record-decision step runs in a job: with ``GITHUB_ACTIONS=true``
for that one command, so that it writes the job summary to the demo's ``GITHUB_STEP_SUMMARY``
and its receipts to the demo's ``GITHUB_OUTPUT`` (record does nothing else differently in
Actions: its ledgers are the policy's file and S3 ledgers either way). The demo then prints the
summary's Markdown, asks `envsecops audit why` about the minted access key id, and at the end
`envsecops audit verify` about both ledgers.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TextIO

from envsecops.demo.local_env import changed_environment
from envsecops.demo.outcome import Verdict
from envsecops.demo.runner import Runner
from envsecops.errors import ExitCode

ESCAPED = re.compile(r"\\([!-/:-@\[-`{}~])")
"""A Markdown backslash escape of ASCII punctuation (not `\\|`, which keeps a table cell whole)."""


def _run(argv: list[str], stream: TextIO, *, in_actions: bool = False) -> tuple[int, str]:
    """`envsecops ARGV` in-process: exit code and output (also written to ``stream``)."""
    from envsecops.cli.main import main

    captured = io.StringIO()
    with (
        changed_environment({"GITHUB_ACTIONS": "true" if in_actions else None}),
        redirect_stdout(captured),
        redirect_stderr(captured),
    ):
        code = main(argv)
    stream.write(captured.getvalue())
    return code, captured.getvalue()


def step_outputs(path: Path) -> dict[str, str]:
    """The outputs in a ``$GITHUB_OUTPUT`` file (``name<<DELIMITER`` heredoc entries)."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        name, marker, delimiter = line.partition("<<")
        if not marker:
            continue
        value: list[str] = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        outputs[name] = "\n".join(value)
    return outputs


def said(verdict: Verdict, stream: TextIO) -> Verdict:
    """Write the verdict's checked line, then return it."""
    stream.write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")
    return verdict


def record(
    runner: Runner,
    decision_dir: Path,
    pin_report: Path,
    stream: TextIO,
    *,
    deny: bool = False,
) -> Verdict:
    """`envsecops record` for one decision: recorded in both ledgers, summary written."""
    return said(_record(runner, decision_dir, pin_report, stream, deny=deny), stream)


def _record(
    runner: Runner,
    decision_dir: Path,
    pin_report: Path,
    stream: TextIO,
    *,
    deny: bool = False,
) -> Verdict:
    name = decision_dir.name
    drift = decision_dir / "drift.json"
    shown = f" --drift {name}/drift.json" if deny and drift.exists() else ""
    stream.write(
        f"$ envsecops record --decision {name}/decision.json --pin-report {pin_report.name}"
        f"{shown} --policy .github/envsecops.yml   (as the record-decision step: "
        "GITHUB_ACTIONS=true)\n"
    )
    argv = ["record", "--decision", str(decision_dir / "decision.json")]
    argv += ["--pin-report", str(pin_report), "--policy", str(runner.policy)]
    argv += ["--drift", str(drift)] if shown else []
    output = runner.file("GITHUB_OUTPUT")
    output.write_text("", encoding="utf-8")  # this step's outputs only
    summary = runner.file("GITHUB_STEP_SUMMARY")
    size = summary.stat().st_size
    code, _text = _run(argv, stream, in_actions=True)
    expected = ExitCode.FINDINGS if deny else ExitCode.OK
    what = "the deny" if deny else "the allow"
    if code != expected:
        return Verdict(False, f"record of {what} exited {code}, not {int(expected)}")
    try:
        receipts = json.loads(step_outputs(output).get("ledger-receipts", "[]"))
        ledgers = sorted(str(r["ledger"]) for r in receipts)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return Verdict(False, f"record of {what}: its ledger-receipts output is unreadable: {exc}")
    kinds = {ledger.split(":", 1)[0] for ledger in ledgers}
    if kinds != {"file", "s3"}:
        return Verdict(False, f"record of {what} is in {ledgers or 'no ledger'}, not file and S3")
    if summary.stat().st_size <= size:
        return Verdict(False, f"record of {what} wrote no job summary")
    return Verdict(
        True,
        f"{what} is recorded in the file ledger and the Object-Lock S3 ledger "
        f"(exit {code}; step outputs ledger-receipts and digest; job summary written)",
    )


def terminal_markdown(markdown: str) -> str:
    """Markdown made readable as plain text: backslash escapes and ``<sub>`` tags removed."""
    text = ESCAPED.sub(r"\1", markdown)
    return text.replace("<sub>", "").replace("</sub>", "")


def show_summary(runner: Runner, stream: TextIO, start: int = 0) -> int:
    """Print the job summary from byte ``start`` for the terminal; the size printed up to."""
    data = runner.file("GITHUB_STEP_SUMMARY").read_bytes()
    stream.write("\nThe job summary (what $GITHUB_STEP_SUMMARY shows the reviewer):\n")
    stream.write("  " + "-" * 76 + "\n")
    text = terminal_markdown(data[start:].decode("utf-8", errors="replace"))
    stream.write("".join(f"  | {line}".rstrip() + "\n" for line in text.splitlines()))
    stream.write("  " + "-" * 76 + "\n")
    return len(data)


def audit_why(runner: Runner, key_id: str, decision_id: str, stream: TextIO) -> Verdict:
    """`envsecops audit why KEY_ID`: it must name the decision, from both ledgers."""
    return said(_audit_why(runner, key_id, decision_id, stream), stream)


def _audit_why(runner: Runner, key_id: str, decision_id: str, stream: TextIO) -> Verdict:
    stream.write(f"\n$ envsecops audit why {key_id} --policy .github/envsecops.yml\n")
    code, text = _run(["audit", "why", key_id, "--policy", str(runner.policy)], stream)
    if code != ExitCode.OK:
        return Verdict(False, f"audit why {key_id} exited {code}, not 0")
    missing = [
        word for word in (decision_id, "mint-intent", "mint-issued", "s3://") if word not in text
    ]
    if missing:
        return Verdict(False, f"audit why {key_id} does not mention {', '.join(missing)}")
    return Verdict(
        True,
        f"audit why {key_id}: decision {decision_id}, its bag and policy, from the mint-intent "
        "and mint-issued entries of both ledgers",
    )


def audit_verify(runner: Runner, stream: TextIO) -> Verdict:
    """`envsecops audit verify`: both ledgers sound (chain, Object Lock retention)."""
    return said(_audit_verify(runner, stream), stream)


def _audit_verify(runner: Runner, stream: TextIO) -> Verdict:
    stream.write("\n$ envsecops audit verify --policy .github/envsecops.yml\n")
    code, text = _run(["audit", "verify", "--policy", str(runner.policy)], stream)
    sound = [line for line in text.splitlines() if line.startswith("ok ")]
    if code != ExitCode.OK or len(sound) != 2:
        return Verdict(False, f"audit verify exited {code} with {len(sound)} sound ledger(s)")
    return Verdict(True, "audit verify: both ledgers are sound (" + "; ".join(sound) + ")")
