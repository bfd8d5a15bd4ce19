"""Start the platform's processes as forks of one that has imported them already.

A process of the platform spends most of its start importing (FastAPI, SQLAlchemy, pydantic,
its models: about a second of CPU each, five per platform), and the test suite starts a
platform per worker and more for the tests that need one of their own. The fork server imports
every component's modules once; each process is then a fork of it that sets its environment
and runs uvicorn with exactly the arguments the launcher would pass (``Child.command``), so it
builds its application, reads its settings and opens its connections after the fork, as a
process started afresh does. `make run` does not use it: there each process is started anew.

Protocol (one socket pair, JSON lines): the client sends ``{"args", "env", "log"}`` and reads
``{"pid"}``; the server reaps its children and sends ``{"exit", "code"}`` for each (the code
as ``subprocess`` gives it: negative for a signal). When the client goes away, the server
stops its children and ends.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# what every child runs; the components' modules are the client's to name (the launcher's
# applications and protocols: platformctl.supervisor.preload_modules)
PRELOAD = ("uvicorn.main", "uvloop", "httptools")


class ForkServer:
    """The client side: one server process, started with the first :meth:`spawn`, that imports
    ``preload`` (modules that change no state a setting decides when imported) first."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        self.preload = list(preload)
        self._socket: socket.socket | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._exits: dict[int, int] = {}
        self._lock = threading.Lock()

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        self._server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "platformctl.forkserver", str(theirs.fileno()), *self.preload],
            pass_fds=[theirs.fileno()],
        )
        theirs.close()
        self._socket = ours
        return ours

    def spawn(self, args: Sequence[str], env: dict[str, str], log_file: Path | None) -> ForkedProcess:
        with self._lock:
            connection = self._socket or self._start()
            request = {"args": list(args), "env": env, "log": str(log_file) if log_file else None}
            connection.sendall(json.dumps(request).encode() + b"\n")
            while True:
                message = self._read(timeout=60)
                if message is None:
                    raise RuntimeError("the fork server did not answer")
                if "pid" in message:
                    return ForkedProcess(self, int(message["pid"]), list(args))

    def _read(self, timeout: float | None) -> dict[str, Any] | None:
        """One message (exits are recorded on the way); None when none came within ``timeout``."""
        assert self._socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._socket.settimeout(left)
            try:
                chunk = self._socket.recv(65536)
            except (TimeoutError, BlockingIOError):
                return None
            if not chunk:
                raise RuntimeError("the fork server has ended")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        if "exit" in message:
            self._exits[int(message["exit"])] = int(message["code"])
        return message

    def exit_code(self, pid: int, timeout: float | None = 0.0) -> int | None:
        """The process's exit code once the server has reaped it; waits up to ``timeout``
        (None: until it ends)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while pid not in self._exits and self._socket is not None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if self._read(timeout=left) is None and left == 0.0:
                    return None
            return self._exits.get(pid)

    def close(self) -> None:
        """End the server; it stops any child still running (their exit codes are kept)."""
        with self._lock:
            if self._socket is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    self._socket.shutdown(socket.SHUT_WR)
                    while self._read(timeout=30) is not None:
                        pass  # until the server has reported its last child and ended
                self._socket.close()
                self._socket = None
            if self._server is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._server.wait(15)
                if self._server.poll() is None:
                    self._server.kill()
                    self._server.wait()
                self._server = None


class ForkedProcess:
    """What the launcher uses of :class:`subprocess.Popen`, for a fork of the server."""

    def __init__(self, server: ForkServer, pid: int, args: list[str]) -> None:
        self.server = server
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, timeout=timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# -- the server ------------------------------------------------------------------------------


def _child(connection: socket.socket, wakeup: tuple[int, int], request: dict[str, Any]) -> None:
    """In the fork: become the process the launcher would have started; never returns."""
    code = 1
    try:
        connection.close()
        # the server's way of hearing of its children is not the child's
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wakeup:
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        random.seed()
        if request["log"]:
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
        args: list[str] = request["args"]
        sys.argv = args
        from uvicorn.main import main

        try:
            main.main(args=args[3:], prog_name="uvicorn", standalone_mode=True)  # after "python -m uvicorn"
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(fd: int, preload: Sequence[str]) -> None:
    for module in (*PRELOAD, *preload):
        __import__(module)
    # what the imports made stays out of the collector's sight in every fork, so that a
    # collection there does not write to (and copy) the pages it shares with this process
    gc.collect()
    gc.freeze()
    connection = socket.socket(fileno=fd)
    connection.setblocking(False)
    children: set[int] = set()
    buffer = b""
    # a child's end wakes the loop (SIGCHLD through a wake-up pipe): it waits for a request or
    # an exit, not polling (an idle platform's server costs nothing)
    wakeup = os.pipe()
    for end in wakeup:
        os.set_blocking(end, False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(connection, selectors.EVENT_READ)
    selector.register(wakeup[0], selectors.EVENT_READ)

    def send(message: dict[str, Any]) -> None:
        connection.setblocking(True)
        connection.sendall(json.dumps(message).encode() + b"\n")
        connection.setblocking(False)

    while True:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                with contextlib.suppress(OSError):
                    send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        ready = {key.fileobj for key, _ in selector.select()}
        if wakeup[0] in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wakeup[0], 512)
        if connection not in ready:
            continue
        chunk = connection.recv(65536)
        if not chunk:
            break  # the client went away
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(connection, wakeup, request)
            children.add(pid)
            with contextlib.suppress(OSError):  # the client is gone: the next read ends the loop
                send({"pid": pid})
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while children:
        for pid in list(children):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                with contextlib.suppress(OSError):
                    send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        time.sleep(0.05)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
