"""Migrations inside the image: ``python deploy/migrations.py up|wait COMPONENT ...``.

``up`` runs ``platformctl migrate up --component NAME`` for each component (in this process),
while holding a PostgreSQL advisory lock on that server: containers or pods that start
together (replicas, or every component of a compose project at once) then migrate one
after the other instead of racing on the same schema or on creating the database. The
database it migrates with:

- ``MIGRATIONS_DATABASE_URL`` (password: the secret ``MIGRATIONS_DATABASE_PASSWORD``) with
  a superuser in it: platformctl creates the roles per component (passwords from the
  secrets ``<NAME>_DATABASE_PASSWORD`` and ``<NAME>_DATABASE_OWNER_PASSWORD``), their
  grants, and migrates each schema as its owner role;
- ``MIGRATIONS_DATABASE_URL`` without a user (the roles exist already, made by a DBA or an
  operator such as CloudNativePG): each component migrates as its owner role
  ``<database>_<name>_owner`` with the secret ``<NAME>_DATABASE_OWNER_PASSWORD``;
- else ``<NAME>_DATABASE_URL``, else ``DATABASE_URL`` (passwords ``<NAME>_DATABASE_PASSWORD``,
  ``DATABASE_PASSWORD``), as before roles per component.

Secrets are read from the environment or from files in ``CIVIC_SECRETS_DIR``.

``wait`` returns once every named component's schema is at its newest revision (what
an init container does while the migration Job runs); it gives up after
``MIGRATIONS_WAIT_TIMEOUT`` seconds (300) with exit status 1.

Used by ``deploy/entrypoint.sh``; it needs no embedded server and never starts one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic.script import ScriptDirectory

from platformctl.components import COMPONENTS, Component
from shared import migrations
from shared.settings import read_secret, url_has_password, url_with_credentials

# pg_advisory_lock key shared by every migration run of the platform ("civicmig").
LOCK_KEY = int.from_bytes(b"civicmig", "big") & 0x7FFF_FFFF_FFFF_FFFF
POLL_SECONDS = 2.0


def with_password(url: str, secret: str) -> str:
    password = None if url_has_password(url) else read_secret(secret)
    return url_with_credentials(url, password=password) if password else url


def database_url(name: str) -> str:
    """The component's own database URL (its runtime role): what ``wait`` reads with."""
    prefix = name.upper()
    if url := os.environ.get(f"{prefix}_DATABASE_URL"):
        return with_password(url, f"{prefix}_DATABASE_PASSWORD")
    if url := os.environ.get("DATABASE_URL"):
        return with_password(url, "DATABASE_PASSWORD")
    raise SystemExit(
        f"migrations of {name}: set {prefix}_DATABASE_URL or DATABASE_URL "
        "(postgresql://user@host:5432/database, the password as a secret)"
    )


def migrations_url(name: str) -> str:
    """The URL ``up`` migrates ``name`` with (see the module's description)."""
    url = os.environ.get("MIGRATIONS_DATABASE_URL")
    if not url:
        return database_url(name)
    if urlsplit(url).username:
        return with_password(url, "MIGRATIONS_DATABASE_PASSWORD")
    from platformctl.roles import roles_of

    database = urlsplit(url).path.lstrip("/") or "postgres"
    owner = roles_of(database, name).owner
    return url_with_credentials(url, owner, read_secret(f"{prefix(name)}_DATABASE_OWNER_PASSWORD") or "")


def prefix(name: str) -> str:
    return name.upper()


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url[len(prefix) :]
    if database is None:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def connect(url: str, database: str | None = None) -> asyncpg.Connection:
    deadline = time.monotonic() + float(os.environ.get("DATABASE_WAIT_TIMEOUT", "60"))
    while True:
        try:
            # no named statements: an init container may reach the database through a
            # pooler in transaction mode (the ha overlay)
            return await asyncpg.connect(asyncpg_dsn(url, database), timeout=10, statement_cache_size=0)
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"database not reachable: {exc}") from exc
            print(f"waiting for the database ({type(exc).__name__})", file=sys.stderr, flush=True)
            await asyncio.sleep(POLL_SECONDS)


def run_platformctl(name: str, url: str) -> None:
    """``platformctl migrate up --component NAME`` with ``url``, in this process: the platform's
    code is imported once for every component, not once per component (a second of CPU each)."""
    from platformctl import cli

    print(f"migrating {name}: platformctl migrate up --component {name}", flush=True)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        code = cli.main(["migrate", "up", "--component", name])
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
    if code != 0:
        raise SystemExit(f"migrations of {name} failed (exit status {code})")


async def up(names: list[str]) -> None:
    for name in names:
        url = migrations_url(name)
        # The lock lives in the maintenance database, which exists before ours does
        # (platformctl creates the platform database when it is missing).
        lock = await connect(url, "postgres")
        try:
            await lock.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
            await asyncio.to_thread(run_platformctl, name, url)
        finally:
            await lock.close()  # closing the session releases the lock


def heads(component: Component, url: str) -> set[str]:
    config = migrations.alembic_config(component.migrations_dir, url, component.schema)
    return set(ScriptDirectory.from_config(config).get_heads())


async def current(component: Component, url: str) -> set[str]:
    connection = await connect(url)
    try:
        rows = await connection.fetch(f'SELECT version_num FROM "{component.schema}".alembic_version')
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return set()
    finally:
        await connection.close()
    return {row["version_num"] for row in rows}


async def wait(names: list[str]) -> None:
    deadline = time.monotonic() + float(os.environ.get("MIGRATIONS_WAIT_TIMEOUT", "300"))
    known = {c.name: c for c in COMPONENTS}
    pending = [known[name] for name in names]
    while True:
        still = []
        for component in pending:
            url = database_url(component.name)
            try:
                at = await current(component, url)
            except asyncpg.InvalidCatalogNameError:  # the database is not created yet
                at = set()
            if at != heads(component, url):
                still.append(component)
        if not still:
            print(f"migrations at head: {', '.join(names)}", flush=True)
            return
        if time.monotonic() > deadline:
            raise SystemExit(
                "migrations not at head after the wait: "
                + ", ".join(c.name for c in still)
                + " (has the migration job run?)"
            )
        print(f"waiting for migrations of {', '.join(c.name for c in still)}", flush=True)
        pending = still
        await asyncio.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "wait"])
    parser.add_argument("components", nargs="+", choices=[c.name for c in COMPONENTS])
    args = parser.parse_args(argv)
    asyncio.run(up(args.components) if args.action == "up" else wait(args.components))
    return 0


if __name__ == "__main__":
    sys.exit(main())
