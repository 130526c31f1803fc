"""The os-packages cataloger: dpkg, rpm and apk databases, read as files — no package tool runs.

- dpkg: ``/var/lib/dpkg/status`` stanzas; packages whose files are on disk (``installed``, and
  the half-done states, which carry ``state=``); name ``package:arch`` (dpkg's own multi-arch
  notation, unique in one database).
- rpm: ``rpmdb.sqlite`` (``/var/lib/rpm`` or ``/usr/lib/sysimage/rpm``) opened read-only and
  immutable with the stdlib ``sqlite3``; each row's header blob is parsed here (tags NAME,
  VERSION, RELEASE, EPOCH, ARCH, SOURCERPM); name ``name-version-release.arch``, since several
  versions of one package (kernels, ``gpg-pubkey`` keys) can be installed at once. An older
  BerkeleyDB or ndb database is recorded as unreadable — the policy denies it by default.
- apk: ``/lib/apk/db/installed`` stanzas (``P:``, ``V:``, ``A:``).

Each package digest is the digest of its database record; purls follow the purl spec
(``pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12``).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from envsecops.bag.fspaths import RootResolver
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.runner import FileProblem, parse_os_release, printable, read_runner_file
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind, Status

DPKG_STATUS = "/var/lib/dpkg/status"
APK_INSTALLED = "/lib/apk/db/installed"
RPM_SQLITE = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
RPM_LEGACY = ("/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/usr/lib/sysimage/rpm/Packages")
DATABASE_LIMIT = 256 * 1024 * 1024
DPKG_ABSENT_STATES = frozenset({"not-installed", "config-files"})


def _q(text: str) -> str:
    return quote(text, safe=".-_~")


def purl(kind: str, namespace: str | None, name: str, version: str, **qualifiers: str) -> str:
    """A package URL with the name, version and qualifier values percent-encoded."""
    head = f"pkg:{kind}/" + (f"{_q(namespace)}/" if namespace else "") + _q(name)
    quals = "&".join(f"{k}={_q(v)}" for k, v in sorted(qualifiers.items()) if v)
    return f"{head}@{_q(version)}" + (f"?{quals}" if quals else "")


DPKG_FIELDS = frozenset({"Package", "Version", "Architecture", "Status", "Source"})


def stanzas(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first line number, raw text, lines) of each blank-line separated RFC 822-style record."""
    lines: list[str] = []
    start = 1
    for number, line in enumerate([*text.split("\n"), ""], start=1):
        if line and not line.isspace():
            if not lines:
                start = number
            lines.append(line)
            continue
        if lines:
            yield start, "\n".join(lines), lines
            lines = []


def dpkg_fields(lines: list[str]) -> dict[str, str]:
    """The single-line fields a package record needs (continuation lines belong to others)."""
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key in DPKG_FIELDS:
            fields[key] = printable(value.strip())
    return fields


def _apk_fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and len(key) == 1:
            fields.setdefault(key, printable(value))
    return fields


class RpmHeaderError(ValueError):
    """An rpm header blob that does not parse."""


@dataclass(frozen=True, slots=True)
class RpmHeader:
    """The tags of an rpm header that the bag records."""

    name: str
    version: str
    release: str
    epoch: str | None
    arch: str | None
    source_rpm: str | None


_TAGS = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1022: "arch",
    1044: "source_rpm",
}
_STRING, _INT32, _I18N = 6, 4, 9


def parse_header(blob: bytes) -> RpmHeader:
    """Parse an rpmdb.sqlite ``Packages.blob``: ``il``, ``dl``, ``il`` index entries, data store."""
    if len(blob) < 8:
        raise RpmHeaderError("shorter than a header preamble")
    count, size = struct.unpack_from(">II", blob)
    store = 8 + 16 * count
    if count > 100_000 or store + size != len(blob):
        raise RpmHeaderError(f"index of {count} entries and {size} data bytes do not fit the blob")
    found: dict[str, str] = {}
    for index in range(count):
        tag, kind, offset, items = struct.unpack_from(">IIII", blob, 8 + 16 * index)
        field = _TAGS.get(tag)
        if field is None or items < 1 or offset >= size:
            continue
        start = store + offset
        if kind in (_STRING, _I18N):
            end = blob.find(b"\0", start, store + size)
            if end < 0:
                raise RpmHeaderError(f"tag {tag}: unterminated string")
            found[field] = blob[start:end].decode("utf-8", "backslashreplace")
        elif kind == _INT32 and start + 4 <= store + size:
            found[field] = str(struct.unpack_from(">I", blob, start)[0])
    missing = [name for name in ("name", "version", "release") if not found.get(name)]
    if missing:
        raise RpmHeaderError(f"no {', '.join(missing)} tag")
    return RpmHeader(
        found["name"],
        found["version"],
        found["release"],
        found.get("epoch"),
        found.get("arch"),
        found.get("source_rpm"),
    )


class OsPackages(Cataloger):
    """Every package of the dpkg, rpm and apk databases found below the root."""

    id = "os-packages"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield packages; a database that cannot be read is a component with a status."""
        distro = self._distro(context)
        found = False
        for path, reader in ((DPKG_STATUS, self._dpkg), (APK_INSTALLED, self._apk)):
            try:
                data = read_runner_file(context, path, DATABASE_LIMIT)
            except FileProblem as problem:
                if problem.status is not Status.VANISHED:
                    found = True
                    yield self._problem(path, problem.status, problem.detail)
                continue
            found = True
            yield from reader(path, data.decode("utf-8", "surrogateescape"), distro)
        rpm = list(self._rpm(context, distro))
        yield from rpm
        if not (found or rpm):
            yield Component(
                kind=ComponentKind.RUNNER,
                name="package-database:none",
                source=self.id,
                properties=(("searched", ",".join((DPKG_STATUS, APK_INSTALLED, *RPM_SQLITE))),),
            )

    @staticmethod
    def _distro(context: CatalogContext) -> tuple[str | None, str]:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            try:
                release = parse_os_release(
                    read_runner_file(context, path).decode("utf-8", "replace")
                )
            except FileProblem:
                continue
            ident = release.get("ID") or None
            version = release.get("VERSION_ID", "")
            return ident, f"{ident}-{version}" if ident and version else (ident or "")
        return None, ""

    def _problem(self, path: str, status: Status, detail: str, where: str = "") -> Component:
        """A database (or, with ``where``, one record of it) that could not be read."""
        return Component(
            kind=ComponentKind.RUNNER,
            name=f"package-database:{path}" + (f"#{where}" if where else ""),
            source=self.id,
            path=path,
            status=status,
            properties=(("detail", detail),),
        )

    def _dpkg(self, path: str, text: str, distro: tuple[str | None, str]) -> Iterator[Component]:
        for line, raw, lines in stanzas(text):
            fields = dpkg_fields(lines)
            name, version = fields.get("Package"), fields.get("Version")
            state = fields.get("Status", "").split(" ")[-1]
            if state in DPKG_ABSENT_STATES:
                continue
            if not name or not version or not state:
                yield self._problem(
                    path,
                    Status.UNREADABLE,
                    f"line {line}: a record without Package, Version or Status",
                    f"line-{line}",
                )
                continue
            arch = fields.get("Architecture", "")
            source = fields.get("Source", "").split(" ")[0]
            props = [("manager", "dpkg")] + ([("state", state)] if state != "installed" else [])
            yield Component(
                kind=ComponentKind.PACKAGE,
                name=f"{name}:{arch}" if arch else name,
                source=self.id,
                version=version,
                path=path,
                digest=digest_bytes(raw.encode("utf-8", "surrogateescape")),
                purl=purl(
                    "deb",
                    distro[0],
                    name,
                    version,
                    arch=arch,
                    distro=distro[1],
                    upstream=source if source != name else "",
                ),
                properties=tuple(sorted(props)),
            )

    def _apk(self, path: str, text: str, distro: tuple[str | None, str]) -> Iterator[Component]:
        for line, raw, lines in stanzas(text):
            fields = _apk_fields(lines)
            name, version = fields.get("P"), fields.get("V")
            if not name or not version:
                yield self._problem(
                    path,
                    Status.UNREADABLE,
                    f"line {line}: a record without P: or V:",
                    f"line-{line}",
                )
                continue
            yield Component(
                kind=ComponentKind.PACKAGE,
                name=name,
                source=self.id,
                version=version,
                path=path,
                digest=digest_bytes(raw.encode("utf-8", "surrogateescape")),
                purl=purl(
                    "apk",
                    distro[0] or "alpine",
                    name,
                    version,
                    arch=fields.get("A", ""),
                    distro=distro[1],
                ),
                properties=(("manager", "apk"),),
            )

    def _rpm(self, context: CatalogContext, distro: tuple[str | None, str]) -> Iterator[Component]:
        resolver = RootResolver(context.root)
        for path in RPM_SQLITE:
            resolved = resolver.resolve(path)
            if resolved.status is Status.OK:
                yield from self._rpm_sqlite(path, resolver.host(resolved.path), distro)
                return
        for path in RPM_LEGACY:
            if resolver.resolve(path).status is Status.OK:
                yield self._problem(
                    path,
                    Status.UNREADABLE,
                    "a BerkeleyDB or ndb rpm database, "
                    "which envsecops does not read (it never runs `rpm`); "
                    "convert it with `rpmdb --rebuilddb` on rpm >= 4.16",
                )
                return

    def _rpm_sqlite(
        self, path: str, host: bytes, distro: tuple[str | None, str]
    ) -> Iterator[Component]:
        uri = "file:" + quote(host.decode("utf-8", "surrogateescape")) + "?mode=ro&immutable=1"
        try:
            with sqlite3.connect(uri, uri=True) as db:
                rows = db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
        except sqlite3.Error as exc:
            yield self._problem(path, Status.UNREADABLE, f"sqlite: {exc}")
            return
        for hnum, blob in rows:
            try:
                header = parse_header(bytes(blob))
            except (RpmHeaderError, TypeError) as exc:
                yield self._problem(
                    path, Status.UNREADABLE, f"package row {hnum}: {exc}", f"row-{hnum}"
                )
                continue
            name, version, release = header.name, header.version, header.release
            arch = header.arch or "noarch"
            evr = f"{version}-{release}"
            yield Component(
                kind=ComponentKind.PACKAGE,
                name=f"{name}-{evr}.{arch}",
                source=self.id,
                version=f"{header.epoch}:{evr}" if header.epoch else evr,
                path=path,
                digest=digest_bytes(bytes(blob)),
                purl=purl(
                    "rpm",
                    distro[0],
                    name,
                    evr,
                    arch=arch,
                    epoch=header.epoch or "",
                    distro=distro[1],
                    upstream=header.source_rpm or "",
                ),
                properties=(("manager", "rpm"),),
            )
