"""The demo's second stage: attest this machine's bag with a generated key, then verify it.

With a loopback OIDC issuer, attest binds the attestation to the job through the issuer's
validated token (the facts' origin is ``oidc``, not the environment any step can change), and
this stage checks that it did.
"""

from __future__ import annotations

import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from envsecops.errors import EnvsecopsError, ExitCode

if TYPE_CHECKING:
    from envsecops.attest.key import GeneratedKey


@dataclass(frozen=True, slots=True)
class Attested:
    """What stage 2 produced and the later stages use: the key, the files, the nonce."""

    key: GeneratedKey
    out: Path
    nonce: str
    env_hash: str

    @property
    def attestation(self) -> Path:
        """The DSSE envelope attest wrote (key mode)."""
        return self.out / "attestation.dsse.json"

    @property
    def bag(self) -> Path:
        """The bag manifest."""
        return self.out / "bag.json"


OIDC_FACTS = ("repository", "repository_id", "run_id", "run_attempt", "job_workflow_ref", "sha")
"""The binding facts that must come from the validated token when an issuer is given."""


def run_attest_stage(work: Path, stream: TextIO, issuer: str | None = None) -> Attested | None:
    """Run `envsecops attest --signer key` on this machine and verify what it wrote.

    Returns what was attested when the attestation verified against the generated public
    key, the attested env hash is the one in bag.json and (with ``issuer``, the URL of the
    OIDC issuer whose token binds the job) the job's facts came from that token; else None.
    Everything, the command's own output included, goes to ``stream``.
    """
    write = stream.write
    from envsecops.attest.binding import Origin
    from envsecops.attest.key import KeyVerifier, generate_key
    from envsecops.attest.verify import verify_attestation
    from envsecops.cli.main import main

    key = generate_key(work / "demo-signing-key.pem")
    out = work / "attestation"
    write("\nStage 2, attest-runner: inventory this machine, write an SBOM, sign with a key\n")
    shown = f" --oidc-issuer {issuer}" if issuer else ""
    write(f"$ envsecops attest --signer key --key {key.private_path.name} --no-syft{shown}\n")
    argv = ["attest", "--signer", "key", "--key", str(key.private_path), "--out", str(out)]
    argv += ["--oidc-issuer", issuer] if issuer else []
    with redirect_stdout(stream), redirect_stderr(stream):
        code = main([*argv, "--no-syft"])
    if code != ExitCode.OK:
        write(f"  attest exited {code}\n")
        return None
    bag_json = (out / "bag.json").read_bytes()
    try:
        verified = verify_attestation(
            (out / "attestation.dsse.json").read_bytes(),
            bag_json,
            KeyVerifier.from_files([key.public_path]),
        )
    except EnvsecopsError as exc:
        write(f"  [FAIL] the attestation did not verify: {exc.diagnostics()}\n")
        return None
    bag = json.loads(bag_json)
    kinds: dict[str, int] = {}
    for component in bag["components"]:
        kinds[component["kind"]] = kinds.get(component["kind"], 0) + 1
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    ok: bool = verified.env_hash == bag["env_hash"]
    write(f"  bag.json: {len(bag['components'])} components ({counts})\n")
    write(f"  [{'ok' if ok else 'FAIL'}] attestation signed by {verified.signer} verified;")
    write(f" it names env hash {verified.env_hash}\n")
    if not ok:
        return None
    if issuer:
        binding = verified.binding
        unbound = [name for name in OIDC_FACTS if binding.origin(name) is not Origin.OIDC]
        if unbound:
            write(f"  [FAIL] not bound by the issuer's token: {', '.join(unbound)}\n")
            return None
        write(
            f"  [ok] bound to {binding.repository} run {binding.run_id} attempt "
            f"{binding.run_attempt} by the issuer's validated token ({', '.join(OIDC_FACTS)} "
            f"from OIDC claims, not the environment), nonce {binding.nonce}\n"
        )
    return Attested(key, out, verified.binding.nonce, verified.env_hash)
