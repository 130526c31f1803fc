"""The images and remote files a Dockerfile's build pulls: FROM, COPY/RUN --mount sources, ADD."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.dockerfile_syntax import (
    WHITESPACE,
    DockerfileText,
    Instruction,
    parse_words,
    read_dockerfile,
    split_flags,
    unquote,
)
from envsecops.pins.documents.variables import Expansion, expand
from envsecops.pins.refs import IMAGE_DIGEST

# Arguments BuildKit defines for every FROM without an ARG line.
PLATFORM_ARGS = frozenset(
    {
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
    }
)
GIT_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class FromClass(StrEnum):
    """How an image reference in a Dockerfile is pinned; values are EXPECTED.csv suffixes."""

    DIGEST = "digest"
    NO_DIGEST = "no_digest"
    NO_DIGEST_VIA_ARG = "no_digest_via_arg"
    VARIABLE_UNRESOLVED = "variable_unresolved"
    SCRATCH = "scratch"
    STAGE_REF = "stage_ref"


@dataclass(frozen=True, slots=True)
class ImageUse:
    """An image the build names: in a FROM, a COPY --from, a RUN --mount from= or # syntax=."""

    where: str  # `FROM`, `COPY --from`, `RUN --mount=…,from` or `# syntax`
    written: str
    resolved: str | None
    klass: FromClass
    line: int
    column: int
    used: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    stage: str | None = None

    @property
    def end_column(self) -> int:
        """The column just after the reference as written."""
        return self.column + len(self.written)


@dataclass(frozen=True, slots=True)
class RemoteAdd:
    """An `ADD <url>` source: an HTTP download or a git repository."""

    url: str
    git: bool
    checksum: str | None
    line: int
    column: int


@dataclass
class DockerfileModel:
    """What a Dockerfile pulls, in file order."""

    froms: list[ImageUse] = field(default_factory=list)
    sources: list[ImageUse] = field(default_factory=list)
    adds: list[RemoteAdd] = field(default_factory=list)
    syntax: ImageUse | None = None
    meta_args: dict[str, str | None] = field(default_factory=dict)
    meta_lines: dict[str, int] = field(default_factory=dict)


def _column(
    text: DockerfileText, instruction: Instruction, needle: str, after: str = ""
) -> tuple[int, int]:
    """Line and column of ``needle`` after the keyword, starting a word or right after one of
    ``after``'s characters (`=` for a flag's value); else the keyword's position."""
    word = re.compile(r"(?<![^\s" + re.escape(after) + "])" + re.escape(needle))
    for number in range(instruction.line, instruction.end_line + 1):
        raw = text.lines[number - 1]
        start = len(raw) - len(raw.lstrip()) + len(instruction.keyword)
        found = word.search(raw, start if number == instruction.line else 0)
        if found is not None:
            return number, found.start() + 1
    first = text.lines[instruction.line - 1]
    return instruction.line, len(first) - len(first.lstrip()) + 1


def _meta_arg(instruction: Instruction, escape: str, model: DockerfileModel) -> None:
    """Record the ARGs of one global `ARG` line; defaults may use earlier global ARGs."""
    args = model.meta_args
    for word in parse_words(instruction.args, escape):
        name, sep, raw = word.partition("=")
        model.meta_lines[name] = instruction.line
        if not sep:
            args[name] = None
            continue
        expansion = expand(raw, args)
        try:
            args[name] = unquote(expansion.value, escape) if expansion.value is not None else None
        except ValueError as exc:
            raise DocumentProblem("parse-error", str(exc), instruction.line, 1) from exc


def _classify(
    where: str,
    written: str,
    expansion: Expansion,
    stages: dict[str, int],
    at: tuple[int, int],
    stage: str | None = None,
) -> ImageUse:
    resolved = expansion.value
    if resolved is not None and not resolved.strip():
        resolved = None
        expansion.unresolved.append(written)
    if resolved is None:
        klass = FromClass.VARIABLE_UNRESOLVED
    elif resolved == "scratch" and where == "FROM":
        klass = FromClass.SCRATCH
    elif resolved.lower() in stages:
        klass = FromClass.STAGE_REF
    elif IMAGE_DIGEST.search(resolved):
        klass = FromClass.DIGEST
    elif expansion.substituted:
        klass = FromClass.NO_DIGEST_VIA_ARG
    else:
        klass = FromClass.NO_DIGEST
    return ImageUse(
        where,
        written,
        resolved,
        klass,
        at[0],
        at[1],
        tuple(expansion.used),
        tuple(expansion.defaults),
        tuple(dict.fromkeys(expansion.unresolved)),
        stage,
    )


def _resolve(word: str, args: dict[str, str | None], escape: str, line: int) -> Expansion:
    expansion = expand(word, args)
    if expansion.value is not None:
        try:
            expansion.value = unquote(expansion.value, escape)
        except ValueError as exc:
            raise DocumentProblem("parse-error", str(exc), line, 1) from exc
    return expansion


def _from(
    text: DockerfileText, ins: Instruction, model: DockerfileModel, stages: dict[str, int]
) -> None:
    for flag in ins.flags:
        if not flag.startswith("--platform="):
            raise DocumentProblem(
                "parse-error",
                f"FROM accepts only `--platform=`, not `{flag.split('=', 1)[0]}`",
                ins.line,
                1,
            )
    words = [w for w in WHITESPACE.split(ins.args) if w]
    if len(words) not in {1, 3} or (len(words) == 3 and words[1].lower() != "as"):
        raise DocumentProblem(
            "parse-error",
            "FROM needs `image` or `image AS name` (after any `--platform=`)",
            ins.line,
            1,
        )
    written = words[0]
    stage = words[2].lower() if len(words) == 3 else None
    expansion = _resolve(written, model.meta_args, text.escape, ins.line)
    use = _classify("FROM", written, expansion, stages, _column(text, ins, written), stage)
    model.froms.append(use)
    if stage is not None:
        stages[stage] = len(model.froms) - 1


def _source(
    text: DockerfileText,
    ins: Instruction,
    where: str,
    value: str,
    model: DockerfileModel,
    stages: dict[str, int],
) -> None:
    """A `--from=` value: a stage name, an earlier stage's index, or an image to pull."""
    if value.isdigit() and int(value) < len(model.froms):
        return
    if value.lower() in stages:
        return
    expansion = _resolve(value, model.meta_args, text.escape, ins.line)
    if expansion.value is not None and (
        expansion.value.lower() in stages
        or (expansion.value.isdigit() and int(expansion.value) < len(model.froms))
    ):
        return
    use = _classify(where, value, expansion, stages, _column(text, ins, value, "=,"))
    model.sources.append(use)


def _mount_from(flag: str) -> str | None:
    """The `from=` field of a `--mount=type=...,from=...` flag (CSV, as BuildKit reads it)."""
    fields = next(csv.reader([flag.split("=", 1)[1]]), [])
    for item in fields:
        key, sep, value = item.partition("=")
        if sep and key.strip().lower() == "from":
            return value
    return None


def _add(text: DockerfileText, ins: Instruction, model: DockerfileModel) -> None:
    checksum = next(
        (f.split("=", 1)[1] for f in ins.flags if f.startswith("--checksum=")),
        None,
    )
    try:
        loaded = json.loads(ins.args) if ins.args.startswith("[") else None
    except ValueError:
        loaded = None
    if isinstance(loaded, list) and all(isinstance(item, str) for item in loaded):
        words = [str(item) for item in loaded]
    else:
        words = [w for w in WHITESPACE.split(ins.args) if w]
    for source in words[:-1]:
        git = source.startswith(("git@", "git://", "ssh://")) or bool(
            re.match(r"https?://[^#]+\.git(#|$)", source)
        )
        if git or source.startswith(("http://", "https://")):
            line, column = _column(text, ins, source)
            model.adds.append(RemoteAdd(source, git, checksum, line, column))


def git_ref_pinned(url: str, checksum: str | None) -> bool:
    """Whether an `ADD <git url>` names a full commit, in the fragment or in `--checksum=`."""
    ref = url.partition("#")[2].split(":", 1)[0]
    return bool(GIT_COMMIT.fullmatch(ref)) or bool(checksum and GIT_COMMIT.fullmatch(checksum))


def analyse(text: DockerfileText) -> DockerfileModel:
    """Walk the instructions: global ARGs, then every stage's images and remote sources."""
    model = DockerfileModel()
    stages: dict[str, int] = {}
    if text.syntax is not None:
        value, line = text.syntax
        raw = text.lines[line - 1] if line - 1 < len(text.lines) else ""
        column = raw.find(value) + 1 if value in raw else 1
        model.syntax = _classify("# syntax", value, Expansion(value), {}, (line, column))
    for ins in text.instructions:
        keyword, current = ins.keyword, ins
        if keyword == "onbuild":
            parts = WHITESPACE.split(ins.args, maxsplit=1)
            flags, args = split_flags(parts[1]) if len(parts) == 2 else ((), "")
            current = Instruction(parts[0].lower(), flags, args, ins.line, ins.end_line)
            keyword = current.keyword
        if keyword == "arg" and not model.froms and current is ins:
            _meta_arg(ins, text.escape, model)
        elif keyword == "from" and current is ins:
            _from(text, ins, model, stages)
        elif keyword == "copy":
            for flag in current.flags:
                if flag.startswith("--from="):
                    _source(text, current, "COPY --from", flag[7:], model, stages)
        elif keyword == "run":
            for flag in current.flags:
                mounted = _mount_from(flag) if flag.startswith("--mount=") else None
                if mounted:
                    _source(text, current, "RUN --mount=…,from", mounted, model, stages)
        elif keyword == "add":
            _add(text, current, model)
    return model


def parse_dockerfile(text: str) -> DockerfileModel:
    """Read ``text`` as BuildKit would and return what its build pulls."""
    return analyse(read_dockerfile(text))
