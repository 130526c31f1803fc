"""The policy loader on defective files: every defect an InputError with line, column and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.errors import InputError
from envsecops.policy.load import load_policy_text
from tests.unit.policy.load_support import D1, DISPLAY, SHA1, load

N = "name: x\n"
AWS = (
    "    aws:\n      gate-role-arn: arn:aws:iam::123456789012:role/gate\n"
    "      role-arn: arn:aws:iam::123456789012:role/deploy\n      region: eu-west-1\n"
)

CASES: list[tuple[str, str, str, int, int]] = [
    # (id, text, needle, line, column)
    ("unknown-top", N + "binaires: {}\n", "unknown key 'binaires' in the policy file", 2, 1),
    ("unknown-runner", N + "runner:\n  image: []\n", "unknown key 'image' in `runner`", 3, 3),
    (
        "unknown-image-key",
        N + "runner:\n  images:\n    - os: u\n      version: ['1']\n",
        "unknown key 'version' in `runner.images[0]` (allowed: os, versions)",
        5,
        7,
    ),
    (
        "unknown-package-key",
        N + "packages:\n  allow:\n    - purl: pkg:pypi/x\n      version: '1'\n",
        "unknown key 'version' in `packages.allow[0]`",
        5,
        7,
    ),
    ("unknown-env-key", N + "env:\n  forbid: []\n", "unknown key 'forbid' in `env`", 3, 3),
    (
        "unknown-action-key",
        N + f"actions:\n  a/b:\n    sha: [{SHA1}]\n",
        "unknown key 'sha' in `actions[\"a/b\"]`",
        4,
        5,
    ),
    ("unknown-provider", N + "credentials:\n  providers:\n    azure: {}\n", "'azure'", 4, 5),
    (
        "unknown-aws-key",
        N + "credentials:\n  providers:\n" + AWS + "      session-duration: 1h\n",
        "unknown key 'session-duration' in `credentials.providers.aws`",
        8,
        7,
    ),
    ("unknown-sbom-key", N + "sbom:\n  allow: []\n", "unknown key 'allow' in `sbom`", 3, 3),
    # wrong types, named by key path
    ("root-list", "- name: x\n", "the policy file must be a mapping, not a list", 1, 1),
    ("root-scalar", "just text\n", "the policy file must be a mapping", 1, 1),
    (
        "versions-string",
        N + "runner:\n  images:\n    - os: u\n    - os: v\n      versions: '1.*'\n",
        "`runner.images[1].versions` must be a list, not the string '1.*'",
        6,
        17,
    ),
    (
        "runner-list",
        N + "runner: [github-hosted]\n",
        "`runner` must be a mapping, not a list",
        2,
        9,
    ),
    ("binaries-list", N + f"binaries: [{D1}]\n", "`binaries` must be a mapping", 2, 11),
    (
        "binary-mapping",
        N + "binaries:\n  git: {digest: x}\n",
        "`binaries.git` must be a digest or a list of digests, not a mapping",
        3,
        8,
    ),
    (
        "packages-allow-map",
        N + "packages:\n  allow: {}\n",
        "`packages.allow` must be a list",
        3,
        10,
    ),
    (
        "package-rule-string",
        N + "packages:\n  allow:\n    - pkg:pypi/x\n",
        "`packages.allow[0]` must be a mapping, not the string 'pkg:pypi/x'",
        4,
        7,
    ),
    ("env-forbidden-map", N + "env:\n  forbidden: {}\n", "`env.forbidden` must be a list", 3, 14),
    (
        "tool-versions-list",
        N + f"tool-cache:\n  Python: [{D1}]\n",
        "`tool-cache.Python` must be a mapping",
        3,
        11,
    ),
    ("null-section", N + "binaries:\n# nothing yet\n", "write `{}` for an empty mapping", 2, 10),
    ("null-name", "name:\nbinaries: {}\n", "`name` has no value", 1, 6),
    ("no-name", "binaries: {}\n", "the policy needs a `name:`", 1, 1),
    # booleans
    (
        "bool-yes",
        N + f"actions:\n  a/b:\n    shas: [{SHA1}]\n    allow-pin-findings: yes\n",
        "write true or false",
        5,
        25,
    ),
    (
        "bool-on",
        N + f"actions:\n  a/b:\n    shas: [{SHA1}]\n    allow-pin-findings: on\n",
        "write true or false",
        5,
        25,
    ),
    (
        "bool-quoted",
        N + f"actions:\n  a/b:\n    shas: [{SHA1}]\n    allow-pin-findings: 'true'\n",
        "write true or false, unquoted",
        5,
        25,
    ),
    (
        "bool-number",
        N + f"actions:\n  a/b:\n    shas: [{SHA1}]\n    allow-pin-findings: 1\n",
        "must be true or false",
        5,
        25,
    ),
    ("ledger-rekor-no", N + "ledger:\n  file: x\n  rekor: no\n", "`true` or `false`", 4, 10),
    (
        "string-no",
        N + "packages:\n  deny:\n    - purl: pkg:pypi/x\n      reason: no\n",
        "quote it",
        5,
        15,
    ),
    ("name-null-word", "name: null\n", "quote it", 1, 7),
    # scalars checked from their text
    ("name-pattern", "name: my policy\n", "1 to 64 letters", 1, 7),
    ("name-long", "name: " + "a" * 65 + "\n", "1 to 64 letters", 1, 7),
    ("version-2", 'version: "2"\n' + N, "`version` must be one of 1, not '2'", 1, 10),
    ("version-1.0", "version: 1.0\n" + N, "not '1.0'", 1, 10),
    ("mode", N + "mode: strict\n", "`mode` must be one of enforce, audit", 2, 7),
    ("age-unit", N + "max-attestation-age: 10 minutes\n", "is not a duration", 2, 22),
    ("age-zero", N + "max-attestation-age: 0s\n", "outside 1s..24h", 2, 22),
    ("age-long", N + "max-attestation-age: 25h\n", "outside 1s..24h", 2, 22),
    ("age-number", N + "max-attestation-age: 600\n", "is not a duration", 2, 22),
    # digests and SHAs
    ("digest-upper", N + f"binaries:\n  git: {D1.replace('1', 'A')}\n", "lowercase", 3, 8),
    ("digest-bare-hex", N + "binaries:\n  git: " + "a" * 64 + "\n", "prefix it with sha256:", 3, 8),
    ("digest-short", N + "binaries:\n  git: sha256:abc\n", "64 lowercase hex", 3, 8),
    ("digest-md5", N + "configs:\n  /etc/x: [md5:abc]\n", '`configs["/etc/x"][0]`', 3, 12),
    ("digests-empty", N + "binaries:\n  git: []\n", "it would allow nothing", 3, 8),
    ("binary-relative", N + f"binaries:\n  bin/git: {D1}\n", "neither an absolute path", 3, 3),
    ("sha-tag", N + "actions:\n  a/b: [v4]\n", "a tag or branch can move", 3, 9),
    ("sha-upper", N + f"actions:\n  a/b: [{SHA1.upper()}]\n", "write it in lowercase", 3, 9),
    ("sha-any-in-list", N + "actions:\n  a/b: [any-sha]\n", "instead of a list", 3, 9),
    ("shas-empty", N + "actions:\n  a/b: []\n", "it would allow nothing", 3, 8),
    ("shas-missing", N + "actions:\n  a/b: {allow-pin-findings: true}\n", "needs `shas`", 3, 8),
    ("action-subpath", N + "actions:\n  a/b/c: any-sha\n", "is not an owner/repo glob", 3, 3),
    ("action-owner-only", N + "actions:\n  a: any-sha\n", "is not an owner/repo glob", 3, 3),
    # purls and versions
    (
        "purl-version",
        N + "packages:\n  allow:\n    - purl: pkg:pypi/requests@2.31.0\n",
        "no @version",
        4,
        13,
    ),
    (
        "purl-qualifier",
        N + "packages:\n  allow:\n    - purl: pkg:deb/debian/x?arch=amd64\n",
        "no ?qualifiers",
        4,
        13,
    ),
    ("purl-type-case", N + "packages:\n  allow:\n    - purl: pkg:PyPI/x\n", "lowercase", 4, 13),
    ("purl-no-name", N + "packages:\n  allow:\n    - purl: pkg:pypi\n", "pkg:TYPE", 4, 13),
    ("purl-empty-seg", N + "packages:\n  allow:\n    - purl: pkg:deb//x\n", "empty or ill", 4, 13),
    ("purl-npm-scope", N + "packages:\n  allow:\n    - purl: pkg:npm/@babel/core\n", "%40", 4, 13),
    ("purl-missing", N + "packages:\n  allow:\n    - versions: ['1']\n", "needs `purl`", 4, 7),
    (
        "specifier-3.10",
        N + "packages:\n  allow:\n    - purl: pkg:pypi/x\n      versions: 3.10\n",
        "`packages.allow[0].versions`: '3.10' is not a PEP 440 specifier set",
        5,
        17,
    ),
    (
        "specifier-garbage",
        N + "sbom:\n  deny:\n    - purl: pkg:pypi/x\n      versions: '>>1'\n      reason: r\n",
        "`sbom.deny[0].versions`: '>>1' is not a PEP 440",
        5,
        17,
    ),
    (
        "versions-empty",
        N + "packages:\n  deny:\n    - purl: pkg:pypi/x\n      versions: []\n",
        "omit `versions` to match any version",
        5,
        17,
    ),
    ("sbom-reason", N + "sbom:\n  deny:\n    - purl: pkg:pypi/x\n", "needs a `reason`", 4, 7),
    # runner
    (
        "runner-env-value",
        N + "runner:\n  environments: [github]\n",
        "must be one of github-hosted, self-hosted, unknown",
        3,
        18,
    ),
    ("runner-env-empty", N + "runner:\n  environments: []\n", "refuse every runner", 3, 17),
    ("runner-arch-empty", N + "runner:\n  arch: []\n", "omit the key", 3, 9),
    ("runner-image-no-os", N + "runner:\n  images:\n    - versions: ['1']\n", "needs `os`", 4, 7),
    ("runner-os-versions-empty", N + "runner:\n  os:\n    - {id: u, versions: []}\n", "any", 4, 25),
    # env
    ("env-name-space", N + "env:\n  forbidden: [MY VAR]\n", "no spaces or =", 3, 15),
    ("env-name-equals", N + "env:\n  allowed:\n    A=B: any\n", "no spaces or =", 4, 5),
    (
        "env-allowed-list",
        N + "env:\n  allowed: [LD_PRELOAD]\n",
        "`env.allowed` must be a mapping",
        3,
        12,
    ),
    ("env-allowed-bad", N + "env:\n  allowed:\n    A: anything\n", "is not a sha256 digest", 4, 8),
    ("tool-no-versions", N + "tool-cache:\n  Python: {}\n", "lists no versions", 3, 11),
    ("config-withheld-quoted", N + "configs:\n  /x: 'withheld'\n", "is not a sha256 digest", 3, 7),
    # credentials
    ("lifetime-short", N + "credentials:\n  max-lifetime: 5m\n", "outside 15m..12h", 3, 17),
    ("lifetime-long", N + "credentials:\n  max-lifetime: 13h\n", "outside 15m..12h", 3, 17),
    (
        "lifetime-aws-chained",
        N + "credentials:\n  max-lifetime: 2h\n  providers:\n" + AWS,
        "AWS allows a chained session",
        3,
        17,
    ),
    (
        "aws-missing",
        N + "credentials:\n  providers:\n    aws: {region: eu-west-1}\n",
        "needs `role-arn`",
        4,
        10,
    ),
    (
        "aws-arn",
        N + "credentials:\n  providers:\n" + AWS.replace(":role/deploy", ":user/deploy"),
        "is not an IAM role ARN",
        6,
        17,
    ),
    (
        "aws-region",
        N + "credentials:\n  providers:\n" + AWS.replace("eu-west-1", "Ireland"),
        "is not an AWS region",
        7,
        15,
    ),
    (
        "gcp-provider",
        N + "credentials:\n  providers:\n    gcp: {workload-identity-provider: pool/x}\n",
        "projects/NUMBER",
        4,
        39,
    ),
    (
        "vault-http",
        N + "credentials:\n  providers:\n    vault: {url: 'http://vault.example.com', role: r}\n",
        "an https URL",
        4,
        18,
    ),
    ("providers-list", N + "credentials:\n  providers: [aws]\n", "must be a mapping", 3, 14),
    # pins and ledger, read from the same document
    ("pins-type", N + "pins: []\n", "`pins:` must be a mapping", 2, 7),
    (
        "pins-rule",
        N + "pins:\n  exceptions:\n    - {rule: nope, path: x, reason: r, expires: 2027-01-01}\n",
        "unknown rule id 'nope'",
        4,
        14,
    ),
    ("ledger-empty", N + "ledger: {}\n", "configures no ledger", 2, 9),
    # the YAML layer
    ("duplicate-top", N + "binaries: {}\nbinaries: {}\n", "duplicate key 'binaries'", 3, 1),
    ("duplicate-nested", N + f"binaries:\n  git: {D1}\n  git: {D1}\n", "duplicate key 'git'", 4, 3),
    (
        "duplicate-name",
        "name: a\nname: b\n",
        "duplicate key 'name' (first defined on line 1)",
        2,
        1,
    ),
    ("syntax", N + "binaries: [\n", "YAML syntax error", 3, 1),
    ("tab", N + "binaries:\n\tgit: x\n", "YAML syntax error", 3, 1),
    (
        "complex-key",
        N + "binaries:\n  ? [a, b]\n  : x\n",
        "keys in `binaries` must be strings",
        3,
        5,
    ),
    ("merge-scalar", N + "binaries:\n  <<: text\n", "a `<<` merge key must name a mapping", 3, 7),
]


@pytest.mark.parametrize(
    ("text", "needle", "line", "column"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_defects_name_line_column_and_fix(
    tmp_path: Path, text: str, needle: str, line: int, column: int
) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, text)
    error = info.value
    assert needle in error.message
    assert (error.line, error.column) == (line, column), error.message
    assert error.path == DISPLAY
    assert error.message.startswith(f"{DISPLAY}:{line}:{column}: ")
    assert error.fix


def test_unknown_key_lists_the_keys_allowed(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, N + "runner:\n  enviroments: [self-hosted]\n")
    assert "(allowed: arch, containers, environments, images, os)" in info.value.message
    assert info.value.fix is not None
    assert "environments: [github-hosted]" in info.value.fix


def test_the_fix_shows_the_section_the_error_is_in(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, N + "packages:\n  allow:\n    - purl: pkg:pypi/x@1\n")
    assert info.value.fix is not None
    assert info.value.fix.startswith("packages:")


def test_control_characters_in_a_string_are_refused() -> None:
    with pytest.raises(InputError, match="non-empty single line"):
        load_policy_text('name: x\nbinaries:\n  "git\\nrm": ' + D1 + "\n", "inline")
