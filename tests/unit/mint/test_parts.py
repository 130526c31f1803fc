"""The small parts of a mint: masks, output names, the private file, timings, the renderers."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from envsecops.creds.interface import IssuedCredential
from envsecops.gh.commands import ActionsRuntimeError
from envsecops.mint.export import Destination, ExportFailed, export, mask_lines, output_name
from envsecops.mint.render import Minted, render_refusal, render_summary, render_text
from envsecops.mint.timing import Timings
from envsecops.model.decision import Credential
from tests.unit.mint.fakes import SECRET, SESSION_TOKEN, World


def _issued() -> IssuedCredential:
    credential = Credential(
        "vault", "auth/jwt/role/r", "envsecops-1-1-aa", "acc-1", "2026-03-01T12:15:00Z"
    )
    return IssuedCredential(
        credential,
        {"client_token": SESSION_TOKEN},
        {"VAULT_ADDR": "https://vault.example.com", "VAULT_TOKEN": SESSION_TOKEN},
    )


def test_every_line_of_a_multi_line_value_is_masked_and_blank_values_refused() -> None:
    assert mask_lines(["a\nb"]) == ["::add-mask::a", "::add-mask::b", "::add-mask::a%0Ab"]
    with pytest.raises(ActionsRuntimeError):
        mask_lines([" "])


def test_output_names_follow_the_variable_names() -> None:
    assert output_name("AWS_SECRET_ACCESS_KEY") == "aws-secret-access-key"
    assert output_name("VAULT_TOKEN") == "vault-token"


def test_locally_the_exports_go_to_a_private_sourceable_file(tmp_path: Path) -> None:
    exported = export(_issued(), Destination(out_dir=tmp_path))
    path = tmp_path / "credentials.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == (
        f"export VAULT_ADDR=https://vault.example.com\nexport VAULT_TOKEN={SESSION_TOKEN}\n"
    )
    assert exported.outputs == ()
    assert SESSION_TOKEN not in exported.record.read_text()


def test_in_actions_outputs_carry_secrets_only_when_asked(tmp_path: Path) -> None:
    github_output = tmp_path / "out"
    plain = Destination(tmp_path, tmp_path / "env", github_output)
    assert export(_issued(), plain).outputs == ("expires-at", "credential")
    assert SESSION_TOKEN not in github_output.read_text()
    asked = Destination(tmp_path, tmp_path / "env", tmp_path / "out2", output_credentials=True)
    names = export(_issued(), asked).outputs
    assert names == ("expires-at", "credential", "vault-addr", "vault-token")


def test_an_unwritable_destination_is_an_export_failure(tmp_path: Path) -> None:
    with pytest.raises(ExportFailed) as caught:
        export(_issued(), Destination(tmp_path / "missing"))
    assert caught.value.exit_code == 3


def test_timings_add_up_by_phase_and_print_in_order() -> None:
    ticks = iter([0.0, 1.0, 1.5, 2.0, 2.25, 3.0])
    timings = Timings(clock=lambda: next(ticks))
    with timings.phase("ledgers"):
        pass
    with timings.phase("ledgers"):
        pass
    assert timings.seconds == {"ledgers": 0.75}
    assert timings.line() == "mint timings (s): ledgers 0.750, total 3.000"


def test_the_renderers_show_the_record_and_never_a_secret(tmp_path: Path) -> None:
    world = World(tmp_path)
    from envsecops.mint.run import mint

    minted = mint(world.plan(), world.collaborators(), Timings())
    assert isinstance(minted, Minted)
    text, summary = render_text(minted), render_summary(minted)
    for shown in (text, summary):
        assert SECRET not in shown
        assert SESSION_TOKEN not in shown
    assert "ASIAUNITTESTKEY00001" in text
    assert "ledger mint-intent  file:l seq - sha256:" in text
    assert "\\<script\\>" in render_refusal("x", "<script>")
