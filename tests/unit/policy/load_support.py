"""Policies for the loader tests: valid documents, and helpers that load them from real files."""

from __future__ import annotations

from pathlib import Path

from envsecops.policy.load import load_policy_file
from envsecops.policy.model import Policy

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "ab" * 32
SHA1 = "d5491e7e7124a22dd73fa746ba129c59f9dc6d5d"
SHA2 = "722b8b5a44ba329e2181d4e5262c2c6737823464"
DISPLAY = ".github/envsecops.yml"
WIF = "projects/123/locations/global/workloadIdentityPools/ci/providers/github"

FULL = f"""# every section, every form
version: "1"
name: payments-deploy
mode: audit
max-attestation-age: 90s
runner:
  environments: [github-hosted, self-hosted]
  images:
    - os: ubuntu24
      versions: ["20251110.*"]
    - os: ubuntu22
  os:
    - id: ubuntu
      versions: [24.04, 3.10]
  arch: [x86_64, aarch64]
  containers: []
binaries:
  /usr/bin/git: {D1}
  python3*: [{D1}, {D2}]
tool-cache:
  Python:
    3.10: [{D3}]
    "3.12.*": {D2}
packages:
  allow:
    - purl: pkg:deb/ubuntu/*
    - purl: pkg:pypi/requests
      versions: ">=2.32.0,<3"
    - purl: pkg:npm/%40babel/core
      versions: ["7.26.0", "7.25.*"]
  deny:
    - purl: pkg:pypi/urllib3
      versions: "<2.2.2"
      reason: CVE-2024-37891
configs:
  /etc/apt/sources.list: {D1}
  "~/.npmrc": withheld
  .git/config: [{D2}, {D3}]
env:
  forbidden: [default, MY_HOOK, "CUSTOM_*"]
  allowed:
    NODE_OPTIONS: [{D1}]
    PYTHONPATH: any
actions:
  actions/checkout: [{SHA1}]
  actions/setup-python: {SHA2}
  my-org/*: any-sha
  some/composite:
    shas: [{SHA1}, {SHA2}]
    allow-pin-findings: true
  other/composite:
    shas: any-sha
    allow-pin-findings: false
sbom:
  deny:
    - purl: pkg:pypi/ultralytics
      versions: ["8.3.41", "8.3.42"]
      reason: compromised release
pins:
  exceptions:
    - rule: unpinned-uses
      path: .github/workflows/release.yml
      reference: pypa/gh-action-pypi-publish@release/v1
      reason: publisher requires its release branch
      expires: "2027-01-31"
  exclude: [tests/fixtures/**]
credentials:
  max-lifetime: 1h
  providers:
    aws:
      gate-role-arn: arn:aws:iam::123456789012:role/envsecops-gate
      role-arn: arn:aws-us-gov:iam::123456789012:role/path/deploy
      region: eu-west-1
      audience: sts.amazonaws.com
    gcp:
      workload-identity-provider: {WIF}
      service-account: deploy@my-project.iam.gserviceaccount.com
    vault:
      url: https://vault.example.com:8200
      role: ci
      auth-path: jwt/github
      namespace: admin/ci
ledger:
  file: .envsecops/ledger.jsonl
"""

MINIMAL = f"name: minimal\nbinaries:\n  git: {D1}\n"

VALID: dict[str, str] = {
    "full": FULL,
    "minimal": MINIMAL,
    "pins-only": "name: pins-only\npins:\n  exclude: [tests/fixtures/**]\n",
    "flow-style": (
        f'{{name: flow, version: 1, binaries: {{"/bin/sh": [{D1}]}}, '
        f"actions: {{a/b: {{shas: [{SHA1}]}}}}, env: {{forbidden: []}}}}\n"
    ),
    "anchors": (
        f"name: anchors\nbinaries:\n  /usr/bin/git: &git [{D1}, {D2}]\n  git: *git\n"
        "runner:\n  images:\n    - &img {os: ubuntu24, versions: ['2025*']}\n"
        "  os:\n    - id: ubuntu\n"
    ),
    "credentials-only-lifetime": (
        f"name: c\nconfigs: {{/etc/hosts: {D1}}}\ncredentials:\n  max-lifetime: 12h\n"
        "  providers: {}\n"
    ),
    "empty-sections": (
        "name: empty\nbinaries: {}\ntool-cache: {}\npackages: {allow: [], deny: []}\n"
        "configs: {}\nactions: {}\nsbom: {deny: []}\nenv: {allowed: {}}\n"
    ),
    "s3-ledger": (
        "name: s3\nledger:\n  s3:\n    bucket: org-envsecops-ledger\n    region: eu-west-1\n"
        "    retention-days: 365\n  rekor: false\n"
    ),
}
"""Valid policies, each loads and each validates against the JSON Schema."""


def write_policy(tmp_path: Path, text: str) -> Path:
    """Write ``text`` as `<tmp>/repo/.github/envsecops.yml` and return the path."""
    github = tmp_path / "repo" / ".github"
    github.mkdir(parents=True, exist_ok=True)
    path = github / "envsecops.yml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Policy:
    """Load ``text`` through a real file, shown as `.github/envsecops.yml`."""
    return load_policy_file(write_policy(tmp_path, text), DISPLAY)
