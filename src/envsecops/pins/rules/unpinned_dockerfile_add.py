"""`unpinned-dockerfile-add`: `ADD <url>` without `--checksum=`, or a git source not at a commit."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.dockerfile_model import git_ref_pinned
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.rules.image_pinning import dockerfile_sites
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DOCKERFILE_ADD = Rule(
    id="unpinned-dockerfile-add",
    title="ADD downloads a remote file or repository without pinning it",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`ADD https://...` copies whatever the server returns at build time into the image, "
    "and `ADD https://host/repo.git#v1` whatever the ref points to. Give downloads a "
    "`--checksum=sha256:<digest>` (BuildKit verifies it) and git sources a full commit "
    "(`#<40-hex commit>` or `--checksum=<commit>`).",
)


class UnpinnedDockerfileAdd(Check):
    """Report remote `ADD` sources that the build does not verify."""

    rules = (UNPINNED_DOCKERFILE_ADD,)
    kinds = frozenset({FileKind.DOCKERFILE, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per unverified remote ADD source."""
        for site in dockerfile_sites(document):
            for add in site.model.adds:
                at = site.at(document, add.line, add.column, add.url)
                shown = shorten(add.url)
                if add.git:
                    if git_ref_pinned(add.url, add.checksum):
                        continue
                    ref = add.url.partition("#")[2].split(":", 1)[0]
                    what = f"the ref `{shorten(ref)}`" if ref else "no ref (the default branch)"
                    emitter.emit(
                        UNPINNED_DOCKERFILE_ADD,
                        at,
                        add.url,
                        f"`ADD {shown}`{site.label} copies a git repository at {what}, which "
                        "can move to other commits (git source without a commit)",
                        fix="name the full commit: `ADD <repo>.git#<40-hex commit> <dest>` (or "
                        "add `--checksum=<40-hex commit>`)",
                    )
                elif not (add.checksum or "").startswith(("sha256:", "sha384:", "sha512:")):
                    emitter.emit(
                        UNPINNED_DOCKERFILE_ADD,
                        at,
                        add.url,
                        f"`ADD {shown}`{site.label} downloads a file the build does not verify "
                        "(no `--checksum=`): the server can change what it returns",
                        fix="add `--checksum=sha256:<digest>` (compute it with "
                        "`curl -fsSL <url> | sha256sum`), or vendor the file into the repository",
                    )
