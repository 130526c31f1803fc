"""The demo's mint-creds runs: mint on the allow through moto's two hops; refuse on the deny.

On the allow, `envsecops mint` exchanges the issuer's token for the gate role's session, then
assumes the target role with the session tags (env hash, policy id, decision id) and the
decision id as source identity; the demo then proves the exported credentials work by calling
GetCallerIdentity with them itself. On the deny, mint must refuse before any provider call: moto
issues no session and the issuer serves no token for STS's audience.
"""

from __future__ import annotations

import io
import json
import shlex
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from envsecops.demo.outcome import Verdict
from envsecops.errors import ExitCode

if TYPE_CHECKING:
    from envsecops.demo.attest_step import Attested
    from envsecops.demo.cloud import Cloud
    from envsecops.demo.issuer import Issuer
    from envsecops.model.decision import Decision

STS_AUDIENCE = "sts.amazonaws.com"
STAMPS = ("env_hash", "policy_id", "decision_id")
"""The session tags every minted AWS session must carry, each the decision's own value."""


@dataclass(frozen=True, slots=True)
class Minted:
    """What the allow's mint produced: the expectations checked, and the key id (None: failed)."""

    verdicts: list[Verdict]
    key_id: str | None


def _mint(
    attested: Attested, decision_dir: Path, out: Path, issuer: Issuer, stream: TextIO
) -> tuple[int, str]:
    """`envsecops mint` in-process for the decision in ``decision_dir``: exit code and output
    (also written to ``stream``)."""
    from envsecops.cli.main import main

    stream.write(
        f"$ envsecops mint --decision {decision_dir.name}/decision.json --bag bag.json "
        f"--key {attested.key.private_path.name} --no-syft --oidc-issuer {issuer.url} "
        f"--out {out.name}\n"
    )
    argv = ["mint", "--decision", str(decision_dir / "decision.json"), "--bag", str(attested.bag)]
    argv += ["--key", str(attested.key.private_path), "--no-syft", "--oidc-issuer", issuer.url]
    argv += ["--out", str(out)]
    captured = io.StringIO()
    with redirect_stdout(captured), redirect_stderr(captured):
        code = main(argv)
    stream.write(captured.getvalue())
    return code, captured.getvalue()


def run_mint_stage(
    attested: Attested,
    decision: Decision,
    decision_dir: Path,
    out: Path,
    services: tuple[Issuer, Cloud],
    stream: TextIO,
) -> Minted:
    """Mint on the allow decision; check the two hops, the stamps, and the credentials work."""
    issuer, cloud = services
    stream.write(
        "\nStage 4, mint-creds: the allow is exchanged for short-lived AWS credentials "
        f"(moto on {cloud.endpoint}: web identity -> gate role -> tagged target role)\n"
    )
    before = cloud.sessions_issued()
    code, _text = _mint(attested, decision_dir, out, issuer, stream)
    hops = cloud.sessions_issued() - before
    if code != ExitCode.OK:
        verdict = Verdict(False, f"mint on the allow exited {code}, not 0: nothing was minted")
        return _shown(Minted([verdict], None), stream)
    try:
        record = json.loads((out / "credential.json").read_bytes())
        exports = _exports(out / "credentials.env")
    except (OSError, ValueError) as exc:
        verdict = Verdict(False, f"mint exited 0 but its files cannot be read: {exc}")
        return _shown(Minted([verdict], None), stream)
    verdicts = [
        _expect_stamped(record, decision, hops, cloud),
        _expect_usable(exports, record, cloud),
    ]
    key_id = record.get("key_id") if isinstance(record.get("key_id"), str) else None
    return _shown(Minted(verdicts, key_id), stream)


def _shown(minted: Minted, stream: TextIO) -> Minted:
    stream.write("\nWhat mint-creds was expected to do:\n")
    for verdict in minted.verdicts:
        stream.write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")
    return minted


def _exports(path: Path) -> dict[str, str]:
    """The ``export NAME='value'`` lines mint wrote outside Actions (mode 0600)."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def _expect_stamped(record: dict[str, Any], decision: Decision, hops: int, cloud: Cloud) -> Verdict:
    found = record.get("tags")
    tags: dict[str, Any] = found if isinstance(found, dict) else {}
    wanted = {"env_hash": decision.env_hash, "policy_id": decision.policy_id}
    wanted["decision_id"] = decision.decision_id
    wrong = [name for name in STAMPS if tags.get(name) != wanted[name]]
    if wrong:
        return Verdict(False, f"the minted session lacks the decision's tags: {', '.join(wrong)}")
    if record.get("source_identity") != decision.decision_id:
        return Verdict(False, "the minted session's source identity is not the decision id")
    if record.get("role") != cloud.target_arn:
        return Verdict(False, f"the credential is for {record.get('role')}, not the target role")
    if hops != 2:
        return Verdict(False, f"moto issued {hops} session(s) for the mint, not the two hops")
    return Verdict(
        True,
        f"minted {record.get('key_id')} for {cloud.target_name} through two hops "
        f"(AssumeRoleWithWebIdentity on the gate role, then AssumeRole), tagged "
        f"{', '.join(STAMPS)} and with source identity {decision.decision_id}, "
        f"expiring {record.get('expires_at')}",
    )


def _expect_usable(exports: dict[str, str], record: dict[str, Any], cloud: Cloud) -> Verdict:
    """GetCallerIdentity with the exported credentials names the minted session."""
    from botocore.exceptions import BotoCoreError, ClientError

    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    missing = [name for name in names if not exports.get(name)]
    if missing:
        return Verdict(False, f"credentials.env does not export {', '.join(missing)}")
    if exports["AWS_ACCESS_KEY_ID"] != record.get("key_id"):
        return Verdict(False, "credentials.env exports another key than credential.json names")
    try:
        sts = cloud.sts(
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=exports["AWS_SESSION_TOKEN"],
        )
        identity = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        return Verdict(False, f"GetCallerIdentity with the minted credentials failed: {exc}")
    arn = identity.get("Arn")
    if arn != record.get("session_arn"):
        return Verdict(False, f"GetCallerIdentity names {arn}, not the minted session")
    return Verdict(
        True,
        f"the exported credentials work: GetCallerIdentity with them answers {arn} "
        f"(account {identity.get('Account')}); the secret was never printed",
    )


def run_refused_mint(
    attested: Attested,
    decision_dir: Path,
    out: Path,
    services: tuple[Issuer, Cloud],
    stream: TextIO,
) -> Verdict:
    """Mint on the deny decision: refused (exit 1), no STS call, no credential written."""
    issuer, cloud = services
    stream.write("\nmint-creds is asked anyway, with the deny decision:\n")
    sessions, tokens = cloud.sessions_issued(), issuer.served[STS_AUDIENCE]
    code, text = _mint(attested, decision_dir, out, issuer, stream)
    calls = cloud.sessions_issued() - sessions
    asked = issuer.served[STS_AUDIENCE] - tokens
    written = [name for name in ("credential.json", "credentials.env") if (out / name).exists()]
    if code != ExitCode.FINDINGS:
        verdict = Verdict(False, f"mint on the deny exited {code}, not 1 (refused)")
    elif "refused (decision.deny)" not in text:
        verdict = Verdict(False, "mint exited 1 but did not say it refused a deny")
    elif calls or asked:
        verdict = Verdict(
            False,
            f"mint refused, but moto issued {calls} session(s) and the issuer served {asked} "
            f"token(s) for {STS_AUDIENCE}",
        )
    elif written:
        verdict = Verdict(False, f"mint refused, but wrote {', '.join(written)}")
    else:
        verdict = Verdict(
            True,
            "mint refused the deny (exit 1, decision.deny): no token for "
            f"{STS_AUDIENCE} was requested, moto issued no session, no credential was written",
        )
    stream.write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")
    return verdict
