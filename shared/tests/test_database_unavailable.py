"""A database that goes away answers 503 problem+json with Retry-After, never 500, and the
engine recovers by itself: the shared DB layer, on an app built like every service's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from platformctl.testing import assert_problem, free_port
from shared.db import SessionDep, is_unavailable_error, service_metadata
from shared.records import audit_table, idempotency_table
from shared.service_app import create_service_app
from shared.settings import ServiceSettings
from shared.testing import TokenMint, app_client

SCHEMA = "db_unavailable_test"


def build_app(database_url: str) -> FastAPI:
    metadata = service_metadata(SCHEMA)
    audit_table(metadata)
    idempotency_table(metadata)
    router = APIRouter()

    @router.get("/one")
    async def one(session: SessionDep) -> dict[str, int]:
        return {"one": int(await session.scalar(text("SELECT 1")) or 0)}

    @router.get("/backend")
    async def backend(session: SessionDep) -> dict[str, int]:
        return {"pid": int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)}

    @router.post("/killed-mid-statement")
    async def killed_mid_statement(session: SessionDep) -> dict[str, bool]:
        # the server ends this connection while the statement runs, as a shutdown does
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {"done": True}

    @router.post("/notes/{note}", status_code=201)
    async def add_note_then_lose_connection(note: uuid.UUID, session: SessionDep) -> dict[str, str]:
        await session.execute(text("INSERT INTO notes (id) VALUES (:id)"), {"id": note})
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        # the connection dies after the insert, before the request boundary commits
        await terminate(database_url, int(pid or 0))
        return {"id": str(note)}

    settings = ServiceSettings(service_name="dbtest", database_url=database_url, log_json=False)
    return create_service_app(
        settings=settings, metadata=metadata, title="dbtest", description="dbtest", routers=[router]
    )


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def terminate(database_url: str, pid: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        # waits (up to 5 s) until the backend is gone
        assert await connection.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await connection.close()


@pytest.fixture
async def client(database_url: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
        await connection.execute(f'CREATE TABLE IF NOT EXISTS "{SCHEMA}".notes (id uuid PRIMARY KEY)')
    finally:
        await connection.close()
    async with app_client(build_app(database_url), mint) as client:
        yield client


def assert_database_unavailable(response: httpx.Response) -> None:
    body = assert_problem(response, 503)
    assert body["type"].endswith("/database-unavailable"), body
    assert body["title"] == "Database unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_no_server_listening_is_503_with_retry_after_and_not_ready(mint: TokenMint) -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    async with app_client(build_app(unreachable), mint) as client:
        for _ in range(2):
            assert_database_unavailable(await client.get("/one"))
        ready = assert_problem(await client.get("/readyz"), 503)
        assert "database not reachable" in ready["detail"]


async def test_connection_killed_mid_statement_is_503_then_the_next_request_works(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/one")).json() == {"one": 1}
    assert_database_unavailable(await client.post("/killed-mid-statement"))
    # the broken connection was discarded: no restart, no second failure
    for _ in range(3):
        assert (await client.get("/one")).json() == {"one": 1}
    assert (await client.get("/readyz")).status_code == 200


async def test_a_write_whose_commit_fails_is_not_acknowledged(
    client: httpx.AsyncClient, database_url: str
) -> None:
    note = uuid.uuid4()
    response = await client.post(f"/notes/{note}")
    assert_database_unavailable(response)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        stored = await connection.fetchval(f'SELECT count(*) FROM "{SCHEMA}".notes WHERE id = $1', note)
    finally:
        await connection.close()
    assert stored == 0
    assert (await client.get("/one")).status_code == 200


async def test_pooled_connections_closed_by_the_server_are_replaced_without_an_error(
    client: httpx.AsyncClient, database_url: str
) -> None:
    first = (await client.get("/backend")).json()["pid"]
    # the server ends the idle pooled connection (as a restart does to all of them)
    await terminate(database_url, first)
    await asyncio.sleep(0.1)  # the event loop reads the close, as it would in a running service
    # checkout replaces the connection the driver knows is closed: no 503
    response = await client.get("/backend")
    assert response.status_code == 200, response.text
    assert response.json()["pid"] != first


def test_which_driver_errors_mean_the_database_is_unavailable() -> None:
    exceptions = asyncpg.exceptions
    assert is_unavailable_error(exceptions.CannotConnectNowError("the database system is starting up"))
    assert is_unavailable_error(exceptions.AdminShutdownError("terminating connection"))
    assert is_unavailable_error(exceptions.CrashShutdownError("crash"))
    assert is_unavailable_error(exceptions.TooManyConnectionsError("too many clients"))
    assert is_unavailable_error(exceptions.ConnectionDoesNotExistError("closed in the middle"))
    assert not is_unavailable_error(exceptions.UniqueViolationError("duplicate key"))
    assert not is_unavailable_error(exceptions.QueryCanceledError("statement timeout"))
    assert not is_unavailable_error(exceptions.InterfaceError("another operation is in progress"))
    assert not is_unavailable_error(ValueError("not a database error"))
