"""The env cataloger: every environment variable by name and value digest, never the value.

Three properties matter to the policy:

- ``risky=true`` (with ``risk=<category>``) for variables that change what later programs load,
  execute or trust — ``LD_PRELOAD``, ``BASH_ENV``, ``NODE_OPTIONS``, ``PYTHONPATH``,
  ``GIT_CONFIG_*``, ``REQUESTS_CA_BUNDLE``, ``AWS_ENDPOINT_URL``… (:data:`RISKY_ENV_VARS`,
  :data:`RISKY_ENV_PREFIXES`; the policy reuses them). Any earlier step can set them through
  ``$GITHUB_ENV``.
- ``volatile`` for per-run and per-step values (run ids, the SHA, step file paths, tokens, action
  inputs): recorded, but outside the env hash, so two runs on an unchanged machine hash alike.
- ``secret=true`` for variables whose name says they hold a secret (``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*_KEY``…): they are recorded by presence only, with no digest at all, because
  a bag is evidence that others read and a digest of a short secret can be guessed offline.

Every other value is digested as ``sha256:<hex>`` of its bytes. That digest is deterministic (it
has to be, for the env hash), so a low-entropy secret kept in a variable with an innocent name
could be guessed from the bag; pass ``key=`` to make every digest an HMAC under a key the
verifier also holds (then ``digest`` is empty and the property ``hmac-sha256`` holds the MAC).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping

from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.runner import printable
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind

_LOADER = "loader"
_STARTUP = "interpreter-startup"
_SHELL = "shell-startup"
_GIT = "git"
_TRUST = "tls-trust"
_PROXY = "network-proxy"
_SOURCE = "package-source"
_CLOUD = "cloud-endpoint"

RISKY_ENV: Mapping[str, str] = {
    **dict.fromkeys(("LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH"), _LOADER),
    **dict.fromkeys(("OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES"), _LOADER),
    **dict.fromkeys(("BASH_ENV", "ENV", "PROMPT_COMMAND", "PS4", "SHELLOPTS", "BASHOPTS"), _SHELL),
    **dict.fromkeys(("IFS", "CDPATH", "ZDOTDIR"), _SHELL),
    **dict.fromkeys(
        (
            "NODE_OPTIONS",
            "NODE_PATH",
            "PYTHONPATH",
            "PYTHONSTARTUP",
            "PYTHONHOME",
            "PYTHONINSPECT",
            "PYTHONUSERBASE",
            "PYTHONWARNINGS",
            "PYTHONBREAKPOINT",
            "PERL5OPT",
            "PERL5LIB",
            "PERLLIB",
            "PERL5DB",
            "RUBYOPT",
            "RUBYLIB",
            "JAVA_TOOL_OPTIONS",
            "_JAVA_OPTIONS",
            "JDK_JAVA_OPTIONS",
            "CLASSPATH",
            "GOFLAGS",
            "RUSTC_WRAPPER",
            "RUSTFLAGS",
        ),
        _STARTUP,
    ),
    **dict.fromkeys(
        (
            "GIT_SSH",
            "GIT_SSH_COMMAND",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
            "GIT_EXEC_PATH",
            "GIT_TEMPLATE_DIR",
            "GIT_PROXY_COMMAND",
            "GIT_EXTERNAL_DIFF",
            "GIT_EDITOR",
            "GIT_PAGER",
            "GIT_SSL_NO_VERIFY",
            "GIT_SSL_CAINFO",
        ),
        _GIT,
    ),
    **dict.fromkeys(
        (
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "NODE_TLS_REJECT_UNAUTHORIZED",
            "PYTHONHTTPSVERIFY",
            "AWS_CA_BUNDLE",
            "SSLKEYLOGFILE",
        ),
        _TRUST,
    ),
    **dict.fromkeys(
        ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY", "GRPC_PROXY"), _PROXY
    ),
    **dict.fromkeys(
        (
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
            "PIP_TRUSTED_HOST",
            "PIP_FIND_LINKS",
            "PIP_CONFIG_FILE",
            "UV_INDEX_URL",
            "UV_EXTRA_INDEX_URL",
            "GOPROXY",
            "GONOSUMDB",
            "GOPRIVATE",
            "GONOSUMCHECK",
            "GOINSECURE",
            "GOSUMDB",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
        ),
        _SOURCE,
    ),
    **dict.fromkeys(
        ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_STS_REGIONAL_ENDPOINTS"), _CLOUD
    ),
}
"""Exact names (compared case-insensitively) and the kind of risk each carries."""

RISKY_ENV_PREFIXES: Mapping[str, str] = {
    "LD_": _LOADER,
    "DYLD_": _LOADER,
    "BASH_FUNC_": _SHELL,
    "GIT_CONFIG": _GIT,
    "NPM_CONFIG_": _SOURCE,
    "YARN_": _SOURCE,
    "AWS_ENDPOINT_URL": _CLOUD,
}
"""Name prefixes (compared case-insensitively): ``GIT_CONFIG_COUNT``, ``BASH_FUNC_ls%%``…"""

RISKY_ENV_VARS = frozenset(RISKY_ENV)
"""The exact risky names as a set, for the policy's defaults."""

VOLATILE_ENV = frozenset(
    {
        "GITHUB_RUN_ID",
        "GITHUB_RUN_NUMBER",
        "GITHUB_RUN_ATTEMPT",
        "GITHUB_SHA",
        "GITHUB_JOB",
        "GITHUB_ACTION",
        "GITHUB_ACTION_PATH",
        "GITHUB_ACTION_REF",
        "GITHUB_ACTION_REPOSITORY",
        "GITHUB_ACTOR",
        "GITHUB_ACTOR_ID",
        "GITHUB_TRIGGERING_ACTOR",
        "GITHUB_EVENT_NAME",
        "GITHUB_EVENT_PATH",
        "GITHUB_HEAD_REF",
        "GITHUB_BASE_REF",
        "GITHUB_WORKFLOW_SHA",
        "GITHUB_WORKFLOW_REF",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_STATE",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_PATH",
        "GITHUB_TOKEN",
        "RUNNER_TEMP",
        "RUNNER_NAME",
        "RUNNER_TRACKING_ID",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "SYSTEMD_EXEC_PID",
        "HOSTNAME",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
    }
)
"""Per-run and per-step variables: recorded, never hashed."""

VOLATILE_PREFIXES = ("GITHUB_REF", "ACTIONS_", "INPUT_", "STATE_", "ENVSECOPS_")
"""``GITHUB_REF*``, the runner's ``ACTIONS_*`` service URLs and tokens, action inputs and state,
and envsecops' own step settings (which differ between the attest and verify steps)."""

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|COOKIE|API_?KEY|ACCESS_KEY"
    r"|(^|_)KEY$|(^|_)PAT$|(^|_)AUTH(_|$)|AUTHORIZATION|SIGNATURE|(^|_)SAS$",
)
"""Names that say the value is a secret: recorded by presence only."""


def risk_of(name: str) -> str | None:
    """The risk category of a variable, or None when it is not risky."""
    upper = name.upper()
    if upper in RISKY_ENV:
        return RISKY_ENV[upper]
    return next(
        (risk for prefix, risk in RISKY_ENV_PREFIXES.items() if upper.startswith(prefix)), None
    )


def is_volatile(name: str) -> bool:
    """Whether a variable's value changes from run to run (or step to step)."""
    return name in VOLATILE_ENV or name.startswith(VOLATILE_PREFIXES)


def is_secret(name: str) -> bool:
    """Whether the name says the value is a secret."""
    return SECRET_NAME.search(name.upper()) is not None


def _raw(text: str) -> bytes:
    """The bytes of a value as the OS gave them (``os.environ`` decodes with surrogateescape)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


class Env(Cataloger):
    """One ENV component per variable of the environment snapshot."""

    id = "env"

    def __init__(self, *, key: bytes | None = None) -> None:
        self._key = key

    def _hmac(self, value: str) -> str | None:
        if self._key is None:
            return None
        return hmac.new(self._key, _raw(value), hashlib.sha256).hexdigest()

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield every variable, sorted by name."""
        for name in sorted(context.environ):
            props: dict[str, str] = {}
            shown = printable(name)
            if shown != name:
                props["name-escaped"] = "true"
            risk = risk_of(name)
            if risk is not None:
                props["risky"] = "true"
                props["risk"] = risk
            value_digest: str | None = None
            if is_secret(name):
                props["secret"] = "true"  # noqa: S105 - a flag, not a password
                props["value"] = "redacted"
            elif (mac := self._hmac(context.environ[name])) is not None:
                props["hmac-sha256"] = mac
            else:
                value_digest = digest_bytes(_raw(context.environ[name]))
            yield Component(
                kind=ComponentKind.ENV,
                name=shown,
                source=self.id,
                digest=value_digest,
                properties=tuple(sorted(props.items())),
                volatile=is_volatile(name),
            )
