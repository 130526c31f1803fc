"""Render the cloud trust configuration for the gate workflow from the jinja2 templates.

AWS: the gate role's trust policy (GitHub's OIDC provider; ``aud``; ``sub`` in the legacy and the
immutable form, customised to end in ``job_workflow_ref``; the ``job_workflow_ref`` and
``repository_id`` condition keys), the gate role's permissions (only assume the target, tagged)
and the target role's trust policy (only the gate role, only with the ``env_hash`` and
``policy_id`` session tags and a source identity). GCP: the Workload Identity Federation
provider's attribute mapping and CEL attribute condition, and the gcloud commands. Every value
enters a template through an escaping filter (``tojson``, ``cel``, ``sh``), and every JSON
document is parsed back before it is returned, so a template bug cannot emit invalid JSON.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from envsecops.trust.inputs import GITHUB_ISSUER_HOST, GITHUB_ISSUER_URI, GateWorkflow, Repo

if TYPE_CHECKING:
    import jinja2

FORMAT_VERSION = "envsecops.trust-policy/v1"
INCLUDE_CLAIM_KEYS = ("repo", "context", "job_workflow_ref")
TRUST_POLICY_DEFAULT_LIMIT = 2048
SESSION_TAG_KEYS = ("env_hash", "policy_id", "decision_id")
"""The tags mint-creds sets on the target session (``creds.aws_names.TAG_KEYS``)."""


@dataclass(frozen=True, slots=True)
class AwsRequest:
    """Validated inputs for the AWS policies."""

    gate: GateWorkflow
    repos: tuple[Repo, ...]
    account_id: str
    oidc_provider_arn: str
    partition: str
    gate_role_name: str
    target_role_arn: str
    audience: str

    @property
    def gate_role_arn(self) -> str:
        """The gate role's ARN."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.gate_role_name}"


@dataclass(frozen=True, slots=True)
class GcpRequest:
    """Validated inputs for the Workload Identity Federation provider."""

    gate: GateWorkflow
    repos: tuple[Repo, ...]
    project_number: str
    pool: str
    provider: str
    service_account: str | None = None

    @property
    def pool_resource(self) -> str:
        """``projects/N/locations/global/workloadIdentityPools/POOL``."""
        return f"projects/{self.project_number}/locations/global/workloadIdentityPools/{self.pool}"


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One rendered artefact: file name, a heading for the terminal, the text."""

    name: str
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """What `trust-policy` prints or writes: files, one JSON document, and notes for humans."""

    files: tuple[OutputFile, ...]
    document: dict[str, Any]
    notes: tuple[str, ...] = field(default=())


def _tojson(value: object) -> str:
    """JSON-encode a value for a JSON template (ASCII only: no bidi or control characters)."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def _cel(value: object) -> str:
    """A CEL double-quoted string literal (double quotes keep the shell-quoted command readable)."""
    text = str(value)
    if any(not c.isprintable() or ord(c) > 0x7E for c in text):
        raise ValueError(f"refusing a non-printable or non-ASCII value in CEL: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("envsecops", "templates"),
        autoescape=False,  # noqa: S701 - JSON/CEL/shell: every value goes through a filter
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["tojson"] = _tojson
    environment.filters["cel"] = _cel
    environment.filters["sh"] = shlex.quote
    return environment


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"template produced a duplicate JSON key {key!r}")
        result[key] = value
    return result


def render_text(template: str, **context: Any) -> str:
    """Render one template from the package's `templates/`."""
    return _environment().get_template(template).render(**context)


def render_json(template: str, **context: Any) -> dict[str, Any]:
    """Render a JSON template and parse it back (duplicate keys refused)."""
    parsed = json.loads(render_text(template, **context), object_pairs_hook=_no_duplicates)
    if not isinstance(parsed, dict):
        raise ValueError(f"{template} did not render a JSON object")
    return parsed


def json_text(document: object) -> str:
    """The stable text form of a rendered JSON document."""
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def aws_subjects(gate: GateWorkflow, repos: tuple[Repo, ...]) -> list[str]:
    """``sub`` patterns: both forms per repository, customised to end in ``job_workflow_ref``.

    With ``include_claim_keys`` = repo, context, job_workflow_ref GitHub issues
    ``repo:OWNER/REPO:<context>:job_workflow_ref:<ref>`` (``:`` inside a context value is
    sent as ``%3A``, so the ``*`` cannot swallow a forged ``:job_workflow_ref:`` part).
    """
    tail = f":*:job_workflow_ref:{gate.job_workflow_ref}"
    subjects: list[str] = []
    for repo in repos:
        subjects.append(f"repo:{repo.owner}/{repo.name}{tail}")
        if repo.repo_id:
            owner = f"{repo.owner}@{repo.owner_id or '*'}"
            subjects.append(f"repo:{owner}/{repo.name}@{repo.repo_id}{tail}")
    return subjects


def _common_notes(gate: GateWorkflow, repos: tuple[Repo, ...]) -> list[str]:
    notes: list[str] = []
    if not gate.pinned_to_commit:
        notes.append(
            f"warning: the gate workflow is trusted at {gate.ref}, which anyone who can push "
            "to it can move; pin --gate-workflow to a full commit SHA"
        )
    if not all(r.repo_id for r in repos):
        notes.append(
            "warning: no repository ids given: a repository deleted and re-created under the "
            "same name (or a renamed one's old name) would be trusted; pass OWNER/REPO@ID"
        )
    return notes


def _claim_keys_document() -> dict[str, Any]:
    return {
        "include_claim_keys": list(INCLUDE_CLAIM_KEYS),
        "org_api": "PUT /orgs/{org}/actions/oidc/customization/sub",
        "repo_api": "PUT /repos/{owner}/{repo}/actions/oidc/customization/sub",
        "repo_opt_in": {"use_default": False},
    }


def render_aws(request: AwsRequest) -> Rendered:
    """The gate trust policy, the gate permissions and the target trust policy."""
    subjects = aws_subjects(request.gate, request.repos)
    ids = [r.repo_id for r in request.repos if r.repo_id]
    context = {
        "issuer": GITHUB_ISSUER_HOST,
        "provider_arn": request.oidc_provider_arn,
        "audience": request.audience,
        "job_workflow_ref": request.gate.job_workflow_ref,
        "repository_ids": ids,
        "subjects": subjects,
        "gate_role_arn": request.gate_role_arn,
        "target_role_arn": request.target_role_arn,
        "tag_keys": list(SESSION_TAG_KEYS),
    }
    gate_trust = render_json("aws-gate-trust-policy.json.j2", **context)
    gate_permissions = render_json("aws-gate-permissions-policy.json.j2", **context)
    target_trust = render_json("aws-target-trust-policy.json.j2", **context)
    notes = _common_notes(request.gate, request.repos)
    size = len(json.dumps(gate_trust, separators=(",", ":")))
    if size > TRUST_POLICY_DEFAULT_LIMIT:
        notes.append(
            f"warning: the gate trust policy is {size} characters without whitespace; IAM's "
            f"default role trust policy limit is {TRUST_POLICY_DEFAULT_LIMIT} (a quota increase "
            "allows more), or split the repositories over several gate roles"
        )
    notes.append(
        "the gate trust policy needs the OIDC subject customised to include_claim_keys "
        f"{list(INCLUDE_CLAIM_KEYS)} for every listed repository (org template plus "
        '{"use_default": false} per repository); without it no token matches'
    )
    document = {
        "format": FORMAT_VERSION,
        "provider": "aws",
        "gate_workflow": request.gate.job_workflow_ref,
        "gate_role_arn": request.gate_role_arn,
        "target_role_arn": request.target_role_arn,
        "subject_customization": _claim_keys_document(),
        "policies": {
            "gate_trust_policy": gate_trust,
            "gate_permissions_policy": gate_permissions,
            "target_trust_policy": target_trust,
        },
        "notes": notes,
    }
    files = (
        OutputFile("aws-gate-trust-policy.json", "gate role trust policy", json_text(gate_trust)),
        OutputFile(
            "aws-gate-permissions-policy.json",
            "gate role permissions policy",
            json_text(gate_permissions),
        ),
        OutputFile(
            "aws-target-trust-policy.json", "target role trust policy", json_text(target_trust)
        ),
    )
    return Rendered(files, document, tuple(notes))


def render_gcp(request: GcpRequest) -> Rendered:
    """The WIF provider's attribute mapping and CEL condition, and the gcloud commands."""
    ids = [r.repo_id for r in request.repos if r.repo_id]
    condition = render_text(
        "gcp-attribute-condition.cel.j2",
        repository_ids=ids,
        job_workflow_ref=request.gate.job_workflow_ref,
    ).strip()
    provider_resource = f"{request.pool_resource}/providers/{request.provider}"
    context = {
        "issuer_uri": GITHUB_ISSUER_URI,
        "condition": condition,
        "pool_resource": request.pool_resource,
        "provider_resource": provider_resource,
        "repository_ids": ids,
        "request": request,
    }
    provider = render_json("gcp-wif-provider.json.j2", **context)
    mapping = ",".join(f"{k}={v}" for k, v in provider["attribute_mapping"].items())
    commands = render_text("gcp-wif-commands.sh.j2", mapping=mapping, **context)
    notes = _common_notes(request.gate, request.repos)
    document = {
        "format": FORMAT_VERSION,
        "provider": "gcp",
        "gate_workflow": request.gate.job_workflow_ref,
        "workload_identity_provider": provider,
        "commands": commands,
        "notes": notes,
    }
    files = (
        OutputFile("gcp-wif-provider.json", "workload identity provider", json_text(provider)),
        OutputFile("gcp-wif-commands.sh", "gcloud commands", commands),
    )
    return Rendered(files, document, tuple(notes))
