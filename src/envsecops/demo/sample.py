"""The demo's sample repository as Python data: its files, and what pin-check must report."""

from __future__ import annotations

from dataclasses import dataclass

# A real commit of actions/setup-python and its tag, as pinned across ../shared/corpus.
SETUP_PYTHON_PIN = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
# packaging's sdist and wheel hashes, copied from this project's requirements/runtime.lock.
PACKAGING_HASHES = (
    "sha256:94edc256424af38762eb31306eed28beb9f0efc50a8837492c9d6fd6004aed79",
    "sha256:d7193f7c8e4e93f444fde0262bf90af30e16fa0ad0ad44cb553c87339b23cd1c",
)


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One file of the sample repository: where it goes and what it holds."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Expected:
    """A finding pin-check must report on the line holding ``marker`` (one of ``rules``)."""

    path: str
    marker: str
    rules: tuple[str, ...]
    what: str


@dataclass(frozen=True, slots=True)
class Clean:
    """A line holding ``marker`` on which pin-check must report nothing."""

    path: str
    marker: str
    what: str


WORKFLOW = f"""\
name: build
on:
  push:
    branches: [main]
permissions: {{}}
jobs:
  test:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: {SETUP_PYTHON_PIN}
        with:
          python-version: "3.11"
      - uses: pypa/gh-action-pip-audit@main
      - run: python -m pip install --require-hashes -r requirements.txt
      - run: curl -fsSL https://example.com/install-tool.sh | sh
"""

DOCKERFILE = """\
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS base
COPY requirements.txt /src/
RUN python -m pip install --require-hashes -r /src/requirements.txt

FROM base AS test
COPY . /src
"""

REQUIREMENTS = f"""\
packaging==26.3 \\
    --hash={PACKAGING_HASHES[0]} \\
    --hash={PACKAGING_HASHES[1]}
requests>=2.32
"""

FILES: tuple[SampleFile, ...] = (
    SampleFile(".github/workflows/build.yml", WORKFLOW),
    SampleFile("Dockerfile", DOCKERFILE),
    SampleFile("requirements.txt", REQUIREMENTS),
)

EXPECTED: tuple[Expected, ...] = (
    Expected(
        ".github/workflows/build.yml",
        "actions/checkout@v4",
        ("unpinned-uses",),
        "an action pinned to a tag, which its owner can move",
    ),
    Expected(
        ".github/workflows/build.yml",
        "pypa/gh-action-pip-audit@main",
        ("unpinned-uses",),
        "an action pinned to a branch, which moves with every push",
    ),
    Expected(
        ".github/workflows/build.yml",
        "install-tool.sh | sh",
        ("curl-pipe-shell",),
        "a script downloaded and piped straight into a shell",
    ),
    Expected(
        "Dockerfile",
        "FROM python:${PYTHON_VERSION}-slim",
        ("unpinned-dockerfile-from",),
        "a base image named by tag (resolved through an ARG default), not by digest",
    ),
    Expected(
        "requirements.txt",
        "requests>=2.32",
        ("requirements-without-hash",),
        "a requirement without --hash, so pip accepts whatever the index serves",
    ),
)

CLEAN: tuple[Clean, ...] = (
    Clean(
        ".github/workflows/build.yml",
        SETUP_PYTHON_PIN,
        "an action pinned to a full commit SHA with its tag as a comment",
    ),
    Clean("Dockerfile", "FROM base AS test", "a FROM that names an earlier build stage"),
    Clean(
        ".github/workflows/build.yml",
        "--require-hashes -r requirements.txt",
        "a pip install that requires hashes",
    ),
    Clean("requirements.txt", "packaging==26.3", "a requirement pinned with --hash"),
)
