"""Set up the hash-locked virtual environment, then run the demo, the test suite or a build.

``test`` runs pytest with the network shut. Where ``unshare --net`` works (as root, or with
``--map-root-user`` otherwise) pytest runs in a fresh network namespace whose only interface is
loopback, brought up inside (``ip link set lo up``, or an ``SIOCSIFFLAGS`` ioctl without
``ip``); a probe in such a namespace first proves that 127.0.0.1 bind+connect works and that an
outside address fails. Without that sandbox the suite still runs, with the socket guard in
tests/conftest.py alone, and one line says so. The filesystem is shared, so /tmp, pytest's
tmp dirs and ../shared work as usual. ``ENVSECOPS_NO_SKIPS=1`` makes the session fail when a
test that was expected to run was skipped (tests/conftest.py).

``build [OUTDIR]`` builds the sdist, then the wheel from that sdist, with setuptools from the
hash-locked venv called through its PEP 517 hooks (``build`` is not in the lock; no isolated
build environment is downloaded).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.lock"
USAGE = "usage: python3 tools/dev.py {demo|test|setup|build} [ARGS...]"
# Internal: run inside a fresh network namespace (see _sandbox_prefix).
PROBE, NETNS_EXEC = "_netns-probe", "_netns-exec"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IFREQ = "16sh22x"  # struct ifreq: the name, then ifr_flags, padded to 40 bytes
OUTSIDE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never a real host


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


def loopback_up() -> None:
    """Bring `lo` up in this (new) network namespace: with `ip`, else with an ioctl."""
    ip = shutil.which("ip")
    if ip is not None:
        done = subprocess.run([ip, "link", "set", "lo", "up"], check=False, capture_output=True)
        if done.returncode == 0:
            return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(IFREQ, b"lo", 0)
        flags = struct.unpack(IFREQ, fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack(IFREQ, b"lo", flags | IFF_UP))


def probe() -> str | None:
    """Inside the namespace: None when loopback works and the outside fails, else why not."""
    interfaces = sorted(name for _index, name in socket.if_nameindex())
    if interfaces != ["lo"]:
        return f"interfaces {interfaces}, expected only lo"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    try:
        with socket.create_connection(OUTSIDE, timeout=3):
            return f"{OUTSIDE[0]} was reachable"
    except OSError as exc:
        if exc.errno not in {errno.ENETUNREACH, errno.EHOSTUNREACH}:
            return f"{OUTSIDE[0]} failed with {exc!r}, not 'network unreachable'"
    return None


def _inside(command: str, rest: list[str]) -> int:
    """The namespace side of `test`: loopback up, then the probe or the exec."""
    try:
        loopback_up()
        why = probe() if command == PROBE else None
    except OSError as exc:
        why = f"loopback: {exc}"
    if why is not None:
        print(why, file=sys.stderr)
        return 1
    if command == NETNS_EXEC:
        os.execv(rest[0], rest)  # noqa: S606 - the argv test() built
    return 0


def _sandbox_prefix() -> tuple[list[str], str]:
    """The argv prefix that runs a command without network, or [] and the reason why not."""
    if os.environ.get("ENVSECOPS_NO_NETNS") == "1":
        return [], "ENVSECOPS_NO_NETNS=1"
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return [], "unshare is not available"
    base = [unshare, "--net"]
    if os.geteuid() != 0:
        base.append("--map-root-user")
    me = [sys.executable, "-I", str(Path(__file__).resolve())]
    try:
        done = subprocess.run(
            [*base, "--", *me, PROBE], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"unshare failed: {exc}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"the network-namespace probe failed: {detail}"
    return [*base, "--", *me, NETNS_EXEC], " ".join(base[1:])


def test(rest: list[str]) -> int:
    """pytest in a network namespace with only loopback, or with the socket guard alone."""
    prefix, how = _sandbox_prefix()
    if prefix:
        print(f"envsecops: tests run with no network (unshare {how}; loopback only)", flush=True)
    else:
        print(f"envsecops: no network namespace ({how}); the socket guard only", flush=True)
    env = {
        **os.environ,
        "ENVSECOPS_NO_SKIPS": "1",
        "ENVSECOPS_SANDBOX": "netns" if prefix else "guard",
    }
    argv = [*prefix, str(_bin("python")), "-m", "pytest", *rest]
    return subprocess.run(argv, check=False, cwd=ROOT, env=env).returncode


def build(rest: list[str]) -> int:
    """The sdist, then the wheel built from that sdist, into OUTDIR (default dist/)."""
    out = Path(rest[0] if rest else ROOT / "dist").resolve()
    out.mkdir(parents=True, exist_ok=True)
    python = str(_bin("python"))
    hook = "import sys, setuptools.build_meta as b; print(b.build_{}(sys.argv[1]))"
    sdist = subprocess.run(
        [python, "-c", hook.format("sdist"), str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(out / sdist) as archive:
            archive.extractall(tmp, filter="data")
        (source,) = Path(tmp).iterdir()
        wheel = subprocess.run(
            [python, "-c", hook.format("wheel"), str(out)],
            cwd=source,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    print(out / sdist)
    print(out / wheel)
    return 0


def main(argv: list[str]) -> int:
    """Dispatch to the demo, the test suite, a build or set-up alone."""
    if argv and argv[0] in {PROBE, NETNS_EXEC}:
        return _inside(argv[0], argv[1:])
    if not argv or argv[0] not in {"demo", "test", "setup", "build"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        return subprocess.run([str(_bin("envsecops")), "demo", *rest], check=False).returncode
    if command == "build":
        return build(rest)
    return test(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
