"""A GitHub-Actions-like job laid out in the demo's temporary directory, and its environment.

The tree mimics a hosted runner's (``…/work/<repo>/<repo>`` as the workspace holding the
sample repository, ``…/work/_temp`` as ``RUNNER_TEMP``) with empty ``GITHUB_OUTPUT``,
``GITHUB_ENV``, ``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY`` files. The environment it gives
the chain names the job (repository, run, attempt, job, as the issuer's token does), points
``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN`` at the loopback issuer and
``ENVSECOPS_AWS_ENDPOINT_URL`` at moto, and isolates boto3 from any AWS configuration of this
machine (fake keys, no profile, no config or credentials file, no instance metadata), so
nothing the demo does can reach a real cloud. ``GITHUB_ACTIONS`` stays unset: attest, verify
and mint run as local runs (key signing, the workspace policy), with their facts bound by the
issuer's validated token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.creds.endpoints import AWS_ENDPOINT_ENV
from envsecops.demo.issuer import JOB, REPOSITORY, RUN_ATTEMPT, RUN_ID, SHA, WORKFLOW_REF

if TYPE_CHECKING:
    from envsecops.demo.cloud import Cloud
    from envsecops.demo.issuer import Issuer

AMBIENT_AWS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
"""AWS settings of this machine that would steer boto3 elsewhere: unset during the demo."""
RUNNER_FILES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")


@dataclass(frozen=True, slots=True)
class Runner:
    """The job's directories and files, below the demo's temporary directory."""

    home: Path

    @property
    def workspace(self) -> Path:
        """``GITHUB_WORKSPACE``: the checked-out (sample) repository."""
        name = REPOSITORY.split("/")[1]
        return self.home / "work" / name / name

    @property
    def temp(self) -> Path:
        """``RUNNER_TEMP``: the runner files, the ledger and every step's output live here."""
        return self.home / "work" / "_temp"

    @property
    def policy(self) -> Path:
        """The repository's policy file (written by the demo's `policy init`)."""
        return self.workspace / ".github" / "envsecops.yml"

    @property
    def ledger_file(self) -> Path:
        """The file ledger the policy names."""
        return self.temp / "envsecops" / "ledger.jsonl"

    def file(self, variable: str) -> Path:
        """The runner file behind one of :data:`RUNNER_FILES`."""
        return self.temp / "_runner_file_commands" / variable.lower()

    def lay_out(self) -> None:
        """Create the directories and the empty runner files."""
        self.workspace.mkdir(parents=True)
        self.ledger_file.parent.mkdir(parents=True)
        for variable in RUNNER_FILES:
            path = self.file(variable)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

    def isolated(self) -> dict[str, str | None]:
        """The AWS part of the changes: fake keys, no profile, no config file, no metadata.

        Applied before the services start, so that not even the demo's own boto3 clients see
        this machine's AWS configuration.
        """
        from envsecops.demo.cloud import FAKE_KEYS, REGION

        changes: dict[str, str | None] = dict.fromkeys(AMBIENT_AWS)
        changes |= {
            "AWS_ACCESS_KEY_ID": FAKE_KEYS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_KEYS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
        }
        return changes

    def environ(self, issuer: Issuer, cloud: Cloud) -> dict[str, str | None]:
        """Every change to ``os.environ`` for the chain: set (a string) or unset (None)."""
        changes = self.isolated()
        changes |= {variable: str(self.file(variable)) for variable in RUNNER_FILES}
        changes |= {
            "GITHUB_ACTIONS": None,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_RUN_ID": RUN_ID,
            "GITHUB_RUN_ATTEMPT": RUN_ATTEMPT,
            "GITHUB_JOB": JOB,
            "GITHUB_SHA": SHA,
            "GITHUB_WORKFLOW_REF": WORKFLOW_REF,
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
            **issuer.environ(),
            AWS_ENDPOINT_ENV: cloud.endpoint,
        }
        return changes
