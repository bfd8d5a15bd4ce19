"""A database role per component (least privilege), as `make run` and `make test` set it up.

- each component's runtime role reads and writes its own schema's rows and nothing else:
  not another component's tables (welfare ↛ eldercare, iam; eldercare ↛ welfare; …, every
  pair, every table), no DDL, no change to its migration history; the owner roles likewise
  stay in their own schema;
- the running platform's processes are connected as those roles (pg_stat_activity);
- a table a later migration creates is usable by the runtime role with no GRANT of its own
  (default privileges), and provisioning is idempotent and takes over a database migrated
  before roles existed (objects owned by the superuser);
- a role that may not provision gets told what it needs; ``CIVIC_DATABASE_ROLES=single``
  is the explicit way to run with one role;
- each process of the launcher gets only its own secrets.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from platformctl import migrate
from platformctl import roles as db_roles
from platformctl.components import COMPONENTS
from platformctl.database import database_name, drop_database, ensure_database, with_database
from platformctl.supervisor import SERVICE_PORTS, component_env
from platformctl.testing import Platform

NAMES = [c.name for c in COMPONENTS]
SCHEMA = {c.name: c.schema for c in COMPONENTS}


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def tables_by_schema(url: str) -> dict[str, list[str]]:
    connection = await asyncpg.connect(dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])",
            list(SCHEMA.values()),
        )
    finally:
        await connection.close()
    found: dict[str, list[str]] = {schema: [] for schema in SCHEMA.values()}
    for schema, table in rows:
        found[schema].append(table)
    return found


async def refused(connection: asyncpg.Connection, statement: str) -> bool:
    try:
        async with connection.transaction():
            await connection.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        return True
    return False


@pytest.mark.parametrize("name", NAMES)
async def test_each_runtime_role_reaches_its_own_schema_only(
    name: str, migrated_database: str, component_database_urls: dict[str, str]
) -> None:
    tables = await tables_by_schema(migrated_database)
    assert all(tables.values()), tables
    connection = await asyncpg.connect(dsn(component_database_urls[name]))
    try:
        assert (
            await connection.fetchval("SELECT current_user")
            == db_roles.roles_of(database_name(migrated_database), name).runtime
        )
        assert not await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        own = SCHEMA[name]
        # its own rows: read, write (in a transaction rolled back)
        for table in tables[own]:
            await connection.fetch(f'SELECT * FROM "{own}"."{table}" LIMIT 1')
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            f"INSERT INTO {own}.audit_log (actor, action, entity, entity_id) "
            "VALUES ('role-test', 'check', 'role', '1')"
        )
        await transaction.rollback()
        # search_path is the role's own (what a transaction-mode pooler relies on)
        assert await connection.fetchval("SHOW search_path") == own
        # no DDL, no migration history writes, no new schema
        assert await refused(connection, f"CREATE TABLE {own}.intruder (id int)")
        assert await refused(connection, f"DROP TABLE {own}.audit_log")
        assert await refused(connection, f"UPDATE {own}.alembic_version SET version_num = version_num")
        assert await refused(connection, "CREATE SCHEMA intruder")
        assert await refused(connection, "CREATE TABLE public.intruder (id int)")
        # every table of every other component: refused
        for other, schema in SCHEMA.items():
            if other == name:
                continue
            for table in tables[schema]:
                assert await refused(connection, f'SELECT 1 FROM "{schema}"."{table}" LIMIT 1'), (
                    f"{name} can read {schema}.{table}"
                )
            assert await refused(connection, f"INSERT INTO {schema}.audit_log DEFAULT VALUES")
    finally:
        await connection.close()


@pytest.mark.parametrize("name", ["welfare", "eldercare", "gateway"])
async def test_owner_roles_stay_in_their_schema_too(name: str, migrated_database: str) -> None:
    roles = db_roles.roles_of(database_name(migrated_database), name)
    passwords = db_roles.passwords_for([roles])
    connection = await asyncpg.connect(
        dsn(db_roles.role_url(migrated_database, roles.owner, passwords[roles.owner]))
    )
    try:
        for other, schema in SCHEMA.items():
            if other != name:
                assert await refused(connection, f"SELECT 1 FROM {schema}.audit_log LIMIT 1"), other
                assert await refused(connection, f"CREATE TABLE {schema}.intruder (id int)"), other
        assert await refused(connection, "CREATE SCHEMA intruder")
    finally:
        await connection.close()


async def test_the_running_platform_connects_as_one_role_per_component(
    platform: Platform, migrated_database: str
) -> None:
    async with platform.client() as client:
        assert (await client.get("/readyz")).status_code == 200  # every process has used its pool
    connection = await asyncpg.connect(dsn(migrated_database))
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT application_name, usename FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = ANY($1::text[])",
            NAMES,
        )
    finally:
        await connection.close()
    database = database_name(migrated_database)
    seen = {(app, user) for app, user in rows}
    assert seen == {(name, db_roles.roles_of(database, name).runtime) for name in NAMES}


@pytest.fixture(scope="module")
async def side_database(database_url: str) -> AsyncIterator[str]:
    url = with_database(database_url, f"{database_name(database_url)}_roles")
    await ensure_database(url, recreate=True)
    try:
        yield url
    finally:
        await drop_database(url)
        await db_roles.drop_roles(url, db_roles.role_prefix(database_name(url)))


async def test_provisioning_takes_over_a_database_migrated_before_roles_and_is_idempotent(
    side_database: str,
) -> None:
    # the old way: every schema migrated by the superuser, which owns every object
    await asyncio.to_thread(migrate.upgrade_all, side_database, ["welfare", "eldercare"])
    prepared = await asyncio.to_thread(migrate.prepare, side_database, ["welfare", "eldercare"])
    again = await asyncio.to_thread(migrate.prepare, side_database, ["welfare", "eldercare"])
    assert again.runtime_urls == prepared.runtime_urls
    database = database_name(side_database)
    connection = await asyncpg.connect(dsn(side_database))
    try:
        owners = await connection.fetch(
            "SELECT DISTINCT relnamespace::regnamespace::text AS schema, pg_get_userbyid(relowner) AS owner "
            "FROM pg_class WHERE relnamespace::regnamespace::text IN ('welfare', 'eldercare')"
        )
        assert {(row["schema"], row["owner"]) for row in owners} == {
            ("welfare", db_roles.roles_of(database, "welfare").owner),
            ("eldercare", db_roles.roles_of(database, "eldercare").owner),
        }
        # PUBLIC may no longer connect to the platform database
        assert not await connection.fetchval(
            "SELECT has_database_privilege('public', current_database(), 'CONNECT')"
        )
    finally:
        await connection.close()

    # a table a later migration creates (as the owner) needs no GRANT: default privileges
    welfare = db_roles.roles_of(database, "welfare")
    owner_password = db_roles.passwords_for([welfare])[welfare.owner]
    owner = await asyncpg.connect(dsn(db_roles.role_url(side_database, welfare.owner, owner_password)))
    runtime = await asyncpg.connect(dsn(prepared.runtime_urls["welfare"]))
    try:
        await owner.execute(
            "CREATE TABLE welfare.added_later (id bigint GENERATED ALWAYS AS IDENTITY, note text)"
        )
        await runtime.execute("INSERT INTO welfare.added_later (note) VALUES ('no grant needed')")
        assert await runtime.fetchval("SELECT note FROM added_later") == "no grant needed"
        assert await refused(runtime, "ALTER TABLE welfare.added_later ADD COLUMN x int")
    finally:
        await owner.close()
        await runtime.close()


def run_platformctl(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platformctl", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


async def test_a_role_that_may_not_provision_is_told_what_it_needs(side_database: str) -> None:
    database = database_name(side_database)
    await asyncio.to_thread(migrate.prepare, side_database, ["welfare"])
    welfare = db_roles.roles_of(database, "welfare")
    runtime_url = db_roles.role_url(
        side_database, welfare.runtime, db_roles.passwords_for([welfare])[welfare.runtime]
    )

    refused_run = await asyncio.to_thread(run_platformctl, "migrate", "up", DATABASE_URL=runtime_url)
    assert refused_run.returncode != 0
    message = refused_run.stderr
    assert f"database role {welfare.runtime!r} may not set up the platform's roles" in message
    assert "superuser, or has CREATEROLE" in message
    assert "platformctl database sql" in message
    assert "CIVIC_DATABASE_ROLES=single" in message

    # the owner role of a component migrates that component (a deployment's migration step)
    owner_url = db_roles.role_url(
        side_database, welfare.owner, db_roles.passwords_for([welfare])[welfare.owner]
    )
    as_owner = await asyncio.to_thread(
        run_platformctl, "migrate", "up", "--component", "welfare", DATABASE_URL=owner_url
    )
    assert as_owner.returncode == 0, as_owner.stderr


def test_database_sql_prints_the_statements_for_a_dba() -> None:
    done = run_platformctl("database", "sql", "--database", "civic")
    assert done.returncode == 0, done.stderr
    sql = done.stdout
    for name in NAMES:
        assert f'CREATE ROLE "civic_{name}" LOGIN' in sql
        assert f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA[name]}" AUTHORIZATION "civic_{name}_owner"' in sql
        assert f'ALTER ROLE "civic_{name}" IN DATABASE "civic" SET search_path = "{SCHEMA[name]}"' in sql
    assert 'REVOKE ALL ON DATABASE "civic" FROM PUBLIC' in sql
    assert " PASSWORD '" not in sql, "no password in the printed statements"


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("civic", "civic_welfare"),
        ("civic_test_123", "civic_test_123_welfare"),
        ("Civic-Prod", "civic_prod_welfare"),
    ],
)
def test_role_names_carry_the_database_name(database: str, expected: str) -> None:
    roles = db_roles.roles_of(database, "welfare")
    assert (roles.runtime, roles.owner) == (expected, f"{expected}_owner")
    with pytest.raises(ValueError, match="too long"):
        db_roles.roles_of("x" * 60, "welfare")


def test_each_launched_process_gets_only_its_own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "BOOTSTRAP_ADMIN_PASSWORD": "admin-secret",
        "WELFARE_CITIZEN_ID_KEY": "welfare-key",
        "ELDERCARE_CITIZEN_ID_KEY": "eldercare-key",
        "WELFARE_CITIZEN_ID_PREVIOUS_KEYS": '["old-welfare-key"]',
        "ELDERCARE_CITIZEN_ID_LOOKUP_KEY": "eldercare-lookup-key",
        "RENEWAL_LOG_LEVEL": "INFO",
        "DATABASE_URL": "postgresql://postgres@db/civic",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    urls = {name: f"postgresql://civic_{name}:pw-{name}@db/civic" for name in SERVICE_PORTS}
    ports = dict(SERVICE_PORTS)
    for name in SERVICE_PORTS:
        env = component_env(name, "postgresql://postgres@db/civic", "127.0.0.1", ports, database_urls=urls)
        assert "DATABASE_URL" not in env, name
        assert env[f"{name.upper()}_DATABASE_URL"] == urls[name]
        for other in SERVICE_PORTS:
            if other != name:
                assert f"{other.upper()}_DATABASE_URL" not in env
        assert ("BOOTSTRAP_ADMIN_PASSWORD" in env) == (name == "gateway"), name
        assert ("WELFARE_CITIZEN_ID_KEY" in env) == (name == "welfare"), name
        assert ("ELDERCARE_CITIZEN_ID_KEY" in env) == (name == "eldercare"), name
        assert ("WELFARE_CITIZEN_ID_PREVIOUS_KEYS" in env) == (name == "welfare"), name
        assert ("ELDERCARE_CITIZEN_ID_LOOKUP_KEY" in env) == (name == "eldercare"), name
        assert env["RENEWAL_LOG_LEVEL"] == "INFO", "settings that are no secrets reach every process"
