"""Regenerate the hash-locked requirement files from pyproject.toml with uv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = [
    "pip",
    "compile",
    "--universal",
    "--python-version",
    "3.11",
    "--generate-hashes",
    "--no-header",
    "--quiet",
]


def main() -> int:
    """Write requirements/runtime.lock and requirements/dev.lock."""
    uv = shutil.which("uv")
    if uv is None:
        print("tools/lock.py needs uv: pip install uv", file=sys.stderr)
        return 2
    req = ROOT / "requirements"
    subprocess.run(
        [uv, *COMMON, "pyproject.toml", "--extra", "dev", "-o", str(req / "dev.lock")],
        check=True,
        cwd=ROOT,
    )
    subprocess.run(
        [
            uv,
            *COMMON,
            "pyproject.toml",
            str(req / "build.in"),
            "-c",
            str(req / "dev.lock"),
            "-o",
            str(req / "runtime.lock"),
        ],
        check=True,
        cwd=ROOT,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
