"""The os-packages cataloger over real dpkg, apk and rpm (sqlite) databases in a temp root."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from envsecops.bag.interface import CatalogContext
from envsecops.bag.os_packages import OsPackages, RpmHeaderError, parse_header, purl
from envsecops.canonical import canonical_json
from envsecops.model.bag import Component, ComponentKind, Status

DPKG = """\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: half
Status: install reinstreq half-installed
Architecture: all
Version: 1:2.0~rc1

Package: no-version
Status: install ok installed
Architecture: amd64
"""

APK = """\
C:Q1Z2kK1ZLbYQ8yH9z+3nHq3rD3bFg=
P:musl
V:1.2.5-r0
A:x86_64
o:musl

C:Q1abc=
P:busybox
V:1.36.1-r29
A:x86_64
"""

# rpm header tags and types (rpm's lib/rpmtag.h)
NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
STRING, INT32 = 6, 4


def rpm_blob(fields: dict[int, str | int]) -> bytes:
    """An rpm header as rpmdb.sqlite stores it: il, dl, il index entries, the data store."""
    entries, store = b"", b""
    for tag, value in sorted(fields.items()):
        if isinstance(value, int):
            store += b"\0" * (-len(store) % 4)
            entries += struct.pack(">IIII", tag, INT32, len(store), 1)
            store += struct.pack(">I", value)
        else:
            entries += struct.pack(">IIII", tag, STRING, len(store), 1)
            store += value.encode() + b"\0"
    return struct.pack(">II", len(fields), len(store)) + entries + store


def _write(root: Path, runner_path: str, content: str) -> None:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _catalog(root: Path) -> list[Component]:
    return list(OsPackages().catalog(CatalogContext(environ={}, root=root)))


def _rpmdb(root: Path, runner_path: str, blobs: list[bytes]) -> None:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
        )
        db.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    db.close()


def test_purls_encode_versions_and_sort_qualifiers() -> None:
    assert purl("deb", "debian", "libc6", "1:2.36-9+deb12u4", distro="debian-12", arch="amd64") == (
        "pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    )
    assert purl("npm", "@types", "node", "20.1.0") == "pkg:npm/%40types/node@20.1.0"


def test_dpkg_installed_packages(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/os-release", "ID=debian\nVERSION_ID=12\n")
    _write(tmp_path, "/var/lib/dpkg/status", DPKG)
    found = {c.name: c for c in _catalog(tmp_path)}
    libc = found["libc6:amd64"]
    assert libc.kind is ComponentKind.PACKAGE
    assert libc.version == "2.36-9+deb12u4"
    assert libc.purl == (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
    )
    assert libc.path == "/var/lib/dpkg/status"
    assert "libc6:i386" in found  # multi-arch: both architectures are kept apart
    assert "removed-pkg:amd64" not in found  # only config files are left
    assert found["half:all"].prop("state") == "half-installed"
    assert found["half:all"].purl == "pkg:deb/debian/half@1%3A2.0~rc1?arch=all&distro=debian-12"
    problem = found["package-database:/var/lib/dpkg/status#line-30"]
    assert problem.status is Status.UNREADABLE
    assert "line 30" in (problem.prop("detail") or "")


def test_a_changed_record_changes_its_digest(tmp_path: Path) -> None:
    _write(tmp_path, "/var/lib/dpkg/status", DPKG)
    before = {c.name: c.digest for c in _catalog(tmp_path)}
    _write(
        tmp_path, "/var/lib/dpkg/status", DPKG.replace("Priority: optional", "Priority: required")
    )
    after = {c.name: c.digest for c in _catalog(tmp_path)}
    assert before["libc6:amd64"] != after["libc6:amd64"]
    assert before["libc6:i386"] == after["libc6:i386"]


def test_apk_installed(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")
    _write(tmp_path, "/lib/apk/db/installed", APK)
    found = {c.name: c for c in _catalog(tmp_path)}
    assert set(found) == {"musl", "busybox"}
    assert found["musl"].purl == "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"


def test_rpm_sqlite_database(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/os-release", "ID=fedora\nVERSION_ID=40\n")
    blobs = [
        rpm_blob({NAME: "bash", VERSION: "5.2.26", RELEASE: "3.fc40", ARCH: "x86_64",
                  SOURCERPM: "bash-5.2.26-3.fc40.src.rpm"}),
        rpm_blob({NAME: "kernel-core", VERSION: "6.8.5", RELEASE: "301.fc40", ARCH: "x86_64"}),
        rpm_blob({NAME: "kernel-core", VERSION: "6.9.1", RELEASE: "200.fc40", ARCH: "x86_64"}),
        rpm_blob({NAME: "shadow-utils", VERSION: "4.15.1", RELEASE: "1.fc40", EPOCH: 2,
                  ARCH: "x86_64"}),
        rpm_blob({NAME: "gpg-pubkey", VERSION: "a15b79cc", RELEASE: "63d04c2c"}),
        b"\x00\x00\x00\x05garbage",
    ]  # fmt: skip
    _rpmdb(tmp_path, "/usr/lib/sysimage/rpm/rpmdb.sqlite", blobs)
    (tmp_path / "var/lib").mkdir(parents=True)
    (tmp_path / "var/lib/rpm").symlink_to("../../usr/lib/sysimage/rpm")
    found = {c.name: c for c in _catalog(tmp_path)}
    bash = found["bash-5.2.26-3.fc40.x86_64"]
    assert bash.version == "5.2.26-3.fc40"
    assert bash.path == "/var/lib/rpm/rpmdb.sqlite"
    assert bash.purl == (
        "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40"
        "&upstream=bash-5.2.26-3.fc40.src.rpm"
    )
    assert "kernel-core-6.8.5-301.fc40.x86_64" in found  # two kernels installed side by side
    assert "kernel-core-6.9.1-200.fc40.x86_64" in found
    shadow = found["shadow-utils-4.15.1-1.fc40.x86_64"]
    assert shadow.version == "2:4.15.1-1.fc40"
    assert "epoch=2" in (shadow.purl or "")
    assert "gpg-pubkey-a15b79cc-63d04c2c.noarch" in found  # trusted signing keys are packages too
    bad = found["package-database:/var/lib/rpm/rpmdb.sqlite#row-6"]
    assert bad.status is Status.UNREADABLE
    assert "row 6" in (bad.prop("detail") or "")


def test_a_berkeley_db_rpm_database_is_recorded_as_unreadable(tmp_path: Path) -> None:
    _write(tmp_path, "/var/lib/rpm/Packages", "\x00\x06\x15\x61 (a BerkeleyDB hash file)")
    (problem,) = _catalog(tmp_path)
    assert problem.status is Status.UNREADABLE
    assert "BerkeleyDB" in (problem.prop("detail") or "")
    assert problem.kind is ComponentKind.RUNNER


def test_a_corrupt_sqlite_file_is_recorded(tmp_path: Path) -> None:
    _write(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "this is not a database")
    (problem,) = _catalog(tmp_path)
    assert problem.status is Status.UNREADABLE
    assert "sqlite" in (problem.prop("detail") or "")


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x00\x00\x00\x01\x00\x00\x00\x00", rpm_blob({VERSION: "1", RELEASE: "1"})],
)
def test_bad_rpm_headers_raise(blob: bytes) -> None:
    with pytest.raises(RpmHeaderError):
        parse_header(blob)


def test_no_database_at_all_is_said(tmp_path: Path) -> None:
    (component,) = _catalog(tmp_path)
    assert component.name == "package-database:none"


def test_non_utf8_fields_stay_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "var/lib/dpkg/status"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"Package: caf\xe9\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
    )
    (component,) = _catalog(tmp_path)
    assert component.name == "caf\\xe9:all"
    canonical_json(component.to_json())


def test_this_machines_dpkg_database() -> None:
    if not Path("/var/lib/dpkg/status").is_file():
        pytest.skip("this machine has no dpkg database")
    found = _catalog(Path("/"))
    packages = [c for c in found if c.kind is ComponentKind.PACKAGE]
    assert len(packages) > 10
    assert all((c.purl or "").startswith("pkg:deb/") for c in packages)
    assert all(c.status is Status.OK for c in found)
