"""`envsecops record`: append a decision to every configured ledger and tell the humans."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsecops.cli.audit import add_ledger_arguments, build, choose_ledgers, say
from envsecops.errors import ExitCode, InputError, UsageError
from envsecops.model.ledger import EntryKind

if TYPE_CHECKING:
    from envsecops.ledger.interface import Receipt
    from envsecops.model.bag import BagDiff
    from envsecops.model.decision import Credential, Decision

MAX_INPUT_BYTES = 16 * 1024 * 1024
OUTPUT_NAMES = ("ledger-receipts", "digest")
"""The step outputs: ``ledger-receipts`` always, ``digest`` only when every ledger recorded."""
CREDENTIAL_KEYS = frozenset(
    {"provider", "role", "session_name", "key_id", "expires_at", "tags"}
    | {"source_identity", "session_arn"}
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `record`."""
    parser = subparsers.add_parser(
        "record",
        help="append a decision to every configured ledger; job summary and annotations",
        description="Record a decision (and what was minted under it) in every configured "
        "ledger. Exit 0 when recorded, 1 when recorded but the decision is a deny in enforce "
        "mode, 2 for a bad input, 3 when any ledger did not record it.",
    )
    parser.add_argument("--decision", type=Path, required=True, help="decision JSON (verify-bag)")
    parser.add_argument("--credential", type=Path, help="credential JSON (mint-issued only)")
    parser.add_argument("--drift", type=Path, help="bag diff JSON (added/removed/changed)")
    parser.add_argument("--pin-report", type=Path, help="pin-check JSON report (--format json)")
    parser.add_argument(
        "--kind", choices=[k.value for k in EntryKind], default=EntryKind.DECISION.value
    )
    parser.add_argument("--error", help="what failed (mint-failed entries only)")
    add_ledger_arguments(parser)
    parser.set_defaults(handler=run)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """One strict JSON object from ``path`` (no duplicate keys, no NaN); InputError otherwise."""
    from envsecops.attest.encoding import EncodingError, load_json_object

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror or exc}", path=str(path)) from exc
    try:
        return load_json_object(data, f"the {what}", max_bytes=MAX_INPUT_BYTES)
    except EncodingError as exc:
        raise InputError(exc.message, path=str(path)) from exc


@dataclass(frozen=True, slots=True)
class Inputs:
    """The validated inputs of one `record` run."""

    kind: EntryKind
    decision: Decision
    credential: Credential | None
    drift: BagDiff | None
    pin_check: Mapping[str, Any] | None
    error: str | None


def load_inputs(args: argparse.Namespace) -> Inputs:
    """Read and validate every input file; any defect is an InputError naming the file."""
    from envsecops.model.bag import BagDiff, ModelError
    from envsecops.model.decision import Decision
    from envsecops.report.decision_summary import pin_check_counts

    kind = EntryKind(args.kind)
    if (kind is EntryKind.MINT_ISSUED) != (args.credential is not None):
        raise UsageError("--credential is required for --kind mint-issued and only for it")
    if (kind is EntryKind.MINT_FAILED) != (args.error is not None):
        raise UsageError("--error is required for --kind mint-failed and only for it")
    if kind is EntryKind.DRIFT and args.drift is None:
        raise UsageError("--kind drift needs --drift (the bag diff)")
    parsed: dict[str, Any] = {}
    for name, path, parse in (
        ("decision", args.decision, Decision.from_json),
        ("credential", args.credential, _credential),
        ("drift", args.drift, BagDiff.from_json),
        ("pin-check report", args.pin_report, pin_check_counts),
    ):
        if path is None:
            continue
        try:
            parsed[name] = parse(read_json(path, f"{name} file"))
        except ModelError as exc:
            raise InputError(f"not a valid {name}: {exc}", path=str(path)) from exc
    decision: Decision = parsed["decision"]
    _check_decision(decision, str(args.decision))
    credential: Credential | None = parsed.get("credential")
    identity = credential.source_identity if credential else None
    if identity is not None and identity != decision.decision_id:
        raise InputError(
            f"the credential's source identity {identity!r} names another decision than "
            f"{decision.decision_id!r}",
            path=str(args.credential),
        )
    return Inputs(
        kind, decision, credential, parsed.get("drift"), parsed.get("pin-check report"), args.error
    )


def _credential(data: dict[str, Any]) -> Credential:
    from envsecops.model.bag import ModelError
    from envsecops.model.decision import Credential

    extra = sorted(set(data) - CREDENTIAL_KEYS)
    if extra:
        raise ModelError(
            f"unexpected field(s) {', '.join(extra)}: a credential record holds only "
            f"{', '.join(sorted(CREDENTIAL_KEYS))}, never a secret or session token; "
            "nothing was recorded, and the file should be deleted if it holds one"
        )
    return Credential.from_json(data)


def _check_decision(decision: Decision, path: str) -> None:
    from envsecops.canonical import is_digest
    from envsecops.ledger.audit import parse_time
    from envsecops.model.decision import Verdict

    problems = []
    if not decision.decision_id.strip() or not decision.decision_id.isprintable():
        problems.append("`decision_id` must be a non-empty printable string")
    for name in ("issued_at", "expires_at"):
        if parse_time(getattr(decision, name)) is None:
            problems.append(f"`{name}` is not an ISO 8601 time")
    if decision.verdict is Verdict.ALLOW:
        for name in ("env_hash", "attestation_digest"):
            if not is_digest(getattr(decision, name)):
                problems.append(f"an allow needs `{name}` as sha256:<64 hex>")
        if not decision.policy_id:
            problems.append("an allow needs a `policy_id`")
    if problems:
        raise InputError("not a valid decision: " + "; ".join(problems), path=path)


def run(args: argparse.Namespace) -> int:
    """Record; exit 0, 1 (recorded deny in enforce mode), 2 (bad input) or 3 (not recorded)."""
    from envsecops.ledger.audit import record_body, record_digest
    from envsecops.ledger.registry import PartialWrite, append_all
    from envsecops.model.decision import Mode, Verdict

    inputs = load_inputs(args)
    choice = choose_ledgers(args.policy, args.ledger, extend=True)
    ledgers = build(choice)
    decision = inputs.decision
    body = record_body(
        decision,
        credential=inputs.credential,
        drift=inputs.drift,
        pin_check=inputs.pin_check,
        error=inputs.error,
    )
    receipts: list[Receipt] = []
    failures: list[tuple[str, str]] = []
    try:
        receipts = append_all(ledgers, inputs.kind, body)
    except PartialWrite as exc:
        receipts = list(exc.recorded)
        failures.append((exc.failed, exc.diagnostics()))
        done = {exc.failed, *(r.ledger for r in receipts)}
        failures += [
            (ledger.name, f"not attempted after {exc.failed} failed")
            for ledger in ledgers
            if ledger.name not in done
        ]
    _report(inputs, receipts, failures, record_digest(inputs.kind, body), choice.note)
    if failures:
        held = ", ".join(r.ledger for r in receipts)
        say(
            f"error: recorded only in {held}; NOT in {', '.join(n for n, _ in failures)}"
            if receipts
            else "error: nothing was recorded: no configured ledger holds this entry"
        )
        for line in failures[0][1].splitlines():
            say(f"  {line.strip()}")
        say("the step fails: a decision that is not recorded everywhere the policy asks is void")
        return int(ExitCode.INFRA)
    denied = decision.verdict is Verdict.DENY and decision.mode is Mode.ENFORCE
    return int(ExitCode.FINDINGS if denied else ExitCode.OK)


def _report(
    inputs: Inputs,
    receipts: list[Receipt],
    failures: list[tuple[str, str]],
    digest: str,
    note: str | None,
) -> None:
    """Receipts on stdout; in Actions also annotations, the job summary and the outputs."""
    from envsecops.gh.commands import AnnotationLevel, annotation, stop_commands

    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    decision = inputs.decision
    if note:
        say(f"note: {note}")
    if in_actions:
        from envsecops.report.decision_summary import annotation_lines

        lines = annotation_lines(decision, failures)
        if note:
            lines.append(annotation(AnnotationLevel.WARNING, note, title="envsecops record"))
        sys.stdout.write("".join(line + "\n" for line in lines))
    state = "recorded" if not failures else "NOT fully recorded"
    text = (
        f"{state}: {inputs.kind.value} entry for decision {decision.decision_id} "
        f"({decision.verdict.value}, {decision.mode.value} mode), record {digest}\n"
    )
    text += "".join(
        f"  {r.ledger}  seq {r.seq if r.seq is not None else '-'}  {r.digest}  {r.location}\n"
        for r in receipts
    )
    text += "".join(f"  NOT recorded in {name}: {error}\n" for name, error in failures)
    safe = text.encode("utf-8", "replace").decode("utf-8")
    sys.stdout.write(stop_commands(safe) if in_actions else safe)
    sys.stdout.flush()
    if in_actions and os.environ.get("GITHUB_STEP_SUMMARY"):
        _summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), inputs, receipts, failures)
    if in_actions and os.environ.get("GITHUB_OUTPUT"):
        from envsecops.gh.commands import set_output

        output = Path(os.environ["GITHUB_OUTPUT"])
        rows = [
            {"ledger": r.ledger, "location": r.location, "seq": r.seq, "digest": r.digest}
            for r in receipts
        ]
        values = {"ledger-receipts": json_line(rows)}
        if not failures:
            values["digest"] = digest
        for name in OUTPUT_NAMES:
            if name in values:
                set_output(output, name, values[name])


def _summary(
    path: Path, inputs: Inputs, receipts: list[Receipt], failures: list[tuple[str, str]]
) -> None:
    from envsecops import __version__
    from envsecops.gh.commands import append_step_summary
    from envsecops.report.decision_summary import Recorded, render_summary

    recorded = Recorded(
        kind=inputs.kind,
        decision=inputs.decision,
        receipts=tuple(receipts),
        failures=tuple(failures),
        credential=inputs.credential,
        drift=inputs.drift,
        pin_check=inputs.pin_check,
        error=inputs.error,
        version=__version__,
    )
    written = append_step_summary(path, render_summary(recorded))
    if written.truncated:
        say(f"the job summary was truncated ({written.omitted} bytes left out) to stay under 1 MiB")


def json_line(value: Any) -> str:
    """Compact, key-sorted JSON on one line."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
