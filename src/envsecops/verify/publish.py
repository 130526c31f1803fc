"""Write what verify decided: decision.json, its signed statement, drift.json and policy.yml.

``policy.yml`` is the exact text of the policy the decision rests on (fetched from the
default branch, or read from disk): record-decision reads its `ledger:` section and mint-creds
its `credentials:` section from it, after checking that it hashes to the signed decision's
policy_id, so a later step cannot swap the policy those stages follow.

The decision is signed before anything is written, so an allow never lies on disk unsigned:
when signing fails, ``decision.json`` is written as a deny carrying ``decision.unsigned`` and
no signed file is left beside it (a stale one from an earlier run is removed, so it cannot be
paired with the new decision). Every file is written atomically (temp file, fsync, rename).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.attest.outputs import write_atomic
from envsecops.canonical import canonical_json
from envsecops.model.decision import Decision
from envsecops.verify.attestation import explain
from envsecops.verify.decision import DECISION_FILE, DECISION_STEM, decision_bytes, unsigned

if TYPE_CHECKING:
    from envsecops.attest.interface import Signer
    from envsecops.model.bag import BagDiff

DRIFT_FILE = "drift.json"
POLICY_FILE = "policy.yml"
SIGNED_SUFFIXES = (".dsse.json", ".sigstore.json")


@dataclass(frozen=True, slots=True)
class Published:
    """What was written: the final decision and the absolute paths of the files."""

    decision: Decision
    decision_path: Path
    attestation_path: Path | None  # None when the decision could not be signed
    drift_path: Path | None
    signer: str | None
    signing_error: str | None
    policy_path: Path | None = None


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return  # a leftover that cannot be removed does not verify against the new decision


def publish(
    decision: Decision,
    drift: BagDiff | None,
    out_dir: Path,
    build_signer: Callable[[], Signer],
    policy_text: str | None = None,
) -> Published:
    """Sign the decision, then write drift.json, policy.yml, decision.json and the signed
    statement."""
    from envsecops.attest.statement import PAYLOAD_TYPE, statement_bytes
    from envsecops.verify.decision import decision_statement

    drift_path = out_dir / DRIFT_FILE
    if drift is not None:
        write_atomic(drift_path, canonical_json(drift.to_json()))
    else:
        _remove(drift_path)
    policy_path: Path | None = None
    if policy_text is not None and decision.policy_id:
        policy_path = out_dir / POLICY_FILE
        write_atomic(policy_path, policy_text.encode("utf-8", "surrogateescape"))
    else:
        _remove(out_dir / POLICY_FILE)
    content = decision_bytes(decision)
    try:
        signer = build_signer()
        signed = signer.sign(PAYLOAD_TYPE, statement_bytes(decision_statement(decision, content)))
    except Exception as exc:  # noqa: BLE001 - an unsigned decision allows nothing; exit 3
        why = f"the decision could not be signed: {explain(exc)}"
        final = unsigned(decision, why)
        for suffix in SIGNED_SUFFIXES:
            _remove(out_dir / f"{DECISION_STEM}{suffix}")
        path = out_dir / DECISION_FILE
        write_atomic(path, decision_bytes(final))
        return Published(final, path, None, drift_path if drift else None, None, why, policy_path)
    path = out_dir / DECISION_FILE
    attestation_path = out_dir / f"{DECISION_STEM}{signed.suffix}"
    for suffix in SIGNED_SUFFIXES:
        if suffix != signed.suffix:
            _remove(out_dir / f"{DECISION_STEM}{suffix}")
    write_atomic(path, content)
    write_atomic(attestation_path, signed.content)
    return Published(
        decision,
        path,
        attestation_path,
        drift_path if drift else None,
        signed.signer,
        None,
        policy_path,
    )
