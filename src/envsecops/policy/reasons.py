"""The stable reason codes a decision can carry, one per check, each with a one-line meaning.

A `Reason` (model.decision) is ``code`` + ``subject`` (the component, claim, file or rule it
names) + ``message`` (what was found, which policy line said otherwise, and the fix).
docs/verify.md has a section per code; a test keeps the two in step.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # 1. the attestation: signature, signer, statement
    "attestation.unreadable": "the attestation or bag.json file cannot be read or parsed",
    "attestation.signature": "the signature or the signer identity did not verify",
    "attestation.predicate": "the statement's payload or predicate type is not the bag predicate",
    "attestation.subject": "the statement's subject is not the sha256 of the bag.json given",
    # 2. the binding to this job
    "binding.repository": "the attestation was made in another repository",
    "binding.run": "the attestation was made in another workflow run",
    "binding.attempt": "the attestation was made in another attempt of this run",
    "binding.job": "the attestation was made in another job",
    "binding.workflow": "the attestation was made by another workflow",
    "binding.nonce": "the nonce is not the one this job's attest step produced",
    "binding.unknown": "a binding fact the check needs is unknown on one side",
    "binding.age": "the attestation is older than max-attestation-age (or from the future)",
    # 3. drift
    "drift.env-hash": "a fresh inventory differs from the attested bag",
    "drift.inventory": "the fresh inventory could not be taken",
    # 4. the policy
    "policy.missing": "there is no policy file",
    "policy.invalid": "the policy file cannot be loaded (syntax, unknown key, wrong type)",
    "policy.fetch": "the policy could not be read from the default branch through the GitHub API",
    "policy.empty": "the policy allows nothing: an empty allowlist is a deny, never allow-all",
    "runner.environment": "the runner environment (github-hosted, self-hosted) is not allowed",
    "runner.image": "the runner image (ImageOS and version) is not allowed",
    "runner.os": "the operating system (os-release ID and version) is not allowed",
    "runner.arch": "the CPU architecture is not allowed",
    "runner.container": "the job runs in a container image the policy does not allow",
    "runner.mismatch": "an environment variable disagrees with the signed OIDC claim or the "
    "runner image file it should echo",
    "component.problem": "a component could not be read or digested (unreadable, vanished, "
    "changed while hashing, special file, symlink loop or escape)",
    "cataloger.failed": "a cataloger failed, so the bag is incomplete",
    "binary.unlisted": "a binary on PATH is not in `binaries`",
    "binary.digest": "a listed binary has a digest the policy does not allow",
    "binary.path-entry": "a PATH entry is relative (the working directory), writable by others, "
    "not a directory, or PATH is unset",
    "toolchain.unlisted": "a tool-cache tool or version is not in `tool-cache`",
    "toolchain.digest": "a tool-cache tree has a digest the policy does not allow",
    "package.unlisted": "a package matches no `packages.allow` rule",
    "package.denied": "a package matches a `packages.deny` rule",
    "package.version": "a package's version is outside the range its allow rule gives",
    "config.unlisted": "a config file is not in `configs`",
    "config.digest": "a listed config file has a digest the policy does not allow",
    "env.forbidden": "a forbidden environment variable is set",
    "env.value": "an allowed risky variable has a value the policy does not allow",
    "action.unlisted": "a downloaded action is not in `actions`",
    "action.sha": "a downloaded action is at a commit the policy does not allow",
    "action.unpinned": "a downloaded action was referenced by a tag or branch, not a full SHA",
    "action.pin-findings": "a downloaded action's own files hold unpinned references",
    "sbom.denied": "a component matches an `sbom.deny` gate",
    "pins.finding": "pin-check reported a finding that no `pins.exceptions` entry accepts",
    "reasons.truncated": "more reasons than a decision keeps; counts by code are given",
    # the decision itself
    "decision.unsigned": "the decision could not be signed, so it cannot allow anything",
}
MAX_REASONS = 5_000
"""Reasons kept in one decision; the rest are summarised by one `reasons.truncated` reason."""
