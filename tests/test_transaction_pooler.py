"""The components behind a pooler in transaction mode (PgBouncer, CloudNativePG's Pooler).

A server connection serves a client for one transaction, then another client: nothing a
component does may rest on its session. With ``<P>DB_TRANSACTION_POOLER=true`` the engine
sends no startup parameters (search_path, statement_timeout and timezone are the role's
own, set by `platformctl database provision`) and keeps no named prepared statements.

- the engine's connection arguments, both ways;
- a real PgBouncer (Debian's ``pgbouncer``; skipped where it is not installed) with two
  server connections per role: with the setting, concurrent queries all succeed; without
  it, the same load fails (so the check can fail);
- the whole platform through that PgBouncer, each component as its own role: concurrent
  writes through the gateway, reads, tokens, an evaluation; no 5xx, every write reads back.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from platformctl import roles as db_roles
from platformctl.components import COMPONENTS
from platformctl.database import database_name
from platformctl.testing import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    HouseholdWriter,
    PgBouncer,
    own_platform,
    pgbouncer_binary,
)
from shared.db import Database, connect_args
from shared.errors import DatabaseUnavailable
from shared.settings import ServiceSettings

NAMES = [c.name for c in COMPONENTS]
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("pooled", [False, True])
def test_engine_sends_no_session_state_to_a_transaction_pooler(pooled: bool) -> None:
    settings = ServiceSettings(
        service_name="welfare", database_url="postgresql://r@h/d", db_transaction_pooler=pooled
    )
    arguments = connect_args(settings, "welfare")
    if pooled:
        assert arguments == {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    else:
        assert arguments["server_settings"]["search_path"] == "welfare"
        assert "statement_cache_size" not in arguments


@pytest.fixture(scope="module")
def pgbouncer(migrated_database: str) -> Iterator[PgBouncer]:
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    database = database_name(migrated_database)
    roles = [r.runtime for r in db_roles.component_roles(database)]
    bouncer = PgBouncer(migrated_database, roles, pool_size=2)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.cleanup()


def driver_error(error: BaseException) -> str:
    """The asyncpg exception's class name under SQLAlchemy's and the platform's wrappers."""
    while True:
        cause = getattr(error, "orig", None) or error.__cause__
        if cause is None or type(error).__module__.startswith("asyncpg"):
            return type(error).__name__
        error = cause


async def run_queries(url: str, mode: str, rounds: int = 30, clients: int = 8) -> list[str]:
    """``clients`` sessions at once, each running ``rounds`` short transactions of a few
    parameterised statements (which SQLAlchemy prepares); the errors, by class.

    ``mode``: ``pooler`` (the setting on), ``direct`` (the setting off: startup parameters
    and named statements), ``named-statements`` (no startup parameters, but asyncpg's and
    SQLAlchemy's statement caches on, i.e. what the setting adds beyond that).
    """
    settings = ServiceSettings(
        service_name="welfare", database_url=url, db_transaction_pooler=mode == "pooler"
    )
    database = Database(settings, "welfare")
    if mode == "named-statements":
        await database.dispose()
        database.engine = create_async_engine(settings.database_url, pool_size=clients)
        database.sessions = async_sessionmaker(database.engine, expire_on_commit=False)
    errors: list[str] = []

    async def client(number: int) -> None:
        for round_ in range(rounds):
            try:
                async with database.sessions() as session:
                    assert await session.scalar(text("SELECT :n + 1"), {"n": number}) == number + 1
                    await session.scalar(
                        text("SELECT count(*) FROM households WHERE jurisdiction = :j"), {"j": "211103"}
                    )
                    assert await session.scalar(text("SELECT current_setting('search_path')")) == "welfare"
                    await session.commit()
            except (DBAPIError, DatabaseUnavailable) as exc:
                errors.append(driver_error(exc))
            if round_ % 5 == 0:
                await asyncio.sleep(0)

    try:
        await asyncio.gather(*(client(n) for n in range(clients)))
    finally:
        await database.dispose()
    return errors


async def test_through_pgbouncer_only_with_the_setting(pgbouncer: PgBouncer, migrated_database: str) -> None:
    database = database_name(migrated_database)
    welfare = db_roles.roles_of(database, "welfare")
    url = pgbouncer.url(welfare.runtime, database)
    # search_path is the role's own: the queries find the service's tables unqualified
    assert await run_queries(url, "pooler") == [], pgbouncer.log()[-2000:]
    # without the setting: PgBouncer refuses the startup parameters ...
    assert set(await run_queries(url, "direct", rounds=3)) == {"ProtocolViolationError"}
    # ... and without them, named prepared statements meet the wrong server connection
    # (how soon a statement meets another client's server connection depends on the interleaving:
    # a few tries of 8 × 30 transactions each)
    failures: set[str] = set()
    for _ in range(5):
        failures = set(await run_queries(url, "named-statements"))
        if failures:
            break
    assert failures, "named prepared statements should not survive a transaction pooler"
    assert failures <= {"InvalidSQLStatementNameError", "DuplicatePreparedStatementError"}, failures


async def test_the_platform_works_through_pgbouncer_in_transaction_mode(
    pgbouncer: PgBouncer, migrated_database: str
) -> None:
    database = database_name(migrated_database)
    urls = {r.component.name: pgbouncer.url(r.runtime, database) for r in db_roles.component_roles(database)}
    pooled = {f"{name.upper()}_DB_TRANSACTION_POOLER": "true" for name in NAMES}
    with own_platform(migrated_database, database_urls=urls, env=pooled) as supervisor:
        async with httpx.AsyncClient(base_url=supervisor.gateway_url, timeout=30) as client:
            token = await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            )
            assert token.status_code == 200, token.text
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            writer = HouseholdWriter(client, address_prefix=f"连接池 {uuid.uuid4().hex[:6]}")
            writer.start(writers=6)
            reads = [
                "/api/welfare/v1/households?limit=20",
                "/api/welfare/v1/standards?jurisdiction=211100&on=2024-07-01",
                "/api/renewal/v1/plans",
                "/api/appraisal/v1/audit-log?limit=5",
                "/api/eldercare/v1/audit-log?limit=5",
            ]
            statuses = []
            for _ in range(8):
                answers = await asyncio.gather(*(client.get(path) for path in reads))
                statuses += [a.status_code for a in answers]
            await asyncio.sleep(1)
            await writer.stop()
            assert set(statuses) == {200}, statuses
            assert writer.failures == [], [f.text for f in writer.failures[:3]]
            assert writer.counts().keys() == {201}, writer.counts()
            assert len(writer.acknowledged) >= 12
            for household in writer.acknowledged:
                read = await client.get(f"/api/welfare/v1/households/{household}")
                assert read.status_code == 200, read.text


def test_init_containers_and_operator_commands_work_through_the_pooler(
    pgbouncer: PgBouncer, migrated_database: str
) -> None:
    """What the ha overlay's pods do through the pooler besides serving: the init container's
    wait for migrations (as the runtime role) and the operator's commands in the gateway
    container (GATEWAY_DATABASE_URL, GATEWAY_DB_TRANSACTION_POOLER)."""
    database = database_name(migrated_database)
    env = {key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}
    for r in db_roles.component_roles(database):
        env[f"{r.component.name.upper()}_DATABASE_URL"] = pgbouncer.url(r.runtime, database)
    wait = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "migrations.py"), "wait", *NAMES],
        env=env | {"MIGRATIONS_WAIT_TIMEOUT": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wait.returncode == 0, wait.stdout + wait.stderr
    username = f"pooled-clerk-{uuid.uuid4().hex[:6]}"
    command = [sys.executable, "-m", "platformctl", "accounts", "create", "--username", username]
    command += ["--display-name", "经办人", "--scope", "welfare:read", "--jurisdiction", "211103"]
    env |= {"ACCOUNT_PASSWORD": "a-long-pooled-password"}
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0, "startup parameters do not pass the pooler"
    created = subprocess.run(
        command,
        env=env | {"GATEWAY_DB_TRANSACTION_POOLER": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert f"account {username} created" in created.stdout
