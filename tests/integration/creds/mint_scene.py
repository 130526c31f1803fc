"""One `envsecops mint` test's world, built for real, and the checks on what mint did.

A tiny runner tree (``--root``: an os-release and two real executables), a fresh signing key,
the local OIDC issuer (:class:`RecordingIssuer`: it keeps every token it served and can serve
a hostile one for one audience), moto's STS behind the counting proxy
(:class:`tests.integration.creds.sts_proxy.StsProxy`: every request that reaches STS is
recorded), gate and target roles in moto's IAM (once per session), a policy drafted from the
attested bag plus a `credentials:` and a `ledger:` section, and a real ``envsecops attest`` and
``envsecops verify`` in a GitHub Actions step environment. Tests then run ``envsecops mint``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from envsecops.attest.key import generate_key
from envsecops.ledger.file import FileLedger
from envsecops.ledger.s3 import S3Ledger
from envsecops.model.bag import Bag
from envsecops.model.decision import Decision
from envsecops.policy.render import render_policy
from tests.conftest import CliResult
from tests.integration.creds.conftest import gate_trust, target_trust
from tests.integration.creds.sts_proxy import StsProxy, every
from tests.integration.moto_s3 import FAKE_CREDENTIALS, REGION
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.unit.gh.runner_model import read_file_commands

RunCli = Callable[..., CliResult]
NONCE = "nonce-mint-0123456789abcdef"
JOB = "deploy"
BINDING_AUDIENCE = "envsecops"
STS_AUDIENCE = "sts.amazonaws.com"
S3_ENV = dict(FAKE_CREDENTIALS)


class RecordingIssuer(LocalIssuer):
    """The local issuer, keeping every token it served; ``override`` serves a given token for
    one audience (a hostile one, or one for another run) after the bearer check passed."""

    def __init__(self) -> None:
        super().__init__()
        self.served: list[str] = []
        self.override: dict[str, str] = {}

    def _token(self, query: dict[str, str], auth: str | None) -> tuple[int, Any]:
        status, body = super()._token(query, auth)
        if status == 200 and query.get("audience") in self.override:
            body = {"value": self.override[query["audience"]]}
        if status == 200 and isinstance(body, dict) and isinstance(body.get("value"), str):
            with self._lock:
                self.served.append(body["value"])
        return status, body


@dataclass(frozen=True)
class Roles:
    """The gate and target roles in moto's IAM."""

    gate: str
    target: str


@pytest.fixture(scope="session", name="mint_roles")
def mint_roles_fixture(moto_endpoint: str) -> Roles:
    """A gate role (trusting GitHub's OIDC provider) and a target role it may assume, tag and
    set the source identity of; made once per session on the shared moto server."""
    import boto3

    iam = boto3.session.Session().client(
        "iam",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    suffix = uuid.uuid4().hex[:10]
    gate = iam.create_role(RoleName=f"mint-gate-{suffix}", AssumeRolePolicyDocument=gate_trust())
    gate_arn: str = gate["Role"]["Arn"]
    target = iam.create_role(
        RoleName=f"mint-deploy-{suffix}",
        AssumeRolePolicyDocument=target_trust(gate_arn),
        MaxSessionDuration=3600,
    )
    return Roles(gate_arn, target["Role"]["Arn"])


def _real(name: str) -> Path:
    found = shutil.which(name, path="/usr/bin:/bin")
    assert found is not None, f"{name} is needed to build the test tree"
    return Path(found)


@dataclass
class MintScene:
    """Paths, keys and servers for one test; see the module docstring."""

    tmp: Path
    issuer: RecordingIssuer
    proxy: StsProxy
    roles: Roles
    moto: str
    monkeypatch: pytest.MonkeyPatch
    root: Path = field(init=False)
    key: Path = field(init=False)
    public: Path = field(init=False)
    mint_tokens: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.tmp / "root"
        (self.root / "etc").mkdir(parents=True)
        (self.root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\n')
        (self.root / "usr/bin").mkdir(parents=True)
        for name in ("true", "echo"):
            shutil.copy2(_real(name), self.root / "usr/bin" / name)
        (self.root / "home/runner").mkdir(parents=True)
        generated = generate_key(self.tmp / "signing.pem")
        self.key, self.public = generated.private_path, generated.public_path
        for folder in ("runner-temp", "workspace", "ledger"):
            (self.tmp / folder).mkdir()

    # paths -----------------------------------------------------------------------------------
    @property
    def attested(self) -> Path:
        return self.tmp / "att"

    @property
    def decision_dir(self) -> Path:
        return self.tmp / "dec"

    @property
    def out(self) -> Path:
        return self.tmp / "mint-out"

    @property
    def ledger(self) -> Path:
        return self.tmp / "ledger" / "ledger.jsonl"

    @property
    def policy_path(self) -> Path:
        return self.tmp / "workspace" / ".github" / "envsecops.yml"

    def file(self, name: str) -> Path:
        """A runner file of the mint step (github-env, github-output, step-summary)."""
        return self.tmp / f"mint-{name}"

    # the environment ---------------------------------------------------------------------------
    def enter_step(self, step: str) -> None:
        """This step's runner files (each step of a job gets its own GITHUB_OUTPUT, …)."""
        for variable, name in (
            ("GITHUB_OUTPUT", "github-output"),
            ("GITHUB_ENV", "github-env"),
            ("GITHUB_STEP_SUMMARY", "step-summary"),
        ):
            self.monkeypatch.setenv(variable, str(self.tmp / f"{step}-{name}"))

    # the steps ---------------------------------------------------------------------------------
    def attest(self, run_cli: RunCli) -> Bag:
        self.enter_step("attest")
        result = run_cli(
            "attest", "--root", self.root, "--out", self.attested, "--signer", "key",
            "--key", self.key, "--no-syft", "--nonce", NONCE, "--oidc-issuer", self.issuer.url,
        )  # fmt: skip
        assert result.code == 0, result.err
        return Bag.from_json(json.loads((self.attested / "bag.json").read_bytes()))

    def credentials(self, *, gate: bool = True, extra: str = "") -> str:
        lines = ["credentials:", "  providers:", "    aws:"]
        if gate:
            lines.append(f"      gate-role-arn: {self.roles.gate}")
        lines += [f"      role-arn: {self.roles.target}", f"      region: {REGION}"]
        return "\n".join(lines) + "\n" + extra

    def write_policy(
        self,
        bag: Bag,
        *,
        credentials: str | None = None,
        ledger: str | None = None,
        edit: Callable[[str], str] | None = None,
    ) -> Path:
        text = render_policy(bag, name="mint-test")
        text = edit(text) if edit is not None else text
        text += credentials if credentials is not None else self.credentials()
        text += ledger if ledger is not None else f"ledger:\n  file: {self.ledger}\n"
        self.policy_path.parent.mkdir(parents=True, exist_ok=True)
        self.policy_path.write_text(text, encoding="utf-8")
        return self.policy_path

    def verify(self, run_cli: RunCli, *extra: str | Path) -> CliResult:
        self.enter_step("verify")
        return run_cli(
            "verify", "--root", self.root, "--attestation", self.attested / "attestation.dsse.json",
            "--bag", self.attested / "bag.json", "--key", self.key, "--signer", "key",
            "--no-syft", "--out", self.decision_dir, "--policy", self.policy_path,
            "--policy-source", "workspace", "--oidc-issuer", self.issuer.url, "--nonce", NONCE,
            *extra,
        )  # fmt: skip

    def ready(
        self,
        run_cli: RunCli,
        *,
        credentials: str | None = None,
        ledger: str | None = None,
        edit: Callable[[str], str] | None = None,
        verdict: int = 0,
    ) -> Decision:
        """attest, a policy allowing the bag (unless ``edit`` changes it), verify."""
        bag = self.attest(run_cli)
        self.write_policy(bag, credentials=credentials, ledger=ledger, edit=edit)
        result = self.verify(run_cli)
        assert result.code == verdict, result.out + result.err
        return self.decision()

    def resign(self, changes: Mapping[str, Any], *, key: Path | None = None) -> Decision:
        """Rewrite the decision with ``changes`` and sign it as verify does (its publish step),
        with the scene's key (or ``key``): a decision verify could have made at another time."""
        from dataclasses import replace

        from envsecops.attest.key import KeySigner
        from envsecops.verify.publish import publish

        changed = replace(self.decision(), **changes)
        policy_text = (self.decision_dir / "policy.yml").read_text(encoding="utf-8")
        signer = KeySigner.from_file(key or self.key)
        publish(changed, None, self.decision_dir, lambda: signer, policy_text=policy_text)
        return changed

    def record(self, run_cli: RunCli, *extra: str | Path) -> CliResult:
        """`envsecops record` of the decision into the policy's ledgers (the gate's record step)."""
        self.enter_step("record")
        result = run_cli(
            "record", "--decision", self.decision_dir / "decision.json",
            "--policy", self.decision_dir / "policy.yml", *extra,
        )  # fmt: skip
        assert result.code == 0, result.out + result.err
        return result

    def decision(self) -> Decision:
        return Decision.from_json(json.loads((self.decision_dir / "decision.json").read_bytes()))

    def mint(self, run_cli: RunCli, *extra: str | Path, key: bool = True) -> CliResult:
        self.enter_step("mint")
        before = len(self.issuer.served)
        keys: list[str | Path] = ["--signer", "key", "--key", self.key] if key else []
        result = run_cli(
            "mint", "--decision", self.decision_dir / "decision.json", *keys,
            "--oidc-issuer", self.issuer.url, "--root", self.root, "--no-syft",
            "--out", self.out, *extra,
        )  # fmt: skip
        self.mint_tokens = self.issuer.served[before:]
        assert "Traceback" not in result.out + result.err, result.err
        assert "internal error" not in result.err, result.err
        return result

    # what mint left behind ---------------------------------------------------------------------
    def exported(self) -> dict[str, str]:
        path = self.file("github-env")
        return read_file_commands(path.read_text(encoding="utf-8")) if path.exists() else {}

    def outputs(self) -> dict[str, str]:
        path = self.file("github-output")
        return read_file_commands(path.read_text(encoding="utf-8")) if path.exists() else {}

    def kinds(self, path: Path | None = None) -> list[str]:
        """The kinds of the file ledger's entries, oldest first."""
        target = path or self.ledger
        if not target.exists():
            return []
        return [entry.kind.value for entry in FileLedger(target).entries()]

    # the S3 ledger ------------------------------------------------------------------------
    def use_s3(self) -> str:
        """Fake AWS credentials for the S3 ledger (set before attest: they are in the bag) and a
        fresh Object-Lock bucket on moto; returns the bucket name."""
        for name, value in S3_ENV.items():
            self.monkeypatch.setenv(name, value)
        bucket = f"mint-ledger-{uuid.uuid4().hex[:12]}"
        self.s3_client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        return bucket

    def s3_client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            region_name=REGION,
            endpoint_url=self.moto,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def s3_yaml(self, bucket: str, endpoint: str | None = None) -> str:
        """A `ledger:` section with the file ledger and an S3 ledger on moto (or ``endpoint``)."""
        return (
            f"ledger:\n  file: {self.ledger}\n  s3:\n    bucket: {bucket}\n    prefix: mint\n"
            f"    region: {REGION}\n    retention-days: 1\n"
            f"    endpoint-url: {endpoint or self.moto}\n"
        )

    def s3_ledger(self, bucket: str) -> S3Ledger:
        return S3Ledger(
            bucket, retention_days=1, prefix="mint", region=REGION, endpoint_url=self.moto
        )

    def s3_objects(self, bucket: str) -> list[bytes]:
        """The bodies of every object in the bucket."""
        client = self.s3_client()
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return [client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed]

    def assert_no_sts_call(self) -> None:
        assert self.proxy.seen == [], f"STS was called: {self.proxy.actions()}"
        assert self.proxy.forms == []


def enter_actions(scene: MintScene, *, s3: bool = False) -> None:
    """A clean GitHub Actions step environment, the token service and the STS test endpoint."""
    monkeypatch = scene.monkeypatch
    for name in list(os.environ):
        monkeypatch.delenv(name)
    values = {
        "PATH": "/usr/bin",
        "HOME": "/home/runner",
        "LANG": "C.UTF-8",
        "GITHUB_ACTIONS": "true",
        "GITHUB_JOB": JOB,
        "GITHUB_WORKSPACE": str(scene.tmp / "workspace"),
        "RUNNER_TEMP": str(scene.tmp / "runner-temp"),
        "ENVSECOPS_AWS_ENDPOINT_URL": scene.proxy.url,
        **scene.issuer.environ(),
    }
    if s3:  # the S3 ledger's own credentials (fake, for moto)
        values |= S3_ENV
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(scene.tmp)


@pytest.fixture(name="scene")
def scene_fixture(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    mint_roles: Roles,
) -> Iterator[MintScene]:
    """A GitHub Actions step environment with the issuer and moto's STS behind the proxy."""
    issuer = RecordingIssuer()
    issuer.start()
    proxy = StsProxy(moto_endpoint, [], match=every, hold=1.5)
    proxy.start()
    try:
        built = MintScene(tmp_path, issuer, proxy, mint_roles, moto_endpoint, monkeypatch)
        enter_actions(built)
        yield built
    finally:
        proxy.stop()
        issuer.stop()
