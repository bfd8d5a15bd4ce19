"""The test platforms' processes are forks of one server (platformctl.forkserver): each runs
uvicorn with the launcher's arguments and its own environment, and answers to poll, wait and
signals as a process the launcher started itself would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from platformctl.forkserver import ForkServer
from platformctl.supervisor import free_port


def uvicorn_args(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port), "--log-level", "warning"]


def answers(port: int, within: float = 30) -> int:
    """The status of GET / once something listens on the port."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port} within {within} s")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads parent pids from /proc")
def test_forks_run_answer_and_end_as_started_processes(tmp_path: Path) -> None:
    server = ForkServer()
    try:
        port = free_port()
        log = tmp_path / "empty.log"
        # an application with no routes (FastAPI()): every path is 404
        running = server.spawn(uvicorn_args("fastapi:FastAPI", port), dict(os.environ), log)
        assert answers(port) == 404
        assert server._server is not None
        assert parent_of(running.pid) == server._server.pid
        assert running.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            running.wait(0.2)

        # an application that cannot be loaded: the exit code and the message of a fresh process
        broken_args = uvicorn_args("no_such_module:app", free_port())
        fresh = subprocess.run(broken_args, capture_output=True, text=True, timeout=60, check=False)
        broken_log = tmp_path / "broken.log"
        broken = server.spawn(broken_args, dict(os.environ), broken_log)
        assert broken.wait(60) == fresh.returncode != 0
        assert "no_such_module" in broken_log.read_text()
        assert "no_such_module" in fresh.stderr

        # a signal ends it as it would end a process started afresh (negative: the signal)
        running.send_signal(signal.SIGKILL)
        assert running.wait(30) == -signal.SIGKILL
        assert running.poll() == -signal.SIGKILL
        running.send_signal(signal.SIGTERM)  # ended already: nothing to signal, no error

        # started again with the same arguments, as the launcher restarts a process
        again = server.spawn(uvicorn_args("fastapi:FastAPI", port), dict(os.environ), log)
        assert answers(port) == 404
    finally:
        server.close()
    # the server stops what it started when its client closes it, and says how each ended
    assert again.poll() == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(again.pid, 0)
