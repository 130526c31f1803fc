"""The demo's second stage: attest this machine's bag with a generated key, then verify it."""

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


def run_attest_stage(work: Path, stream: TextIO) -> Attested | None:
    """Run `envsecops attest --signer key` on this machine and verify what it wrote.

    Returns what was attested when the attestation verified against the generated public
    key and the attested env hash is the one in bag.json, else None. Everything, the
    command's own output included, goes to ``stream``.
    """
    write = stream.write
    from envsecops.attest.key import KeyVerifier, generate_key
    from envsecops.attest.verify import verify_attestation
    from envsecops.cli.main import main

    key = generate_key(work / "demo-signing-key.pem")
    out = work / "attestation"
    write("\nStage 2, attest-runner: inventory this machine, write an SBOM, sign with a key\n")
    write(f"$ envsecops attest --signer key --key {key.private_path.name} --no-syft\n")
    argv = ["attest", "--signer", "key", "--key", str(key.private_path), "--out", str(out)]
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
    return Attested(key, out, verified.binding.nonce, verified.env_hash)
