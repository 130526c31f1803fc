"""The parsed allowlist (`Policy`): plain frozen records with the policy line of every rule, no I/O.

The loader (:mod:`envsecops.policy.load`) builds these from `.github/envsecops.yml`; the
evaluator (:mod:`envsecops.policy.evaluate`) reads them. Every rule keeps the line it was
written on so that a reason can say which line allowed or refused what. ``policy_id`` is
``<name>@sha256:<first 12 hex>`` of the canonical JSON of the whole document (comments,
key order and quoting do not change it; any value does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envsecops.model.decision import Mode
from envsecops.policy.ledger import LedgerPolicy
from envsecops.policy.pins import PinsPolicy

DEFAULT_MAX_ATTESTATION_AGE = 600
"""Seconds an attestation stays usable (`max-attestation-age`, default 10 minutes)."""
DEFAULT_ENVIRONMENTS = ("github-hosted",)
"""`runner.environments` when the policy does not say: GitHub-hosted runners only."""
RUNNER_ENVIRONMENTS = ("github-hosted", "self-hosted", "unknown")
"""What `runner.environments` may list; `unknown` matches a bag with no runner_environment fact
(a local run outside Actions)."""
PROVIDERS = ("aws", "gcp", "vault")


@dataclass(frozen=True, slots=True)
class DigestRule:
    """`binaries` and `configs` entries: a path (or, for binaries, a bare name) glob and the
    sha256 digests its content may have.

    ``withheld`` (configs only, written ``withheld``): the file is allowed when attest-runner
    withheld its digest because it holds credentials (status ``digest-only``).
    """

    pattern: str
    digests: tuple[str, ...]
    line: int = 0
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class VersionedName:
    """`runner.images` / `runner.os` entries: a name and the version globs allowed (empty: any)."""

    name: str
    versions: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class RunnerPolicy:
    """What runner may run the job. ``None`` means the policy sets no constraint there."""

    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    images: tuple[VersionedName, ...] | None = None  # ImageOS + ImageVersion (imagedata.json)
    os: tuple[VersionedName, ...] | None = None  # os-release ID + VERSION_ID
    arch: tuple[str, ...] | None = None
    containers: tuple[str, ...] | None = None  # container image globs; () = no container allowed
    line: int = 0

    @property
    def self_hosted_allowed(self) -> bool:
        """Whether self-hosted runners are allowed (`self-hosted` listed in environments)."""
        return "self-hosted" in self.environments


@dataclass(frozen=True, slots=True)
class ToolRule:
    """`tool-cache` entries: a tool, a version glob and the allowed tree digests."""

    tool: str
    version: str
    digests: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class PackageRule:
    """A purl pattern (`pkg:TYPE/NAMESPACE/NAME`, `*` globs, no version) and a version match.

    ``versions``: a PEP 440 specifier set as a string (``">=2.31,<3"``), a tuple of exact
    versions or globs, or None for any version.
    """

    purl: str
    versions: str | tuple[str, ...] | None = None
    reason: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class PackagesPolicy:
    """`packages`: a package must match an `allow` rule and no `deny` rule."""

    allow: tuple[PackageRule, ...] = ()
    deny: tuple[PackageRule, ...] = ()


@dataclass(frozen=True, slots=True)
class EnvAllow:
    """`env.allowed` entries: a forbidden name accepted after all, with its value digests
    (None: any value; a secret-named variable has no digest, so only None can match it)."""

    name: str
    digests: tuple[str, ...] | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class EnvPolicy:
    """`env`: forbidden variable names or globs (None: attest-runner's risky list, the default;
    `default` inside a written list expands to it), and exceptions."""

    forbidden: tuple[str, ...] | None = None
    allowed: tuple[EnvAllow, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionRule:
    """`actions` entries: an `owner/repo` glob, the commit SHAs allowed (None: any full SHA,
    written `any-sha`), and whether findings inside the action's own files are accepted."""

    repo: str
    shas: tuple[str, ...] | None
    allow_pin_findings: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class SbomPolicy:
    """`sbom`: components (any kind with a purl) that are denied whatever else allows them."""

    deny: tuple[PackageRule, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """One `credentials.providers` entry; mint-creds validates the settings it needs."""

    provider: str
    settings: tuple[tuple[str, str], ...]
    line: int = 0

    def get(self, name: str) -> str | None:
        """One setting, or None."""
        return dict(self.settings).get(name)


@dataclass(frozen=True, slots=True)
class CredentialsPolicy:
    """`credentials`: the longest credential lifetime allowed (None: the provider's minimum)
    and the providers."""

    max_lifetime: int | None = None
    providers: tuple[ProviderSettings, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole allowlist, as loaded from one document."""

    name: str
    policy_id: str
    source: str  # what was read: a path, or OWNER/REPO@BRANCH:PATH
    mode: Mode = Mode.ENFORCE
    max_attestation_age: int = DEFAULT_MAX_ATTESTATION_AGE
    runner: RunnerPolicy = field(default_factory=RunnerPolicy)
    binaries: tuple[DigestRule, ...] = ()
    tool_cache: tuple[ToolRule, ...] = ()
    packages: PackagesPolicy = field(default_factory=PackagesPolicy)
    configs: tuple[DigestRule, ...] = ()
    env: EnvPolicy = field(default_factory=EnvPolicy)
    actions: tuple[ActionRule, ...] = ()
    sbom: SbomPolicy = field(default_factory=SbomPolicy)
    pins: PinsPolicy = field(default_factory=lambda: PinsPolicy(source=None))
    credentials: CredentialsPolicy = field(default_factory=CredentialsPolicy)
    ledger: LedgerPolicy | None = None

    @property
    def empty_allowlist(self) -> bool:
        """True when nothing at all is allowed: such a policy is a deny, never allow-all."""
        return not (
            self.binaries or self.tool_cache or self.packages.allow or self.configs or self.actions
        )

    def rule_count(self) -> int:
        """How many allow and deny rules the policy holds (for reports and benchmarks)."""
        return (
            len(self.binaries)
            + len(self.tool_cache)
            + len(self.packages.allow)
            + len(self.packages.deny)
            + len(self.configs)
            + len(self.env.allowed)
            + len(self.actions)
            + len(self.sbom.deny)
        )
