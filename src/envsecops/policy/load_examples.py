"""Example YAML for every policy section: the `fix` of each loader error shows the section right.

The placeholders ``sha256:<64 lowercase hex>`` and ``<40-hex commit sha>`` stand for a real
digest and a real commit; a test substitutes them and loads every example.
"""

from __future__ import annotations

import re

DIGEST_PLACEHOLDER = "sha256:<64 lowercase hex>"
SHA_PLACEHOLDER = "<40-hex commit sha>"

MINIMAL = f"""name: payments-deploy        # required: letters, digits, . _ - (at most 64)
binaries:
  /usr/bin/git: {DIGEST_PLACEHOLDER}
# or draft the whole policy from a bag, then review it:
#   envsecops policy init --from bag.json > .github/envsecops.yml"""

EXAMPLES: dict[str, str] = {
    "version": 'version: "1"                 # optional; only "1"',
    "name": "name: payments-deploy        # letters, digits, . _ - (at most 64)",
    "mode": "mode: enforce                # enforce (the default) or audit",
    "max-attestation-age": "max-attestation-age: 10m     # 90s, 10m, 1h; between 1s and 24h",
    "runner": """runner:
  environments: [github-hosted]        # github-hosted, self-hosted, unknown
  images:                              # optional: ImageOS and ImageVersion globs
    - os: ubuntu24
      versions: ["20251110.*"]
  os:                                  # optional: os-release ID and VERSION_ID globs
    - id: ubuntu
      versions: ["24.04"]
  arch: [x86_64]                       # optional
  containers: []                       # optional: [] = no container job""",
    "binaries": f"""binaries:
  /usr/bin/git: {DIGEST_PLACEHOLDER}       # absolute path glob, or
  python3*: [{DIGEST_PLACEHOLDER}]         # a bare name glob; one digest or a list""",
    "tool-cache": f"""tool-cache:
  Python:
    3.12.7: [{DIGEST_PLACEHOLDER}]           # version glob: tree digests""",
    "packages": """packages:
  allow:
    - purl: pkg:deb/ubuntu/*                 # pkg:TYPE[/NAMESPACE]/NAME, * globs, no @version
    - purl: pkg:pypi/requests
      versions: ">=2.32.0,<3"                # a string: a PEP 440 specifier set
  deny:
    - purl: pkg:pypi/urllib3
      versions: ["2.2.1", "2.2.2"]           # a list: exact versions or globs
      reason: CVE-2024-37891""",
    "configs": f"""configs:
  /etc/apt/sources.list: {DIGEST_PLACEHOLDER}     # one digest, or a list
  ~/.npmrc: withheld                        # attest withheld the digest (credentials)""",
    "env": f"""env:
  forbidden: [default, MY_DEBUG_HOOK]       # names or globs; default = attest's risky list
  allowed:                                  # exceptions to forbidden
    NODE_OPTIONS: [{DIGEST_PLACEHOLDER}]     # the value digests allowed
    PYTHONPATH: any                         # any value""",
    "actions": f"""actions:
  actions/checkout: [{SHA_PLACEHOLDER}]     # owner/repo glob: full commit SHAs
  my-org/*: any-sha                         # any full SHA (never a tag)
  some/composite:
    shas: [{SHA_PLACEHOLDER}]
    allow-pin-findings: true                # accept unpinned refs in its own files""",
    "sbom": """sbom:
  deny:
    - purl: pkg:pypi/ultralytics
      versions: ["8.3.41", "8.3.42"]
      reason: compromised release""",
    "credentials": """credentials:
  max-lifetime: 15m                         # 15m..12h (1h at most with aws)
  providers:
    aws:
      gate-role-arn: arn:aws:iam::123456789012:role/envsecops-gate
      role-arn: arn:aws:iam::123456789012:role/deploy
      region: eu-west-1""",
}
"""Keyed by top-level section; the ``pins`` and ``ledger`` sections keep their own examples."""

_TOP = re.compile(r"[A-Za-z0-9_-]*")


def example_for(where: str) -> str:
    """The example for the section a key path (`runner.images[1].os`) is in."""
    match = _TOP.match(where)
    top = match.group() if match else ""
    return EXAMPLES.get(top, MINIMAL)
