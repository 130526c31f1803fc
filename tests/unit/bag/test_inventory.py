"""take_inventory over a real runner-like tree: determinism, drift, failures kept, OIDC origins."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from envsecops.bag.interface import CatalogContext, Cataloger, CatalogError
from envsecops.bag.inventory import (
    NO_CLAIMS_NOTE,
    context_from_environment,
    default_catalogers,
    take_inventory,
)
from envsecops.canonical import canonical_json
from envsecops.gh.jwks import IssuerKeys
from envsecops.gh.oidc import TokenRequestFailed, request_token, validate_token
from envsecops.model.bag import Bag, Component, ComponentKind, Status, diff_bags
from tests.integration.oidc_issuer.server import LocalIssuer

DPKG = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n"
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/runner",
    "ImageOS": "ubuntu24",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
}


def _write(root: Path, runner_path: str, content: str, mode: int = 0o644) -> Path:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def runner_root(tmp_path: Path) -> Path:
    """A small machine: os-release, dpkg, binaries, a Python with one package, node with npm."""
    root = tmp_path / "root"
    _write(root, "/etc/os-release", "ID=ubuntu\nVERSION_ID=24.04\n")
    _write(root, "/var/lib/dpkg/status", DPKG)
    _write(root, "/usr/bin/tool", "#!/bin/sh\necho tool\n", 0o755)
    _write(root, "/usr/bin/python3.12", "\x7fELF python", 0o755)
    site = "/usr/lib/python3.12/site-packages/requests-2.32.3.dist-info"
    _write(root, f"{site}/METADATA", "Name: requests\nVersion: 2.32.3\n")
    _write(root, f"{site}/RECORD", "requests/__init__.py,sha256=x,1\n")
    _write(root, "/usr/local/bin/node", "\x7fELF node", 0o755)
    _write(
        root, "/usr/local/lib/node_modules/npm/package.json", '{"name":"npm","version":"10.9.0"}'
    )
    (root / "bin").symlink_to("usr/bin")
    return root


def _run(n: int) -> dict[str, str]:
    return {
        **BASE_ENV,
        "GITHUB_RUN_ID": str(1000 + n),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SHA": f"{n:040x}",
        "GITHUB_OUTPUT": f"/home/runner/work/_temp/_runner_file_commands/set_output_{n}",
        "RUNNER_TRACKING_ID": f"github_{n}",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": f"request-token-{n}",
    }


def _bag(root: Path, environ: dict[str, str], **kwargs: Any) -> Bag:
    claims = kwargs.pop("claims", None)
    context = context_from_environment(environ, root=root, claims=claims)
    return take_inventory(context, **kwargs)


def _named(bag: Bag, name: str) -> Component:
    return next(c for c in bag.components if c.name == name)


def test_two_runs_on_an_unchanged_machine_hash_alike(runner_root: Path) -> None:
    first = _bag(runner_root, _run(1), clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    second = _bag(runner_root, _run(2), clock=lambda: datetime(2026, 1, 2, tzinfo=UTC))
    assert first.env_hash == second.env_hash
    assert first.created_at == "2026-01-01T00:00:00Z"
    assert diff_bags(first, second).empty
    sources = {c.source for c in first.components}
    assert {
        "runner",
        "path-binaries",
        "os-packages",
        "python-packages",
        "node-packages",
        "env",
    } <= (sources)
    assert not [
        c for c in first.components if c.status is not Status.OK and c.source != "path-binaries"
    ]
    reloaded = Bag.from_json(json.loads(canonical_json(first.to_json())))
    assert reloaded.env_hash == first.env_hash


def test_touching_one_binary_changes_the_hash(runner_root: Path) -> None:
    before = _bag(runner_root, _run(1))
    _write(runner_root, "/usr/bin/tool", "#!/bin/sh\necho pwned\n", 0o755)
    after = _bag(runner_root, _run(1))
    assert after.env_hash != before.env_hash
    diff = diff_bags(before, after)
    assert [new.path for _, new in diff.changed] == ["/usr/bin/tool"]
    assert not diff.added
    assert not diff.removed


def test_a_changed_package_record_changes_the_hash(runner_root: Path) -> None:
    before = _bag(runner_root, _run(1))
    _write(runner_root, "/usr/lib/python3.12/site-packages/requests-2.32.3.dist-info/RECORD", "x")
    assert _bag(runner_root, _run(1)).env_hash != before.env_hash


def test_ld_preload_set_by_an_earlier_step_is_flagged(runner_root: Path) -> None:
    clean = _bag(runner_root, _run(1))
    planted = _bag(runner_root, {**_run(1), "LD_PRELOAD": "/home/runner/work/_temp/evil.so"})
    preload = _named(planted, "LD_PRELOAD")
    assert preload.kind is ComponentKind.ENV
    assert (preload.prop("risky"), preload.prop("risk")) == ("true", "loader")
    assert not preload.volatile
    assert planted.env_hash != clean.env_hash


def test_a_failed_token_request_still_yields_a_bag_with_env_origins(
    runner_root: Path, oidc_issuer: LocalIssuer
) -> None:
    oidc_issuer.fail_token = [503] * 10
    environ = {**_run(1), **oidc_issuer.environ()}
    with pytest.raises(TokenRequestFailed):
        request_token(environ, "sts.amazonaws.com", retries=1, sleep=lambda _s: None)
    bag = _bag(runner_root, environ, claims={})
    origins = dict(bag.runner.origins)
    assert origins["runner_environment"] == "env"
    assert origins["image_os"] == "env"
    assert origins["os"] == "file"
    assert NO_CLAIMS_NOTE in bag.notes


def test_validated_claims_drive_the_facts_and_expose_lying_env(
    runner_root: Path, oidc_issuer: LocalIssuer
) -> None:
    environ = {**_run(1), **oidc_issuer.environ(), "RUNNER_ENVIRONMENT": "self-hosted"}
    token = request_token(environ, "sts.amazonaws.com", sleep=lambda _s: None)
    claims = validate_token(
        token,
        audience="sts.amazonaws.com",
        keys=IssuerKeys(oidc_issuer.url),
        issuer=oidc_issuer.url,
    )
    bag = _bag(runner_root, environ, claims=claims)
    assert bag.runner.get("runner_environment") == "github-hosted"
    assert dict(bag.runner.origins)["runner_environment"] == "oidc"
    assert NO_CLAIMS_NOTE not in bag.notes
    lie = _named(bag, "env-claim-mismatch:RUNNER_ENVIRONMENT")
    assert lie.prop("env_value") == "self-hosted"
    assert _named(bag, "env-claim-mismatch:GITHUB_SHA").prop("mismatch") == "true"


class Exploding(Cataloger):
    """Yields one component, then fails like a real cataloger hitting a bug."""

    id = "exploding"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        yield Component(ComponentKind.CONFIG, "first", self.id)
        raise RuntimeError("disk on fire")


class Refusing(Cataloger):
    """Raises one of our own errors before yielding anything."""

    id = "refusing"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        raise CatalogError("the database is locked", fix="stop the other writer")


class Sloppy(Cataloger):
    """Yields something that is not a Component."""

    id = "sloppy"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        yield "not a component"  # type: ignore[misc]


def test_a_cataloger_that_raises_is_recorded_and_the_bag_still_built(runner_root: Path) -> None:
    catalogers = [*default_catalogers(), Exploding(), Refusing(), Sloppy()]
    bag = _bag(runner_root, _run(1), catalogers=catalogers)
    boom = _named(bag, "cataloger-failed:exploding")
    assert boom.status is Status.UNREADABLE
    assert boom.prop("error") == "RuntimeError: disk on fire"
    assert boom.prop("partial_components") == "1"
    assert _named(bag, "first").source == "exploding"
    refused = _named(bag, "cataloger-failed:refusing")
    assert "stop the other writer" in (refused.prop("error") or "")
    assert "not a Component" in (_named(bag, "cataloger-failed:sloppy").prop("error") or "")
    assert _named(bag, "PATH").kind is ComponentKind.ENV  # the others still ran
    assert any(note.startswith("exploding: FAILED") for note in bag.notes)


def test_no_catalogers_is_an_error_not_an_empty_bag(runner_root: Path) -> None:
    with pytest.raises(CatalogError, match="empty inventory"):
        _bag(runner_root, _run(1), catalogers=[])
    with pytest.raises(CatalogError, match="exploding"):
        _bag(runner_root, _run(1), catalogers=[Exploding(), Exploding()])


class SyftLike(Cataloger):
    """A supplementary cataloger reporting one package we know and one we do not."""

    id = "syft-like"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        known = "pkg:deb/ubuntu/bash@5.2.15-2%2Bb7?arch=amd64&distro=ubuntu-24.04"
        yield Component(ComponentKind.PACKAGE, "bash", self.id, version="5.2.15-2+b7", purl=known)
        yield Component(
            ComponentKind.PACKAGE, "jq", self.id, version="1.7", purl="pkg:deb/x/jq@1.7"
        )


def test_extra_catalogers_are_merged_by_purl(runner_root: Path) -> None:
    bag = _bag(runner_root, _run(1), extra=[SyftLike()])
    extra = [c.name for c in bag.components if c.source == "syft-like"]
    assert extra == ["jq"]
    assert any("1 of 2 components were already reported" in note for note in bag.notes)


def test_progress_is_reported(runner_root: Path) -> None:
    calls: list[tuple[int, int | None, str]] = []
    _bag(runner_root, _run(1), progress=lambda d, t, w: calls.append((d, t, w)))
    done = [c for c in calls if c[2].startswith("catalogers done")]
    assert done[-1][0] == done[-1][1] == len(default_catalogers())
    assert any(c[2].startswith("files hashed") for c in calls)


def test_context_takes_a_snapshot() -> None:
    environ = {"HOME": "relative/home", "GITHUB_WORKSPACE": "/home/runner/work/r/r", "X": "1"}
    context = context_from_environment(environ, root=Path("/r"), config_globs=["*.sh"])
    environ["X"] = "2"
    assert context.environ["X"] == "1"
    assert context.home is None
    assert context.workspace == Path("/home/runner/work/r/r")
    assert context.config_globs == ("*.sh",)
    assert dict(context.claims) == {}


def test_created_at_is_rfc3339_utc(runner_root: Path) -> None:
    bag = _bag(runner_root, _run(1))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bag.created_at)
    assert bag.tool.startswith("envsecops ")
