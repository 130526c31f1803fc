"""What `envsecops attest` leaves behind: the three files, the step outputs, and progress lines.

Files are written atomically (a temporary file in the same directory, fsync, rename), so a
reader never sees half a manifest and a planted symlink at the destination is replaced,
never followed. Step outputs go through :mod:`envsecops.gh.commands` (random heredoc
delimiters); progress lines go to a writer the CLI passes in.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from envsecops.errors import EnvsecopsError, ExitCode, UsageError

BAG_FILE = "bag.json"
SBOM_FILE = "sbom.cdx.json"
ATTESTATION_STEM = "attestation"
OUTPUT_NAMES = ("env-hash", "attestation", "sbom", "bag", "nonce")
"""The step outputs attest sets in GitHub Actions."""


class OutputError(EnvsecopsError):
    """An output file could not be written."""

    exit_code = ExitCode.INFRA


@dataclass(frozen=True, slots=True)
class AttestationFiles:
    """Absolute paths of the files one attest run wrote."""

    bag: Path
    sbom: Path
    attestation: Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (mode 0644)."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OutputError(
            f"{path.parent}: cannot create a file there ({exc.strerror or exc})",
            fix="point --out at a writable directory",
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        staged = Path(temp)
        staged.chmod(0o644)
        staged.replace(path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(
            f"{path}: cannot write ({exc.strerror or exc})",
            fix="point --out at a writable directory with free space",
        ) from exc


def prepare_out_dir(out: Path) -> Path:
    """Create ``out`` (and parents) if needed; return it absolute, symlinks resolved."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--out {out}: cannot create the directory ({exc.strerror or exc})",
            fix="point --out at a writable directory",
        ) from exc
    if not out.is_dir():
        raise UsageError(f"--out {out}: not a directory", fix="point --out at a directory")
    return out.resolve()


def write_files(
    out: Path, bag_json: bytes, sbom_text: str, attestation: bytes, suffix: str
) -> AttestationFiles:
    """Write ``bag.json``, ``sbom.cdx.json`` and ``attestation<suffix>`` into ``out``."""
    directory = prepare_out_dir(out)
    files = AttestationFiles(
        bag=directory / BAG_FILE,
        sbom=directory / SBOM_FILE,
        attestation=directory / f"{ATTESTATION_STEM}{suffix}",
    )
    write_atomic(files.bag, bag_json)
    write_atomic(files.sbom, sbom_text.encode("utf-8"))
    write_atomic(files.attestation, attestation)
    return files


def set_step_outputs(
    github_output: Path, env_hash: str, files: AttestationFiles, nonce: str
) -> dict[str, str]:
    """Append the attest step's outputs to ``$GITHUB_OUTPUT``; returns what was written."""
    from envsecops.gh.commands import set_output

    values = {
        "env-hash": env_hash,
        "attestation": str(files.attestation),
        "sbom": str(files.sbom),
        "bag": str(files.bag),
        "nonce": nonce,
    }
    for name in OUTPUT_NAMES:
        set_output(github_output, name, values[name])
    return values


class ProgressLines:
    """Progress to a writer: redrawn in place on a TTY, a plain line every ``interval`` in logs.

    Call it with ``(done, total, what)``: the inventory reports catalogers done and, through
    the hashing engine, files hashed. It rate-limits itself, so an engine may report every
    file; the last of a known total always shows. ``finish`` ends the line on a TTY.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self.clock = clock
        self._last = clock()
        self._drawn = False

    def __call__(self, done: int, total: int | None, what: str) -> None:
        """Report ``done`` of ``total`` (None: unknown) ``what`` (e.g. "catalogers done")."""
        count = f"{done:,}/{total:,}" if total else f"{done:,}"
        percent = f" ({100 * done // total}%)" if total else ""
        self._show(f"{count} {what}{percent}", final=total is not None and done >= total)

    def _show(self, message: str, *, final: bool = False) -> None:
        now = self.clock()
        if now - self._last < self.interval and not final:
            return
        self._last = now
        text = f"envsecops: {message}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{text}")
            self._drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End a redrawn TTY line so later output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
