"""Every component's migrations: upgrade head → downgrade base → upgrade head, and no drift."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from platformctl.components import COMPONENTS, Component
from platformctl.database import database_name, drop_database, ensure_database, with_database
from shared import migrations


@pytest.fixture(scope="module")
async def empty_database(database_url: str) -> AsyncIterator[str]:
    url = with_database(database_url, f"{database_name(database_url)}_migrations")
    await ensure_database(url, recreate=True)
    yield url
    await drop_database(url)


async def tables_in(url: str, schema: str) -> set[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        public = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    assert not public, "nothing may land in the public schema"
    return {row["tablename"] for row in rows}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
async def test_upgrade_downgrade_upgrade(component: Component, empty_database: str) -> None:
    run = asyncio.to_thread
    await run(migrations.upgrade, component.migrations_dir, empty_database, component.schema)
    created = await tables_in(empty_database, component.schema)
    assert {"alembic_version", "audit_log", "idempotency_keys"} <= created
    await run(migrations.check, component.migrations_dir, empty_database, component.schema)
    await run(migrations.downgrade, component.migrations_dir, empty_database, component.schema)
    assert await tables_in(empty_database, component.schema) == {"alembic_version"}
    await run(migrations.upgrade, component.migrations_dir, empty_database, component.schema)
    assert await tables_in(empty_database, component.schema) == created
