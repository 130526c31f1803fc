"""`requirements-without-hash`: a requirements line that pip will install without a `--hash`."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.requirements import COMMIT, Requirement, RequirementsDocument, Source
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.unpinned_uses import shorten

REQUIREMENTS_WITHOUT_HASH = Rule(
    id="requirements-without-hash",
    title="Requirement installed without a hash",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="Without `--hash`, pip installs whatever file the index (or URL) serves: a new upload, "
    "a compromised mirror, a dependency-confusion twin. `==` pins a version, not the bytes. "
    "Generate hashes for every line with `pip-compile --generate-hashes` or "
    "`uv pip compile --generate-hashes`, and install with `pip install --require-hashes`.",
)
LOCK_FIX = (
    "lock the file with hashes: `pip-compile --generate-hashes` (or `uv pip compile "
    "--generate-hashes`), then install with `pip install --require-hashes -r <file>`"
)


def _where(requirement: Requirement) -> str:
    editable = "`-e` " if requirement.editable else ""
    return f"{editable}`{shorten(requirement.text)}`"


class RequirementsWithoutHash(Check):
    """Report each requirement line pip would install without checking a hash.

    One finding per line, at the requirement's line (continuation lines with `--hash`
    belong to it; a `--hash` cut off by a comment or by a space after `\\` does not). Local
    relative paths (`.`, `./pkg`, `-e .`) are part of the checkout and pinned by its commit:
    no finding. A VCS URL cannot be hash-checked by pip at all: pinned to a full commit it
    is reported as low, otherwise high.
    """

    rules = (REQUIREMENTS_WITHOUT_HASH,)
    kinds = frozenset({FileKind.REQUIREMENTS})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per unhashed requirement."""
        if not isinstance(document, RequirementsDocument):
            raise TypeError(f"{type(document).__name__} is not a requirements file")
        for requirement in document.requirements:
            if requirement.hashed or requirement.source is Source.LOCAL:
                continue
            self._emit(requirement, emitter, document.require_hashes)

    @staticmethod
    def _emit(requirement: Requirement, emitter: Emitter, require_hashes: bool) -> None:
        at = Location(
            requirement.line,
            requirement.column,
            requirement.line,
            requirement.column + len(requirement.text.split(" ", 1)[0]),
        )
        what = _where(requirement)
        mode = " (`--require-hashes` makes pip refuse the file)" if require_hashes else ""
        severity: Severity | None = None
        fix = LOCK_FIX
        if requirement.source is Source.INDEX:
            if requirement.exact:
                problem = f"is pinned with `{requirement.specifier}` but has no `--hash`"
            else:
                spec = requirement.specifier or "any version"
                problem = f"accepts {spec} and has no `--hash` (unpinned)"
        elif requirement.source is Source.URL:
            problem = "downloads an archive from a URL without `--hash`"
            fix = "append `--hash=sha256:<digest>` (compute it with `pip hash <archive>`)"
        elif requirement.source is Source.VCS:
            ref = requirement.vcs_ref
            if ref and COMMIT.fullmatch(ref):
                problem = (
                    "is pinned to a commit, but pip cannot hash-check a VCS checkout and "
                    "refuses it in `--require-hashes` mode"
                )
                severity = Severity.LOW
            else:
                shown = f"the ref `{shorten(ref)}`" if ref else "no ref (the default branch)"
                problem = f"installs from version control at {shown}, which can move"
            fix = (
                "build a wheel from a full commit, publish or vendor it, and hash it; at least "
                "pin the URL to `@<40-hex commit>`"
            )
        elif requirement.source is Source.OUTSIDE:
            problem = "installs from a path outside the repository, whose content is unchecked"
            fix = "vendor the archive into the repository, or install it from an index with a hash"
        else:
            problem = (
                "contains a `${VARIABLE}` that pip expands from the environment, so what it "
                "installs cannot be verified, and it has no `--hash`"
            )
        emitter.emit(
            REQUIREMENTS_WITHOUT_HASH,
            at,
            requirement.text,
            f"{what} {problem}{mode}",
            fix=fix,
            severity=severity,
            confidence=Confidence.MEDIUM if requirement.source is Source.VARIABLE else None,
        )
