"""Set up the hash-locked virtual environment, then run the demo or the test suite."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.lock"
USAGE = "usage: python3 tools/dev.py {demo|test|setup} [ARGS...]"


def _venv_dir() -> Path:
    return Path(os.environ.get("ENVSECOPS_VENV", ROOT / ".venv"))


def _bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    return _venv_dir() / sub / name


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def setup() -> None:
    """Create the venv and install exactly the locked bits, unless already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - tools/dev.py may run on any python3
        raise SystemExit("envsecops needs Python 3.11 or newer")
    stamp = _venv_dir() / ".envsecops-installed"
    want = _fingerprint()
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == want:
        return
    print(f"setting up {_venv_dir()} from {LOCK.relative_to(ROOT)} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(_venv_dir())
    python = str(_bin("python"))
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--require-hashes", "--no-deps", "-r", str(LOCK)], check=True)
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True
    )
    stamp.write_text(want + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    """Dispatch to the demo, the test suite or set-up alone."""
    if not argv or argv[0] not in {"demo", "test", "setup"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        return subprocess.run([str(_bin("envsecops")), "demo", *rest], check=False).returncode
    result = subprocess.run([str(_bin("python")), "-m", "pytest", *rest], check=False, cwd=ROOT)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
