"""Time `envsecops mint` against moto's STS on loopback, whole and split into its parts.

Everything runs against servers on 127.0.0.1 (bench/mint_stand.py): moto's
``ThreadedMotoServer`` with a gate and a target role, a GitHub-shaped OIDC issuer (discovery,
JWKS, token endpoint), and a file ledger in a temporary directory. A real allow decision for
this "job" is made first by `envsecops attest` and `envsecops verify` (key-signed, bound by the
issuer's validated claims), once for a tiny runner tree (``--root``) and once for this machine
(``/``), so every mint passes every precondition and issues real (moto) credentials.

Rows, each the median of --rounds rounds (this machine's root: --machine-rounds):

- baselines: a bare boto3 `assume_role_with_web_identity` on a fresh session and client against
  the same moto (the floor of any web-identity exchange; every ratio is to it), the bare two
  hops (the same plus `assume_role` with tags, transitive keys and source identity), and the
  bare call from a fresh `python -I` process (interpreter start and boto3 import included);
- exchange: `AwsProvider.mint` (both hops), a fresh provider each round;
- token: `request_token` from the issuer + `validate_token` with fresh `IssuerKeys` (discovery
  and JWKS fetched, as a fresh process does); mint does this twice (audience `envsecops` for
  the binding, then the provider's), the row is one;
- ledger: mint-intent + mint-issued appended to a file ledger (lock, chain, fsync) through
  `append_all`, with the real decision and credential as the body;
- re-inventory: `take_inventory` over the same catalogers as attest and verify (no syft), of
  the tiny root and of this machine;
- envsecops mint: `main(["mint", …])` end to end in this process, and for the tiny root also
  as a fresh `python -I -m envsecops mint` process (what the action runs).

Then the phases of the in-process mints from mint's own ``mint timings`` line (decision,
re-inventory, token, ledgers, provider, export). Rounds alternate the order of the rows; the
decision is re-made by verify when it gets near mint's 300 s age limit (untimed).

Usage: .venv/bin/python bench/mint.py [--rounds 15] [--machine-rounds 5] [--no-machine]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mint_stand import JOB, REGION, REPOSITORY, RUN_ATTEMPT, RUN_ID, Issuer, Stand, tiny_root

from envsecops.cli.main import main as envsecops
from envsecops.creds.aws import AwsProvider
from envsecops.creds.endpoints import AWS_ENDPOINT_ENV
from envsecops.creds.interface import IssuedCredential, MintRequest
from envsecops.gh.jwks import IssuerKeys
from envsecops.gh.oidc import request_token, validate_token
from envsecops.ledger.audit import record_body
from envsecops.ledger.registry import append_all, build_ledgers
from envsecops.model.bag import Bag
from envsecops.model.decision import Decision
from envsecops.model.ledger import EntryKind
from envsecops.policy.model import ProviderSettings
from envsecops.policy.render import render_policy

NONCE = "bench-mint-nonce-0123456789"
AUDIENCE = "sts.amazonaws.com"
TIMINGS = "envsecops: mint timings (s): "
FRESH_FOR = 120.0
"""Seconds after which a scene re-verifies before the next mint (mint refuses 300 s)."""
TAGS = [
    {"Key": "env_hash", "Value": "sha256:" + "ab" * 32},
    {"Key": "policy_id", "Value": "bench@sha256:0123456789ab"},
    {"Key": "decision_id", "Value": "dec_" + "5" * 32},
]


def _cli(*argv: str | Path) -> tuple[int, str]:
    """Run envsecops in-process; its exit code and stderr (stdout is discarded)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        return envsecops([str(a) for a in argv]), err.getvalue()


def phases(stderr: str) -> dict[str, float]:
    """The seconds per phase from mint's own ``mint timings (s): name 0.123, …`` line."""
    line = next((x for x in stderr.splitlines() if x.startswith(TIMINGS)), None)
    if line is None:
        raise SystemExit("envsecops mint printed no timings line")
    pairs = (part.rsplit(" ", 1) for part in line.removeprefix(TIMINGS).split(", "))
    return {name: float(value) for name, value in pairs}


class Scene:
    """A signed allow decision for this job over ``root``, and the mint command that uses it."""

    def __init__(self, work: Path, root: Path, stand: Stand, issuer: Issuer, key: Path) -> None:
        self.work, self.root, self.stand, self.issuer, self.key = work, root, stand, issuer, key
        self.ledger = work / "ledger.jsonl"
        attested = work / "attested"
        code, _err = _cli(
            "attest", "--root", root, "--out", attested, "--signer", "key", "--key", key,
            "--no-syft", "--nonce", NONCE, "--oidc-issuer", issuer.url,
        )  # fmt: skip
        if code != 0:
            raise SystemExit(f"attest --root {root} exited {code}")
        bag = Bag.from_json(json.loads((attested / "bag.json").read_bytes()))
        policy = work / "policy.yml"
        text = render_policy(bag, name="bench-mint")
        policy.write_text(text + stand.policy_section(), encoding="utf-8")
        self.out = work / "decision"
        self.verify(attested, policy)
        self.decision = Decision.from_json(json.loads((self.out / "decision.json").read_bytes()))
        if self.decision.verdict.value != "allow":
            raise SystemExit(f"the decision over {root} is a deny: {self.decision.reasons}")
        self.attested, self.policy = attested, policy
        self.minted = 0
        self.phases: dict[str, list[float]] = {}
        self.claims = validate_token(
            issuer.token("envsecops"),
            audience="envsecops",
            keys=IssuerKeys(issuer.url),
            issuer=issuer.url,
        )

    def verify(self, attested: Path, policy: Path) -> None:
        """A fresh decision (mint refuses one older than five minutes)."""
        self.verified_at = time.monotonic()
        code, _err = _cli(
            "verify", "--root", self.root, "--attestation", attested / "attestation.dsse.json",
            "--bag", attested / "bag.json", "--key", self.key, "--no-syft", "--nonce", NONCE,
            "--policy", policy, "--oidc-issuer", self.issuer.url, "--out", self.out,
        )  # fmt: skip
        if code != 0:
            raise SystemExit(f"verify --root {self.root} exited {code}")

    def refresh(self) -> None:
        """Re-verify when the decision is getting old (mint's default limit is 300 s)."""
        if time.monotonic() - self.verified_at > FRESH_FOR:
            self.verify(self.attested, self.policy)

    def argv(self) -> list[str]:
        """The mint command line for this scene (a fresh output directory each time)."""
        self.minted += 1
        return [
            "mint", "--decision", str(self.out / "decision.json"), "--key", str(self.key),
            "--root", str(self.root), "--no-syft", "--oidc-issuer", self.issuer.url,
            "--ledger", f"file:{self.ledger}", "--out", str(self.work / f"mint{self.minted}"),
        ]  # fmt: skip

    def mint(self) -> None:
        """`envsecops mint` end to end in this process; anything but an issue ends the run."""
        code, err = _cli(*self.argv())
        if code != 0:
            raise SystemExit(f"envsecops mint --root {self.root} exited {code}: {err}")
        for name, seconds in phases(err).items():
            self.phases.setdefault(name, []).append(seconds)

    def mint_process(self) -> None:
        """`python -I -m envsecops mint` as a fresh process, as the action runs it."""
        argv = [sys.executable, "-I", "-m", "envsecops", *self.argv()]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"envsecops mint (process) exited {done.returncode}: {done.stderr}")

    def inventory(self) -> None:
        """The re-inventory mint takes: the same catalogers and options as attest and verify."""
        from envsecops.bag.inventory import context_from_environment, take_inventory

        context = context_from_environment(
            dict(os.environ), root=self.root, config_globs=(), claims=self.claims
        )
        bag = take_inventory(context)
        if bag.env_hash != self.decision.env_hash:
            raise SystemExit(f"the re-inventory of {self.root} drifted from the decision")


def _token(issuer: Issuer) -> None:
    keys = IssuerKeys(issuer.url)
    token = request_token(os.environ, AUDIENCE)
    validate_token(token, audience=AUDIENCE, keys=keys, issuer=issuer.url)


def _exchange(stand: Stand, issuer: Issuer, decision: Decision) -> IssuedCredential:
    settings = ProviderSettings(
        "aws",
        (("gate-role-arn", stand.gate_arn), ("region", REGION), ("role-arn", stand.target_arn)),
    )
    request = MintRequest(
        decision_id=decision.decision_id,
        env_hash=decision.env_hash,
        policy_id=decision.policy_id,
        run_id=RUN_ID,
        run_attempt=RUN_ATTEMPT,
        settings=settings,
    )
    provider = AwsProvider(environ={AWS_ENDPOINT_ENV: stand.endpoint})
    return provider.mint(request, issuer.token(AUDIENCE))


def _ledger(path: Path, issued: IssuedCredential, decision: Decision) -> None:
    ledgers = build_ledgers([f"file:{path}"])
    credential = issued.credential
    intent = {"provider": credential.provider, "role": credential.role}
    append_all(ledgers, EntryKind.MINT_INTENT, record_body(decision, intent=intent))
    append_all(ledgers, EntryKind.MINT_ISSUED, record_body(decision, credential=credential))


def _bare(stand: Stand, issuer: Issuer) -> dict[str, str]:
    answer = stand.sts().assume_role_with_web_identity(
        RoleArn=stand.gate_arn,
        RoleSessionName="bench-bare",
        WebIdentityToken=issuer.token(AUDIENCE),
        DurationSeconds=900,
    )
    credentials: dict[str, str] = answer["Credentials"]
    return credentials


BARE_PROCESS = """
import os, boto3
sts = boto3.session.Session().client(
    "sts", region_name=os.environ["BENCH_REGION"], endpoint_url=os.environ["BENCH_ENDPOINT"]
)
sts.assume_role_with_web_identity(
    RoleArn=os.environ["BENCH_ROLE"], RoleSessionName="bench-bare",
    WebIdentityToken=os.environ["BENCH_TOKEN"], DurationSeconds=900,
)
"""


def _bare_process(stand: Stand, issuer: Issuer) -> None:
    """The same bare call from a fresh `python -I` process (interpreter start and imports)."""
    env = {
        **os.environ,
        "BENCH_REGION": REGION,
        "BENCH_ENDPOINT": stand.endpoint,
        "BENCH_ROLE": stand.gate_arn,
        "BENCH_TOKEN": issuer.token(AUDIENCE),
    }
    subprocess.run([sys.executable, "-I", "-c", BARE_PROCESS], env=env, check=True)


def _bare_two_hops(stand: Stand, issuer: Issuer) -> None:
    gate = _bare(stand, issuer)
    stand.sts(
        aws_access_key_id=gate["AccessKeyId"],
        aws_secret_access_key=gate["SecretAccessKey"],
        aws_session_token=gate["SessionToken"],
    ).assume_role(
        RoleArn=stand.target_arn,
        RoleSessionName="bench-bare",
        Tags=TAGS,
        TransitiveTagKeys=[tag["Key"] for tag in TAGS],
        SourceIdentity="dec_" + "5" * 32,
        DurationSeconds=900,
    )


@dataclass
class Part:
    """One timed thing: what it runs, how many rounds, and an untimed hook before each."""

    name: str
    action: Callable[[], object]
    rounds: int = 0
    before: Callable[[], None] = lambda: None
    times: list[float] = field(default_factory=list)


def _time_all(parts: list[Part]) -> None:
    """One untimed run of each part, then rounds in alternation (the order flips every round)."""
    for part in parts:
        part.before()
        part.action()
    for index in range(max(part.rounds for part in parts)):
        for part in parts if index % 2 == 0 else reversed(parts):
            if index < part.rounds:
                part.before()
                start = time.perf_counter()
                part.action()
                part.times.append(time.perf_counter() - start)


def main() -> None:
    """Build the stand, make the decisions, time every part and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--machine-rounds", type=int, default=5)
    parser.add_argument("--no-machine", action="store_true", help="skip this machine's root")
    args = parser.parse_args()
    from envsecops.attest.key import generate_key

    stand, issuer = Stand(), Issuer()
    os.environ.update({**issuer.environ(), AWS_ENDPOINT_ENV: stand.endpoint})
    os.environ.update(GITHUB_REPOSITORY=REPOSITORY, GITHUB_RUN_ID=RUN_ID, GITHUB_JOB=JOB)
    os.environ.update(GITHUB_RUN_ATTEMPT=RUN_ATTEMPT)
    try:
        with tempfile.TemporaryDirectory(prefix="envsecops-bench-mint-") as temp:
            work = Path(temp)
            key = generate_key(work / "signing.pem").private_path
            (work / "tiny").mkdir()
            tiny = Scene(work / "tiny", tiny_root(work / "tiny" / "root"), stand, issuer, key)
            scenes = {"tiny root": tiny}
            if not args.no_machine:
                (work / "machine").mkdir()
                scenes["this machine"] = Scene(work / "machine", Path("/"), stand, issuer, key)
            _run(args, scenes, stand, issuer, work)
    finally:
        issuer.stop()
        stand.stop()


def _run(
    args: argparse.Namespace, scenes: dict[str, Scene], stand: Stand, issuer: Issuer, work: Path
) -> None:
    tiny = scenes["tiny root"]
    issued = _exchange(stand, issuer, tiny.decision)
    rounds, ledger = args.rounds, work / "bench.jsonl"
    decision = tiny.decision
    parts = [
        Part("baseline: bare boto3 AssumeRoleWithWebIdentity", partial(_bare, stand, issuer)),
        Part("bare boto3 two hops (+ AssumeRole, tags)", partial(_bare_two_hops, stand, issuer)),
        Part("exchange: AwsProvider.mint, two hops", partial(_exchange, stand, issuer, decision)),
        Part("token: request + validate (mint does 2)", partial(_token, issuer)),
        Part("ledger: intent + issued, file, fsync", partial(_ledger, ledger, issued, decision)),
    ]
    for part in parts:
        part.rounds = rounds
    for name, scene in scenes.items():
        count = rounds if scene is tiny else args.machine_rounds
        parts.append(Part(f"re-inventory: {name}", scene.inventory, count))
        parts.append(Part(f"envsecops mint: {name}", scene.mint, count, scene.refresh))
    bare_process = partial(_bare_process, stand, issuer)
    parts.append(Part("bare boto3 call, fresh python -I process", bare_process, rounds))
    parts.append(Part("envsecops mint, fresh process: tiny root", tiny.mint_process, rounds))
    parts[-1].before = tiny.refresh
    _time_all(parts)
    base = statistics.median(parts[0].times)
    print(f"\nenvsecops mint on loopback (moto STS, local OIDC issuer), {os.cpu_count()} CPUs")
    print(f"  {'':48} {'rounds':>6} {'median ms':>10} {'vs baseline':>12}")
    for part in parts:
        seconds = statistics.median(part.times)
        ratio = seconds / base
        print(f"  {part.name:48} {len(part.times):6} {seconds * 1000:10.1f} {ratio:11.1f}x")
    print("\ninside envsecops mint (its own `mint timings` line), median ms per phase")
    names = list(dict.fromkeys(n for scene in scenes.values() for n in scene.phases))
    print(f"  {'':16}" + "".join(f" {name:>13}" for name in names))
    for name, scene in scenes.items():
        cells = "".join(f" {statistics.median(scene.phases[n]) * 1000:13.1f}" for n in names)
        print(f"  {name:16}{cells}")


if __name__ == "__main__":
    main()
