"""`pin-comment-mismatch`: with `--online`, a SHA pin whose `# vX` comment names another commit."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Rule

PIN_COMMENT_MISMATCH = Rule(
    id="pin-comment-mismatch",
    title="Version comment does not match the pinned commit",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    help="A `uses: owner/repo@<sha> # v4.2.1` comment tells reviewers which release runs, but "
    "the tag it names resolves (through the GitHub API, with `--online`) to another commit, or "
    "does not exist. Reviewers then approve one version while another runs. Pin the commit the "
    "tag names, or correct the comment (`envsecops pin-check --fix` writes both).",
)

RULES = (PIN_COMMENT_MISMATCH,)
