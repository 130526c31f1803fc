"""The configs cataloger on a real temporary root: digests, withheld secrets, globs, bad input."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from envsecops.bag.config_globs import glob_problem
from envsecops.bag.configs import Configs
from envsecops.bag.interface import CatalogContext
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status
from tests.unit.bag.fs_helpers import open_tree, unprivileged, write

HOME = "/home/runner"
WORKSPACE = "/home/runner/work/repo/repo"


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    write(root / "etc/pip.conf", "[global]\nindex-url = https://pypi.org/simple\n")
    write(
        root / "etc/apt/sources.list.d/a.list", "deb http://archive.ubuntu.com/ubuntu noble main\n"
    )
    write(root / "etc/apt/sources.list.d/b.sources", "Types: deb\n")
    write(root / "run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n")
    (root / "etc/resolv.conf").symlink_to("../run/systemd/resolve/stub-resolv.conf")
    write(root / "home/runner/.gitconfig", "[user]\n\tname = runner\n")
    write(root / "home/runner/.npmrc", "//registry.npmjs.org/:_authToken=npm_abcdef\n", 0o600)
    write(root / "home/runner/.docker/config.json", '{"auths": {"ghcr.io": {}}}', 0o600)
    write(root / "home/runner/.netrc", "machine github.com password hunter2\n", 0o600)
    write(root / "home/runner/work/repo/repo/scripts/build.sh", "#!/bin/sh\nmake\n", 0o755)
    write(root / "home/runner/work/repo/repo/scripts/lib/util.sh", "echo util\n")
    return root


def _run(root: Path, globs: tuple[str, ...] = ()) -> dict[str, Component]:
    context = CatalogContext(
        environ={"HOME": HOME},
        root=root,
        home=Path(HOME),
        workspace=Path(WORKSPACE),
        config_globs=globs,
    )
    return {c.name: c for c in Configs().catalog(context)}


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_default_configs_are_recorded_by_digest_and_links_resolved(tmp_path: Path) -> None:
    found = _run(_root(tmp_path))
    pip = found["/etc/pip.conf"]
    assert (pip.kind, pip.status, pip.digest) == (
        ComponentKind.CONFIG,
        Status.OK,
        _sha("[global]\nindex-url = https://pypi.org/simple\n"),
    )
    resolv = found["/etc/resolv.conf"]
    assert resolv.digest == _sha("nameserver 127.0.0.53\n")
    assert resolv.prop("resolved") == "/run/systemd/resolve/stub-resolv.conf"
    assert found["~/.gitconfig"].path == "/home/runner/.gitconfig"
    assert "/etc/apt/sources.list.d/a.list" in found
    assert "/etc/hosts" not in found  # absent defaults are not recorded


def test_no_component_ever_carries_file_content(tmp_path: Path) -> None:
    found = _run(_root(tmp_path))
    text = canonical_json(Bag.build(RunnerFacts(), found.values()).to_json())
    for secret in (b"npm_abcdef", b"hunter2", b"ghcr.io", b"archive.ubuntu.com", b"runner\n"):
        assert secret not in text


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("~/.npmrc", "a credential pattern on line 1"),
        ("~/.docker/config.json", "a credentials file"),
        ("~/.netrc", "a credentials file"),
    ],
)
def test_files_that_may_hold_credentials_have_their_digest_withheld(
    tmp_path: Path, name: str, why: str
) -> None:
    component = _run(_root(tmp_path))[name]
    assert (component.status, component.digest) == (Status.DIGEST_ONLY, None)
    assert why in (component.prop("withheld") or "")
    assert component.prop("mode") == "600"


@pytest.mark.parametrize(
    "text",
    [
        "registry=https://r.example\n//r.example/:_authToken=${NPM_TOKEN}\n",
        "[global]\nindex-url = https://user:s3cret@pypi.example/simple\n",
        '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic eA==\n',
        "<settings><servers><server><password>x</password></server></servers></settings>\n",
        "[default]\naws_secret_access_key = abc\n",
    ],
)
def test_credential_patterns_are_screened_in_ordinary_config_files(
    tmp_path: Path, text: str
) -> None:
    root = _root(tmp_path)
    write(root / "etc/pip.conf", text)
    assert _run(root)["/etc/pip.conf"].status is Status.DIGEST_ONLY


def test_ordinary_words_are_not_mistaken_for_credentials(tmp_path: Path) -> None:
    root = _root(tmp_path)
    write(root / "etc/ssh/ssh_config", "Host *\n    PasswordAuthentication no\n")
    assert _run(root)["/etc/ssh/ssh_config"].status is Status.OK


def test_policy_globs_are_relative_to_the_workspace_and_recursive(tmp_path: Path) -> None:
    found = _run(_root(tmp_path), ("scripts/**/*.sh",))
    build = found["scripts/build.sh"]
    assert build.path == WORKSPACE + "/scripts/build.sh"
    assert build.prop("glob") == "scripts/**/*.sh"
    assert build.digest == _sha("#!/bin/sh\nmake\n")
    assert "scripts/lib/util.sh" in found


def test_a_glob_that_matches_nothing_or_is_unsafe_is_recorded(tmp_path: Path) -> None:
    found = _run(_root(tmp_path), ("tools/*.sh", "../escape/*", "/etc/apt/sources.list.d/*"))
    assert (found["tools/*.sh"].status, found["tools/*.sh"].prop("detail")) == (
        Status.VANISHED,
        "matched no file",
    )
    assert found["../escape/*"].status is Status.UNREADABLE
    assert "`..`" in (found["../escape/*"].prop("detail") or "")
    assert glob_problem("a/../b") is not None
    assert glob_problem("a/**/b") is None


def test_a_fifo_named_by_a_glob_is_special_and_does_not_block(tmp_path: Path) -> None:
    root = _root(tmp_path)
    os.mkfifo(root / "home/runner/work/repo/repo/scripts/pipe")
    box: list[dict[str, Component]] = []
    worker = threading.Thread(target=lambda: box.append(_run(root, ("scripts/*",))), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "cataloguing configs blocked on a FIFO"
    assert box[0]["scripts/pipe"].status is Status.SPECIAL


def test_dangling_and_looping_links_are_recorded(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "home/runner/.yarnrc").symlink_to("/nowhere/yarnrc")
    (root / "home/runner/.pip").mkdir()
    (root / "home/runner/.pip/pip.conf").symlink_to("pip.conf")
    found = _run(root)
    assert found["~/.yarnrc"].status is Status.VANISHED
    assert found["~/.pip/pip.conf"].status is Status.LOOP


def test_an_unreadable_config_is_recorded_unreadable() -> None:
    with open_tree() as base:
        root = base / "root"
        write(root / "etc/docker/daemon.json", "{}", mode=0o000)
        with unprivileged():
            found = _run(root)
    assert found["/etc/docker/daemon.json"].status is Status.UNREADABLE


def test_same_files_same_components_and_an_edit_changes_the_digest(tmp_path: Path) -> None:
    root = _root(tmp_path)
    assert _run(root) == _run(root)
    before = _run(root)["/etc/pip.conf"].digest
    write(root / "etc/pip.conf", "[global]\nindex-url = https://mirror.example/simple\n")
    assert _run(root)["/etc/pip.conf"].digest != before
