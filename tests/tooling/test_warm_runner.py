"""The warm test runner: same output as a plain run, edits seen, one per checkout, nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kata.tools import warm

pytestmark = [pytest.mark.timeout(600),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm runner is Linux-only")]
WARM = {"KATA_NO_SERVER": "0"}


def normalise(text: str) -> str:
    return re.sub(r"in [\d.]+s", "in Xs", text)


def server_processes(root: Path) -> list[int]:
    """Pids of the warm server for ``root`` and of its forked runs (they share its command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if state != "Z" and any(w.endswith(b"kata/tools/warm.py") for w in words) and str(root).encode() in words:
            found.append(int(entry.name))
    return found


def wait_for(condition, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def wait_until_serving(root: Path, seconds: float = 180) -> None:
    socket_path, _, log = warm.paths(root)
    assert wait_for(socket_path.exists, seconds, 0.2), log.read_text() if log.exists() else "no log"


@pytest.fixture
def warm_copy(course_copy):
    yield course_copy
    course_copy.kata("stop")
    assert wait_for(lambda: not server_processes(course_copy.root.resolve()), 30), "a warm server outlived its test"


def test_warm_runs_match_plain_runs_and_see_edits(warm_copy):
    first = warm_copy.kata("test", "1", env=WARM)  # no server yet: runs plainly and starts one
    wait_until_serving(warm_copy.root)
    served = warm_copy.kata("test", "1", env=WARM)
    assert normalise(served.stdout) == normalise(first.stdout)
    assert served.returncode == first.returncode == 1

    warm_copy.solve_with(1, warm_copy.reference_source(1))  # the learner saves a solution
    solved = warm_copy.kata("test", "1", env=WARM)
    assert solved.returncode == 0 and "3/3 tasks done" in solved.stdout, solved.stdout
    _, _, log = warm.paths(warm_copy.root)
    assert "preloaded" in log.read_text()
    stopped = warm_copy.kata("stop")
    assert "stopped the warm test runner" in stopped.stdout
    assert wait_for(lambda: not server_processes(warm_copy.root.resolve()), 10)


def test_four_first_runs_at_once_leave_one_server(warm_copy):
    environment = {**os.environ, **WARM}
    environment.pop("KATA_TARGET", None)
    runs = [subprocess.Popen([sys.executable, "-m", "kata", "test", "1"], cwd=warm_copy.root, env=environment,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(4)]
    for run in runs:
        run.wait(timeout=300)
    wait_until_serving(warm_copy.root)
    time.sleep(1.0)  # any second server would have found the lock taken by now
    assert len(server_processes(warm_copy.root.resolve())) == 1


def test_a_client_killed_mid_run_leaves_no_spinning_server(warm_copy):
    warm_copy.kata("stop")
    first = warm_copy.kata("test", "1", env=WARM)
    assert first.returncode == 1
    wait_until_serving(warm_copy.root)
    stub = warm_copy.exercise(1).read_text()
    warm_copy.solve_with(1, stub.replace('raise TODO("1.1")', "while True:\n        q = q + 0", 1))
    environment = {**os.environ, **WARM}
    environment.pop("KATA_TARGET", None)
    client = subprocess.Popen([sys.executable, "-m", "kata", "test", "1", "-o", "timeout=300"], cwd=warm_copy.root,
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = warm_copy.root.resolve()
    assert wait_for(lambda: len(server_processes(root)) == 2, 60), "the run never started in the server"
    client.send_signal(signal.SIGKILL)
    client.wait(timeout=30)
    # the forked run sees its client gone and exits; the server goes back to waiting, not spinning
    assert wait_for(lambda: len(server_processes(root)) == 1, 30), "the run outlived its client"
    (server,) = server_processes(root)
    before = _cpu_seconds(server)
    time.sleep(1.0)
    assert _cpu_seconds(server) - before < 0.2, "the server is busy with no client"
    warm_copy.solve_with(1, stub)
    again = warm_copy.kata("test", "1", env=WARM, timeout=120)
    assert "0/3 tasks done" in again.stdout, again.stdout
    started = time.monotonic()
    assert "stopped" in warm_copy.kata("stop", timeout=30).stdout
    assert time.monotonic() - started < 20


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_verify_leaves_no_server_behind(warm_copy):
    result = warm_copy.run("make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".venv/.installed-dev",
                           "verify-module-1", env=WARM, timeout=300)
    assert "verify passed" in result.stdout, result.stdout[-2000:]
    time.sleep(0.5)
    assert server_processes(warm_copy.root.resolve()) == []


def test_the_socket_path_stays_short_for_a_deep_checkout(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 6) / "cross-entropy-kata"
    socket_path, lock_path, _ = warm.paths(deep)
    assert len(str(socket_path)) < 100 and socket_path.parent == lock_path.parent
