"""`envsecops audit verify|why|list|export`, and the ledger choice `record` shares."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import EnvsecopsError, ExitCode, UsageError

if TYPE_CHECKING:
    from envsecops.ledger.audit import Filters, Record
    from envsecops.ledger.interface import Ledger

MAX_PROBLEMS_SHOWN = 50


class NotFound(EnvsecopsError):
    """`audit why` found nothing that names the identifier."""

    exit_code = ExitCode.FINDINGS


def add_ledger_arguments(parser: argparse.ArgumentParser) -> None:
    """`--ledger` and `--policy`, shared with `record`."""
    parser.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="SPEC",
        help="file:PATH or s3://BUCKET/PREFIX?retention-days=N&region=R[&endpoint-url=URL]; "
        "repeatable",
    )
    parser.add_argument(
        "--policy", type=Path, help="policy file (default: .github/envsecops.yml when present)"
    )


@dataclass(frozen=True, slots=True)
class LedgerChoice:
    """The ledger specs to use, and a note when the embedded default was chosen."""

    specs: tuple[str, ...]
    note: str | None = None


def choose_ledgers(policy_arg: Path | None, flags: list[str], *, extend: bool) -> LedgerChoice:
    """The policy's ledgers plus (``extend``) or else the `--ledger` ones; else the default.

    `record` extends: flags can add ledgers but never drop one the policy names. `audit`
    replaces: flags choose which ledgers to read.
    """
    from envsecops.policy.ledger import default_file_ledger, load_ledger_policy

    policy_path = policy_arg
    if policy_path is None:
        candidate = Path(".github") / "envsecops.yml"
        policy_path = candidate if candidate.is_file() else None
    elif not policy_path.is_file():
        raise UsageError(f"{policy_path}: policy file not found")
    section = load_ledger_policy(policy_path, policy_path.as_posix()) if policy_path else None
    from_policy = section.specs() if section is not None else []
    specs = [*from_policy, *flags] if extend or not flags else list(flags)
    if specs:
        return LedgerChoice(tuple(specs))
    path = default_file_ledger(os.environ, Path.cwd())
    note = (
        "no ledger is configured (no `ledger:` section in the policy, no --ledger), so the "
        f"embedded default file ledger is used: {path}"
    )
    if os.environ.get("GITHUB_ACTIONS") == "true":
        note += (
            ". It lives in $RUNNER_TEMP and is deleted when the job ends: configure an S3 "
            "ledger (`ledger: s3:` in .github/envsecops.yml) for records that outlive the job"
        )
    return LedgerChoice((f"file:{path}",), note)


def build(choice: LedgerChoice) -> list[Ledger]:
    """The ledgers, in order, each once (a flag naming a policy ledger again is no error)."""
    from envsecops.ledger.registry import build_ledger

    ledgers: dict[str, Ledger] = {}
    for spec in choice.specs:
        ledger = build_ledger(spec)
        ledgers.setdefault(ledger.name, ledger)
    return list(ledgers.values())


def say(text: str) -> None:
    """One stderr line; control characters from inputs are escaped (no injected log lines)."""
    print(f"envsecops: {_printable(text)}", file=sys.stderr)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _emit(text: str) -> None:
    """Write untrusted text to stdout; in Actions inside `::stop-commands::`."""
    from envsecops.gh.commands import stop_commands

    safe = text.encode("utf-8", "replace").decode("utf-8")
    sys.stdout.write(stop_commands(safe) if os.environ.get("GITHUB_ACTIONS") == "true" else safe)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `audit` and its actions."""
    parser = subparsers.add_parser(
        "audit",
        help="verify ledgers; answer why a credential existed; list and export records",
        description="Read the ledgers the policy (or --ledger) names. Exit 0 sound/found, "
        "1 broken entry, anomaly or not found, 2 bad input, 3 a ledger could not be read.",
    )
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION")
    verify = actions.add_parser("verify", help="check every ledger's chain and retention")
    add_ledger_arguments(verify)
    verify.set_defaults(handler=run_verify)
    why = actions.add_parser("why", help="why a credential (or decision) existed, in English")
    why.add_argument("ident", help="an access key id, session name or ARN, or a decision id")
    add_ledger_arguments(why)
    why.set_defaults(handler=run_why)
    for name, text in (("list", "list records"), ("export", "export records (jsonl or csv)")):
        sub = actions.add_parser(name, help=text)
        add_ledger_arguments(sub)
        sub.add_argument("--repository", help="only this OWNER/REPO")
        sub.add_argument("--verdict", choices=["allow", "deny"])
        sub.add_argument("--since", metavar="ISO", help="recorded at or after (ISO 8601, UTC)")
        if name == "export":
            sub.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
            sub.add_argument("--output", type=Path, help="write here instead of stdout")
        sub.set_defaults(handler=run_list if name == "list" else run_export)


def run(args: argparse.Namespace) -> int:
    """`audit` without an action: a usage error (each action has its own handler)."""
    raise UsageError("audit needs an action: verify, why, list or export")


def _ledgers(args: argparse.Namespace) -> list[Ledger]:
    choice = choose_ledgers(args.policy, args.ledger, extend=False)
    if choice.note:
        say(f"note: {choice.note}")
    return build(choice)


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every ledger is sound, 1 naming the first broken entry, 3 if unreadable."""
    from envsecops.ledger.interface import LedgerError

    broken: list[str] = []
    unreadable: list[str] = []
    out: list[str] = []
    for ledger in _ledgers(args):
        try:
            problems = ledger.verify()
            count = sum(1 for _ in ledger.entries()) if not problems else None
        except LedgerError as exc:
            unreadable.append(ledger.name)
            out += [
                f"UNREADABLE {ledger.name}",
                *(f"  {x}" for x in exc.diagnostics().splitlines()),
            ]
            continue
        if not problems:
            out.append(f"ok {ledger.name}: {count:,} entr{'y' if count == 1 else 'ies'}, sound")
            continue
        broken.append(f"{problems[0].where}: {problems[0].message}")
        out.append(f"BROKEN {ledger.name}: {len(problems)} problem(s)")
        out += [f"  {p.where}: {p.message}" for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            out.append(f"  …and {len(problems) - MAX_PROBLEMS_SHOWN} more")
    _emit("".join(_printable(line) + "\n" for line in out))
    if broken:
        say(f"the ledger is not intact; first broken entry: {broken[0]}")
        return int(ExitCode.FINDINGS)
    if unreadable:
        say(f"could not read {', '.join(unreadable)}: nothing about it is verified")
        return int(ExitCode.INFRA)
    return int(ExitCode.OK)


def _records(ledgers: list[Ledger]) -> list[Record]:
    from envsecops.ledger.audit import read_records

    return read_records((ledger.name, ledger.entries()) for ledger in ledgers)


def run_why(args: argparse.Namespace) -> int:
    """One paragraph per decision the identifier names; exit 1 when none or on an anomaly."""
    from envsecops.ledger.audit import explain

    ident = str(args.ident).strip()
    if not ident:
        raise UsageError("audit why needs an access key id, session name or decision id")
    ledgers = _ledgers(args)
    records = _records(ledgers)
    explanations = explain(records, ident)
    if not explanations:
        raise NotFound(
            f"no record in {', '.join(ledger.name for ledger in ledgers)} names "
            f"{_printable(ident)!r} ({len(records)} entries searched for a decision id, access "
            "key id, session name or session ARN): no credential or decision by that name was "
            "recorded there",
            fix="check the identifier and --ledger; `envsecops audit list` shows what is there",
        )
    out: list[str] = []
    for item in explanations:
        out += [*textwrap.wrap(_printable(item.paragraph), 100), "", "Entries read:"]
        out += [
            f"  - {r.entry.kind.value} recorded {r.entry.recorded_at} in {r.where()} "
            f"({r.entry.digest})"
            for r in item.records
        ]
        out += [f"ANOMALY: {_printable(text)}" for text in item.anomalies] + [""]
    _emit("\n".join(out))
    anomalies = sum(len(item.anomalies) for item in explanations)
    if anomalies:
        say(f"{anomalies} anomal{'y' if anomalies == 1 else 'ies'} in the records read (above)")
    return int(ExitCode.FINDINGS if anomalies else ExitCode.OK)


def _filters(args: argparse.Namespace) -> Filters:
    from envsecops.ledger.audit import Filters, parse_time
    from envsecops.model.decision import Verdict

    since = None
    if args.since is not None:
        since = parse_time(args.since)
        if since is None:
            raise UsageError(f"--since {args.since!r} is not an ISO 8601 date or time")
    verdict = Verdict(args.verdict) if args.verdict else None
    return Filters(repository=args.repository, verdict=verdict, since=since)


def _selected(args: argparse.Namespace) -> list[Record]:
    keep = _filters(args).keep
    return [r for r in _records(_ledgers(args)) if keep(r)]


def _problems(records: list[Record]) -> int:
    bad = sum(1 for r in records if r.problem is not None)
    if bad:
        say(f"{bad} entr{'y' if bad == 1 else 'ies'} could not be read as records (see problem)")
    return int(ExitCode.FINDINGS if bad else ExitCode.OK)


def run_list(args: argparse.Namespace) -> int:
    """A line per record: when, kind, verdict, repository, decision, credential, problem."""
    from envsecops.ledger.audit import row

    records = _selected(args)
    columns = ("recorded_at", "kind", "verdict", "repository", "decision_id", "key_id", "problem")
    lines = ["\t".join(columns)]
    lines += ["\t".join(_printable(row(r)[c]) or "-" for c in columns) for r in records]
    _emit("\n".join(lines) + "\n")
    say(f"{len(records)} record(s)")
    return _problems(records)


def run_export(args: argparse.Namespace) -> int:
    """Every selected record as JSON lines (verbatim entries) or CSV (formula-safe cells)."""
    import csv
    import io
    import json

    from envsecops.ledger.audit import COLUMNS, csv_cell, export_line, row

    records = _selected(args)
    buffer = io.StringIO()
    if args.format == "jsonl":
        for record in records:
            buffer.write(json.dumps(export_line(record), sort_keys=True, ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows([csv_cell(row(r)[c]) for c in COLUMNS] for r in records)
    if args.output is None:
        sys.stdout.write(buffer.getvalue())
    else:
        try:
            args.output.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write ({exc.strerror})") from exc
    say(f"exported {len(records)} record(s) as {args.format}")
    return _problems(records)
