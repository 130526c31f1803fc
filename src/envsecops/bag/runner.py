"""The runner cataloger: OS, arch, kernel, image, runner environment, container — and env vs claims.

:func:`runner_facts` builds the bag's :class:`RunnerFacts`, with ``origins`` saying where each
fact came from: ``oidc`` (a validated token claim), ``file`` (read from the runner's disk),
``env`` (an environment variable, which any earlier step can set through ``$GITHUB_ENV``) or
``platform`` (the running kernel, via :mod:`platform`).

:class:`Runner` yields the evidence behind them as components: the digests of ``os-release`` and
``/imagegeneration/imagedata.json``, the container the job runs in, and one
``env-claim-mismatch:<VARIABLE>`` component (``mismatch=true``) for every environment variable
that disagrees with the signed OIDC claim for the same fact, so that the policy can deny.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from envsecops.bag.fspaths import RootResolver
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind, RunnerFacts, Status

OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
IMAGEDATA = "/imagegeneration/imagedata.json"
DOCKERENV = "/.dockerenv"
CONTAINERENV = "/run/.containerenv"
SMALL_FILE = 1024 * 1024
UNKNOWN_DOCKER_IMAGE = "docker:image-unknown"
"""A Docker container does not see its own image; the fact says so rather than stay silent."""

CLAIM_VARIABLES: tuple[tuple[str, str], ...] = (
    ("GITHUB_REPOSITORY", "repository"),
    ("GITHUB_REPOSITORY_ID", "repository_id"),
    ("GITHUB_REPOSITORY_OWNER", "repository_owner"),
    ("GITHUB_REPOSITORY_OWNER_ID", "repository_owner_id"),
    ("GITHUB_RUN_ID", "run_id"),
    ("GITHUB_RUN_NUMBER", "run_number"),
    ("GITHUB_RUN_ATTEMPT", "run_attempt"),
    ("GITHUB_SHA", "sha"),
    ("GITHUB_REF", "ref"),
    ("GITHUB_REF_TYPE", "ref_type"),
    ("GITHUB_WORKFLOW_REF", "workflow_ref"),
    ("GITHUB_WORKFLOW_SHA", "workflow_sha"),
    ("GITHUB_ACTOR", "actor"),
    ("GITHUB_ACTOR_ID", "actor_id"),
    ("GITHUB_EVENT_NAME", "event_name"),
    ("RUNNER_ENVIRONMENT", "runner_environment"),
)
"""Environment variables the runner sets and the OIDC claim that states the same fact."""


def printable(text: str) -> str:
    """``text`` as valid UTF-8 for JSON: undecodable bytes and lone surrogates become escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class FileProblem(Exception):
    """A runner file could not be read; ``status`` says how."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def read_regular(host: bytes | str, limit: int = SMALL_FILE) -> bytes:
    """Read a regular file at a host path, refusing a final symlink, a FIFO or a device."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(host, flags)
    except FileNotFoundError as exc:
        raise FileProblem(Status.VANISHED, "no such file") from exc
    except OSError as exc:
        raise FileProblem(Status.UNREADABLE, exc.strerror or str(exc)) from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileProblem(Status.SPECIAL, "not a regular file")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise FileProblem(Status.UNREADABLE, exc.strerror or str(exc)) from exc
    if len(data) > limit:
        raise FileProblem(Status.UNREADABLE, f"larger than {limit} bytes")
    return data


def read_runner_file(context: CatalogContext, runner_path: str, limit: int = SMALL_FILE) -> bytes:
    """Read a small regular file of the runner, links followed inside ``context.root``."""
    resolver = RootResolver(context.root)
    resolved = resolver.resolve(runner_path)
    if resolved.status is not Status.OK:
        raise FileProblem(resolved.status, resolved.detail)
    return read_regular(resolver.host(resolved.path), limit)


def on_host_root(context: CatalogContext) -> bool:
    """Whether the context reads this machine itself (root ``/``), not a tree standing for one."""
    return context.root.resolve() == Path("/")


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines of os-release(5), shell quoting undone; malformed lines are skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or not key.isidentifier() or key.startswith("#"):
            continue
        try:
            words = shlex.split(raw, comments=False, posix=True)
        except ValueError:
            continue
        values[key] = " ".join(words)
    return values


@dataclass(frozen=True, slots=True)
class ImageData:
    """What ``/imagegeneration/imagedata.json`` of a GitHub-hosted image says."""

    label: str | None
    version: str | None


def parse_imagedata(data: bytes) -> ImageData:
    """The ``Runner Image`` group: ``Image: ubuntu-24.04`` and ``Version: 20250105.1.0`` lines."""
    groups = json.loads(data)
    if not isinstance(groups, list):
        raise ValueError("imagedata.json is not a JSON list")
    details: dict[str, str] = {}
    for group in groups:
        if isinstance(group, dict) and group.get("group") == "Runner Image":
            for line in str(group.get("detail", "")).splitlines():
                key, sep, value = line.partition(":")
                if sep:
                    details.setdefault(key.strip(), value.strip())
    label, version = details.get("Image"), details.get("Version")
    return ImageData(printable(label) if label else None, printable(version) if version else None)


def _os_release(context: CatalogContext) -> tuple[str | None, dict[str, str], bytes | None]:
    for path in OS_RELEASE:
        try:
            data = read_runner_file(context, path)
        except FileProblem:
            continue
        return path, parse_os_release(data.decode("utf-8", "replace")), data
    return None, {}, None


def _imagedata(context: CatalogContext) -> ImageData | None:
    try:
        return parse_imagedata(read_runner_file(context, IMAGEDATA))
    except (FileProblem, ValueError):
        return None


def _container(context: CatalogContext) -> tuple[str, str] | None:
    """(runtime, image) when the job runs in a container."""
    try:
        text = read_runner_file(context, CONTAINERENV).decode("utf-8", "replace")
    except FileProblem:
        text = None
    if text is not None:
        info = parse_os_release(text)
        image = info.get("image") or "podman:image-unknown"
        return "podman", f"{image}@{info['imageid']}" if info.get("imageid") else image
    if RootResolver(context.root).resolve(DOCKERENV).status is Status.OK:
        return "docker", UNKNOWN_DOCKER_IMAGE
    return None


def runner_facts(context: CatalogContext) -> RunnerFacts:
    """The runner facts and where each came from; a fact that cannot be learnt is left out."""
    facts: dict[str, str] = {}
    origins: dict[str, str] = {}

    def put(name: str, value: str | None, origin: str) -> None:
        if value:
            facts[name] = value
            origins[name] = origin

    _, release, _ = _os_release(context)
    if release:
        put("os", release.get("ID"), "file")
        put("os_version", release.get("VERSION_ID"), "file")
    elif sys.platform == "darwin" and on_host_root(context):
        put("os", "macos", "platform")
        put("os_version", platform.mac_ver()[0], "platform")
    put("arch", platform.machine(), "platform")
    put("kernel", platform.release(), "platform")
    env = context.environ
    put("image_os", env.get("ImageOS"), "env")
    image = _imagedata(context)
    if image is not None and image.version:
        put("image_version", image.version, "file")
    else:
        put("image_version", env.get("ImageVersion"), "env")
    if context.claims.get("runner_environment"):
        put("runner_environment", context.claims["runner_environment"], "oidc")
    else:
        put("runner_environment", env.get("RUNNER_ENVIRONMENT"), "env")
    container = _container(context)
    if container is not None:
        put("container_image", container[1], "file")
    return RunnerFacts(tuple(sorted(facts.items())), tuple(sorted(origins.items())))


def mismatches(environ: Mapping[str, str], claims: Mapping[str, str]) -> Iterator[Component]:
    """One component per variable whose value differs from the validated claim for it."""
    for variable, claim in CLAIM_VARIABLES:
        if variable not in environ or claim not in claims or environ[variable] == claims[claim]:
            continue
        yield Component(
            kind=ComponentKind.RUNNER,
            name=f"env-claim-mismatch:{variable}",
            source=Runner.id,
            properties=(
                ("claim", claim),
                ("claim_digest", digest_bytes(claims[claim].encode())),
                ("claim_value", claims[claim]),
                ("env_digest", digest_bytes(environ[variable].encode("utf-8", "surrogateescape"))),
                ("env_value", printable(environ[variable])),
                ("mismatch", "true"),
                ("variable", variable),
            ),
        )


def _file_component(name: str, path: str, data: bytes, **props: str) -> Component:
    return Component(
        kind=ComponentKind.RUNNER,
        name=name,
        source=Runner.id,
        path=path,
        digest=digest_bytes(data),
        version=props.pop("version", None) or None,
        properties=tuple(sorted((k, v) for k, v in props.items() if v)),
    )


class Runner(Cataloger):
    """Evidence for the runner facts, and env-vs-claim mismatches."""

    id = "runner"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield os-release, imagedata.json, the container, and every mismatch."""
        path, release, data = _os_release(context)
        if path is not None and data is not None:
            yield _file_component(
                "os-release",
                path,
                data,
                version=release.get("VERSION_ID", ""),
                id=release.get("ID", ""),
            )
        elif not (sys.platform == "darwin" and on_host_root(context)):
            yield Component(
                kind=ComponentKind.RUNNER,
                name="os-release",
                source=self.id,
                path=OS_RELEASE[0],
                status=Status.UNREADABLE,
                properties=(("detail", "no readable /etc/os-release or /usr/lib/os-release"),),
            )
        yield from self._imagedata(context)
        container = _container(context)
        if container is not None:
            yield Component(
                kind=ComponentKind.RUNNER,
                name="container",
                source=self.id,
                properties=(("image", container[1]), ("runtime", container[0])),
            )
        yield from mismatches(context.environ, context.claims)

    def _imagedata(self, context: CatalogContext) -> Iterator[Component]:
        try:
            data = read_runner_file(context, IMAGEDATA)
        except FileProblem as problem:
            if problem.status is not Status.VANISHED:
                yield Component(
                    kind=ComponentKind.RUNNER,
                    name="imagedata.json",
                    source=self.id,
                    path=IMAGEDATA,
                    status=problem.status,
                    properties=(("detail", problem.detail),),
                )
            return
        try:
            image = parse_imagedata(data)
        except ValueError as exc:
            yield Component(
                kind=ComponentKind.RUNNER,
                name="imagedata.json",
                source=self.id,
                path=IMAGEDATA,
                digest=digest_bytes(data),
                status=Status.UNREADABLE,
                properties=(("detail", f"not the runner image's JSON: {exc}"),),
            )
            return
        yield _file_component(
            "imagedata.json", IMAGEDATA, data, version=image.version or "", image=image.label or ""
        )
        env_version = context.environ.get("ImageVersion")
        if image.version and env_version is not None and env_version != image.version:
            yield Component(
                kind=ComponentKind.RUNNER,
                name="env-file-mismatch:ImageVersion",
                source=self.id,
                path=IMAGEDATA,
                properties=(
                    ("env_value", printable(env_version)),
                    ("file_value", image.version),
                    ("mismatch", "true"),
                    ("variable", "ImageVersion"),
                ),
            )
