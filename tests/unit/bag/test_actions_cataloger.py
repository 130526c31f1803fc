"""The actions cataloger on a real `_actions` layout: digests, refs, and transitive pin-check."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.bag.actions import Actions, actions_dirs
from envsecops.bag.hashing import Hasher
from envsecops.bag.interface import CatalogContext
from envsecops.bag.merkle import tree_digest
from envsecops.model.bag import Component, ComponentKind, Status
from tests.unit.bag.fs_helpers import write

SHA = "8f4b7f84864484a7bf31766abe9204da3cbe65b3"
OTHER_SHA = "0123456789abcdef0123456789abcdef01234567"
WORK = "/home/runner/work"
ENVIRON = {"RUNNER_WORKSPACE": f"{WORK}/repo", "GITHUB_WORKSPACE": f"{WORK}/repo/repo"}

COMPOSITE = f"""name: wrapper
runs:
  using: composite
  steps:
    - uses: actions/setup-node@v4
    - uses: actions/cache@{OTHER_SHA} # v4.2.0
    - uses: ./local
    - run: echo hi
      shell: bash
"""
IGNORED = """name: sneaky
runs:
  using: composite
  steps:
    - uses: evil/thing@main  # envsecops: ignore[unpinned-uses] trust me
"""
NODE = """name: checkout
runs:
  using: node20
  main: dist/index.js
"""


def _download(actions: Path, name: str, ref: str, files: dict[str, str], done: bool = True) -> Path:
    tree = actions / name / ref
    for rel, text in files.items():
        write(tree / rel, text)
    if done:
        write(tree.parent / f"{tree.name}.completed", "2026-01-01 00:00:00")
    return tree


def _layout(root: Path) -> Path:
    actions = root / "home/runner/work/_actions"
    _download(actions, "actions/checkout", SHA, {"action.yml": NODE, "dist/index.js": "x"})
    _download(actions, "acme/wrapper", "v1", {"action.yml": COMPOSITE, "local/action.yml": NODE})
    _download(actions, "pypa/publish", "release/v1", {"action.yml": NODE})
    _download(actions, "evil/sneaky", "main", {"action.yaml": IGNORED}, done=False)
    return actions


def _run(root: Path, environ: dict[str, str] | None = None) -> dict[str, Component]:
    context = CatalogContext(environ=ENVIRON if environ is None else environ, root=root)
    return {f"{c.name}@{c.version}": c for c in Actions().catalog(context)}


def test_each_downloaded_action_is_digested_with_its_ref(tmp_path: Path) -> None:
    actions = _layout(tmp_path)
    found = _run(tmp_path)
    assert sorted(found) == [
        "acme/wrapper@v1",
        f"actions/checkout@{SHA}",
        "evil/sneaky@main",
        "pypa/publish@release/v1",
    ]
    checkout = found[f"actions/checkout@{SHA}"]
    with Hasher(workers=1) as hasher:
        assert checkout.digest == tree_digest(hasher, actions / "actions/checkout" / SHA).digest
    assert checkout.kind is ComponentKind.ACTION
    assert checkout.purl == f"pkg:github/actions/checkout@{SHA}"
    assert checkout.path == f"{WORK}/_actions/actions/checkout/{SHA}"
    props = dict(checkout.properties)
    assert (props["ref-is-sha"], props["complete"], props["pin-findings"]) == ("true", "true", "0")
    publish = found["pypa/publish@release/v1"]
    assert publish.purl == "pkg:github/pypa/publish@release%2Fv1"
    assert publish.prop("ref-is-sha") == "false"
    assert found["evil/sneaky@main"].prop("complete") == "false"


def test_an_unpinned_action_pulled_transitively_is_caught(tmp_path: Path) -> None:
    _layout(tmp_path)
    wrapper = _run(tmp_path)["acme/wrapper@v1"]
    assert wrapper.prop("unpinned-uses") == "actions/setup-node@v4"
    assert wrapper.prop("manifests") == "2"
    assert "unpinned-uses=1" in (wrapper.prop("pin-findings-by-rule") or "")
    assert "action.yml:" in (wrapper.prop("pin-finding-list") or "")


def test_inline_ignores_written_by_the_action_author_are_not_honoured(tmp_path: Path) -> None:
    _layout(tmp_path)
    sneaky = _run(tmp_path)["evil/sneaky@main"]
    assert sneaky.prop("unpinned-uses") == "evil/thing@main"
    assert sneaky.prop("pin-ignored-inline") == "1"
    assert int(sneaky.prop("pin-findings") or "0") >= 1


def test_the_actions_dir_is_found_from_either_variable_and_catalogued_once(tmp_path: Path) -> None:
    _layout(tmp_path)
    both = _run(tmp_path)
    only_github = _run(tmp_path, {"GITHUB_WORKSPACE": f"{WORK}/repo/repo"})
    only_runner = _run(tmp_path, {"RUNNER_WORKSPACE": f"{WORK}/repo"})
    assert both == only_github == only_runner
    assert [v for _n, v in actions_dirs(CatalogContext(environ=ENVIRON))] == [
        f"{WORK}/_actions".encode()
    ] * 2
    assert _run(tmp_path, {}) == {}


def test_problems_and_unexpected_entries_are_recorded(tmp_path: Path) -> None:
    actions = _layout(tmp_path)
    write(actions / "stray.txt", "?")
    (actions / "_temp_0000").mkdir()
    tree = actions / "actions/checkout" / SHA
    (tree / "escape").symlink_to("/etc/passwd")
    context = CatalogContext(environ=ENVIRON, root=tmp_path)
    components = list(Actions().catalog(context))
    entries = {c.path for c in components if c.name == "_actions-entry"}
    assert entries == {f"{WORK}/_actions/stray.txt", f"{WORK}/_actions/_temp_0000"}
    checkout = next(c for c in components if c.name == "actions/checkout")
    assert checkout.status is Status.OUTSIDE


@pytest.mark.parametrize("ref", [SHA, "v4"])
def test_same_tree_same_component_and_an_edit_changes_the_digest(tmp_path: Path, ref: str) -> None:
    actions = tmp_path / "home/runner/work/_actions"
    tree = _download(actions, "actions/checkout", ref, {"action.yml": NODE, "dist/index.js": "x"})
    first, second = _run(tmp_path), _run(tmp_path)
    assert first == second
    (tree / "dist/index.js").write_text("exfiltrate()")
    assert (
        _run(tmp_path)[f"actions/checkout@{ref}"].digest != first[f"actions/checkout@{ref}"].digest
    )
