"""Masking and exporting a minted credential: `::add-mask::` first, then `$GITHUB_ENV` or a file.

In GitHub Actions every value of :meth:`IssuedCredential.mask_values` (and the OIDC token, when
it is requested) is masked before anything else is printed; the exports go to ``$GITHUB_ENV``
for the following steps; the step outputs carry ``expires-at`` and ``credential`` (the public
record's path) always, and the exports themselves (``aws-access-key-id``, …: each name in lower
case with ``-``) only when asked. Outside Actions the exports are written to
``credentials.env`` (mode 0600, ``export NAME='value'`` lines to ``source``) in the output
directory, and never printed.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import EnvsecopsError, InfraError

if TYPE_CHECKING:
    from envsecops.creds.interface import IssuedCredential

CREDENTIALS_FILE = "credentials.env"
CREDENTIAL_RECORD = "credential.json"
OUTPUT_NAMES = ("expires-at", "credential")
"""The step outputs set on every issue in Actions; the credential outputs (:func:`output_name`
of each provider's ``EXPORTS``) are set only with ``output_credentials``."""


class ExportFailed(InfraError):
    """The credentials exist but could not be handed to the following steps (exit 3)."""


def mask_lines(values: Iterable[str]) -> list[str]:
    """``::add-mask::`` lines for every value (each line of a multi-line value, too)."""
    from envsecops.gh.commands import add_mask

    lines: list[str] = []
    for value in values:
        lines += add_mask(value)
    return lines


def output_name(variable: str) -> str:
    """The step output for an exported variable: ``AWS_ACCESS_KEY_ID`` → ``aws-access-key-id``."""
    return variable.lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the credential goes: the runner's files in Actions, else the output directory."""

    out_dir: Path
    github_env: Path | None = None
    github_output: Path | None = None
    output_credentials: bool = False


@dataclass(frozen=True, slots=True)
class Exported:
    """Where the credential went, and the names of the step outputs set."""

    where: str
    record: Path
    outputs: tuple[str, ...]


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_record(path: Path, issued: IssuedCredential) -> None:
    data = json.dumps(issued.to_json(), sort_keys=True, indent=2) + "\n"
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        Path(temp).chmod(0o644)
        Path(temp).replace(path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        raise


def export(issued: IssuedCredential, destination: Destination) -> Exported:
    """Hand the exports on (``$GITHUB_ENV`` or credentials.env) and set the step outputs."""
    from envsecops.gh.commands import set_env, set_output

    record = destination.out_dir / CREDENTIAL_RECORD
    try:
        _write_record(record, issued)
        if destination.github_env is not None:
            for name, value in issued.exports.items():
                set_env(destination.github_env, name, value)
            where = f"$GITHUB_ENV ({', '.join(issued.exports)})"
        else:
            path = destination.out_dir / CREDENTIALS_FILE
            lines = [
                f"export {name}={shlex.quote(value)}" for name, value in issued.exports.items()
            ]
            _write_private(path, "\n".join(lines) + "\n")
            where = f"{path} (mode 0600; `source` it; {', '.join(issued.exports)})"
        outputs: list[str] = []
        if destination.github_output is not None:
            always = (issued.credential.expires_at, str(record))
            values = dict(zip(OUTPUT_NAMES, always, strict=True))
            if destination.output_credentials:
                values |= {output_name(k): v for k, v in issued.exports.items()}
            for name, value in values.items():
                set_output(destination.github_output, name, value)
                outputs.append(name)
    except EnvsecopsError as exc:
        raise ExportFailed(exc.message, fix=exc.fix) from exc
    except OSError as exc:
        raise ExportFailed(
            f"the credential could not be written to {destination.out_dir}: {exc.strerror or exc}",
            fix="point --out at a writable directory",
        ) from exc
    return Exported(where, record, tuple(outputs))
