"""Decision facts the decision, decision-text and keyless-decision tests build decisions from."""

from __future__ import annotations

from envsecops.model.decision import Mode, Principal
from envsecops.verify.decision import DecisionFacts


def sample_facts(
    *, policy_source: str = "default-branch", repository: str = "o/r"
) -> DecisionFacts:
    """An enforced decision's facts for job ``REPOSITORY/1/1/deploy``, its principal from OIDC."""
    return DecisionFacts(
        mode=Mode.ENFORCE,
        env_hash="sha256:" + "a" * 64,
        policy_id="p@sha256:0123456789ab",
        policy_source=policy_source,
        attestation_digest="sha256:" + "b" * 64,
        principal=Principal.from_claims({"repository": repository}, "oidc"),
        job=f"{repository}/1/1/deploy",
        max_age=600,
    )
