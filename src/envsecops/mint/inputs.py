"""The files verify wrote, read back for minting: decision.json, its signature, policy.yml.

The decision is trusted only through its signed statement (:func:`verify_decision`): the
signature and signer, the in-toto subject (the exact bytes of decision.json) and the predicate
(the same decision). A decision that verify could not sign says so (``decision.unsigned``) and
is refused as such; a missing or altered signature is ``decision.signature``. An unreadable
file is bad input (exit 2), naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import InputError, UsageError
from envsecops.mint.preconditions import Refused
from envsecops.model.decision import Decision
from envsecops.verify.attestation import explain
from envsecops.verify.decision import DECISION_STEM, MAX_DECISION_BYTES

if TYPE_CHECKING:
    from envsecops.attest.interface import Verifier
    from envsecops.policy.model import Policy

SIGNED_SUFFIX = {"key": ".dsse.json", "sigstore": ".sigstore.json"}
POLICY_FILE = "policy.yml"
MAX_SIGNED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DecisionFiles:
    """decision.json, its signed statement, and the policy text it rests on."""

    decision: Path
    attestation: Path
    policy: Path

    @classmethod
    def beside(
        cls, decision: Path, attestation: Path | None, policy: Path | None, signer: str
    ) -> DecisionFiles:
        """Fill in what was not given from the files verify writes beside the decision."""
        folder = decision.parent
        return cls(
            decision=decision,
            attestation=attestation or folder / f"{DECISION_STEM}{SIGNED_SUFFIX[signer]}",
            policy=policy or folder / POLICY_FILE,
        )


def _read(path: Path, limit: int, what: str) -> bytes | None:
    """The file's bytes, None when it does not exist; InputError when it cannot be read."""
    try:
        if path.exists() and not path.is_file():
            raise OSError(0, "not a regular file")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror or exc}", path=str(path)) from exc
    if len(data) > limit:
        raise InputError(f"the {what} exceeds {limit:,} bytes", path=str(path))
    return data


def _says_unsigned(decision_json: bytes) -> bool:
    """Whether the (unverified) decision carries ``decision.unsigned``: verify could not sign."""
    import json

    try:
        data = json.loads(decision_json)
        reasons = data.get("reasons") if isinstance(data, dict) else None
        return isinstance(reasons, list) and any(
            isinstance(r, dict) and r.get("code") == "decision.unsigned" for r in reasons
        )
    except (ValueError, UnicodeDecodeError):
        return False


def read_decision(files: DecisionFiles, build_verifier: Callable[[], Verifier]) -> Decision:
    """The decision, after its signed statement verified; Refused or InputError otherwise."""
    from envsecops.verify.decision import verify_decision

    decision_json = _read(files.decision, MAX_DECISION_BYTES, "decision file")
    if decision_json is None:
        raise InputError(
            "there is no decision file",
            path=str(files.decision),
            fix="pass the `decision` output of this job's verify step (decision.json)",
        )
    if _says_unsigned(decision_json):
        raise Refused(
            "decision.unsigned",
            f"{files.decision} says verify could not sign it, so it allows nothing",
            fix="fix the signer (see the verify step's error) and verify again",
        )
    content = _read(files.attestation, MAX_SIGNED_BYTES, "signed decision")
    if content is None:
        raise Refused(
            "decision.signature",
            f"there is no signed statement {files.attestation} for {files.decision}: an "
            "unsigned decision allows nothing",
            fix="pass the `decision-attestation` output of the verify step",
        )
    try:
        verifier = build_verifier()
    except (UsageError, InputError):
        raise
    except Exception as exc:  # a verifier that cannot be built verifies nothing
        raise Refused(
            "decision.signature", f"the decision's signature cannot be checked: {explain(exc)}"
        ) from exc
    try:
        return verify_decision(content, decision_json, verifier)
    except Exception as exc:  # untrusted bytes: every failure is a refusal
        raise Refused(
            "decision.signature",
            f"{files.attestation} does not verify {files.decision}: {explain(exc)}",
            fix="use the decision files exactly as this job's verify step wrote them, and the "
            "key (or signer identity) that verify signed with",
        ) from exc


def load_policy(path: Path) -> Policy:
    """The policy text the decision rests on; InputError (exit 2) naming file and line."""
    from envsecops.policy.load import load_policy_file

    return load_policy_file(path)
