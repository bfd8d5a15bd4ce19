"""PostgreSQL restarted (and crashed) under write load through the gateway.

No acknowledged (201) write is lost, every request made while the database is down gets
a 503 problem+json ``database-unavailable`` with ``Retry-After`` (never a 500), /readyz
reports the database down and back, and the same service processes serve again after the
database's return, by themselves (how long it took is printed, not asserted: a loaded
machine takes longer).

The test runs a PostgreSQL server of its own (the embedded binaries, data in a
temporary folder) with its own gateway and services on it, so the shared servers
are never stopped.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from platformctl import migrate
from platformctl.database import EMBEDDED_MAX_CONNECTIONS, ensure_database, with_database
from platformctl.supervisor import Supervisor
from platformctl.testing import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    HOUSEHOLDS,
    HouseholdWriter,
    RestartableServer,
    assert_problem,
    own_platform,
)

WRITERS = 4
DOWN_SECONDS = 1.5


@dataclass
class DatabaseAndPlatform:
    database: RestartableServer
    url: str
    platform: Supervisor


@pytest.fixture(scope="module")
async def restartable() -> AsyncIterator[DatabaseAndPlatform]:
    with (
        tempfile.TemporaryDirectory(prefix="civic-pg-") as folder,
        RestartableServer.temporary(Path(folder)) as database,
    ):
        url = with_database(database.url(), "civic")
        await ensure_database(url)
        await asyncio.to_thread(migrate.upgrade_all, url)
        with own_platform(url) as platform:
            yield DatabaseAndPlatform(database, url, platform)


def assert_database_unavailable(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 503)
    assert body["type"].endswith("/database-unavailable"), body
    assert body["title"] == "Database unavailable", body
    assert int(response.headers["retry-after"]) > 0, response.headers
    return body


async def admin_token(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
    )


async def stored_households(url: str, ids: list[str]) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM welfare.households WHERE id = ANY($1::uuid[])",
            [uuid.UUID(i) for i in ids],
        )
    finally:
        await connection.close()
    return count


async def read_back(client: httpx.AsyncClient, ids: list[str]) -> list[tuple[str, int]]:
    """Every id whose GET through the gateway is not 200, with the status it got."""
    limit = asyncio.Semaphore(8)

    async def one(household_id: str) -> tuple[str, int]:
        async with limit:
            return household_id, (await client.get(f"{HOUSEHOLDS}/{household_id}")).status_code

    return [(i, status) for i, status in await asyncio.gather(*map(one, ids)) if status != 200]


async def restart_under_load(setup: DatabaseAndPlatform, take_down: Callable[[], None]) -> None:
    platform = setup.platform
    pids = {child.name: child.process.pid for child in platform.children if child.process}
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        token = await admin_token(client)
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        writer = HouseholdWriter(client, address_prefix="数据库重启")
        writer.start(WRITERS)
        await writer.wait_acknowledged()
        acknowledged_before = len(writer.acknowledged)

        await asyncio.to_thread(take_down)
        down = time.monotonic()
        answered_before_down = len(writer.statuses)
        # while it is down: the platform says so, clearly, on every path that needs the database
        while 503 not in writer.statuses[answered_before_down:]:
            assert time.monotonic() - down < 30, f"no 503 while the database is down: {writer.counts()}"
            await asyncio.sleep(0.05)
        ready = assert_problem(await client.get("/readyz"), 503)
        assert ready["components"]["database"].startswith("down"), ready
        assert ready["components"]["welfare"] != "ok", ready
        assert_database_unavailable(await client.get(f"{HOUSEHOLDS}/{writer.acknowledged[0]}"))
        assert_database_unavailable(await admin_token(client))  # the gateway's own database use
        await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down)))

        # recovery is timed from the start command: it includes PostgreSQL's own start-up
        starting = time.monotonic()
        downtime = starting - down
        await asyncio.to_thread(setup.database.start)
        started_in = time.monotonic() - starting
        recovered_after = await writer.wait_recovered(starting, within=60)
        while (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() - starting < 60, "/readyz did not report the database back"
            await asyncio.sleep(0.05)
        ready_after = time.monotonic() - starting
        await asyncio.sleep(0.5)
        await writer.stop()

        counts = writer.counts()
        # nothing but created or "database unavailable": no 500, no broken connection
        assert set(counts) <= {201, 503}, counts
        assert counts.get(503, 0) > 0, counts
        assert len(writer.failures) == counts[503]
        for failure in writer.failures:
            assert_database_unavailable(failure)
        # writes acknowledged after the restart, too
        assert len(writer.acknowledged) > acknowledged_before
        # no acknowledged write is lost: each reads back through the gateway and is in the table
        assert len(set(writer.acknowledged)) == len(writer.acknowledged)
        assert await read_back(client, writer.acknowledged) == []
        assert await stored_households(setup.url, writer.acknowledged) == len(writer.acknowledged)
        # the gateway's own database use is back as well
        assert (await admin_token(client)).status_code == 200
    # recovered without restarting anything but the database
    assert {child.name: child.process.pid for child in platform.children if child.process} == pids
    assert all(child.process is not None and child.process.poll() is None for child in platform.children)
    print(
        f"database down {downtime:.2f} s, start command took {started_in:.2f} s; writes succeeded "
        f"again {recovered_after:.2f} s and /readyz was 200 {ready_after:.2f} s after the start "
        f"command; {len(writer.acknowledged)} writes acknowledged, all read back; answers: {counts}"
    )


async def test_database_restart_loses_no_acknowledged_write(restartable: DatabaseAndPlatform) -> None:
    url_before = restartable.database.url()
    await restart_under_load(restartable, restartable.database.stop)  # pg_ctl stop -m fast
    assert restartable.database.url() == url_before  # same socket


async def test_database_crash_loses_no_acknowledged_write(restartable: DatabaseAndPlatform) -> None:
    pid_before = restartable.database.pid
    await restart_under_load(restartable, restartable.database.crash)  # SIGKILL to the postmaster
    assert restartable.database.pid != pid_before


async def test_the_embedded_server_has_room_for_two_sets_of_replicas(
    restartable: DatabaseAndPlatform,
) -> None:
    """initdb's 100 connections are what one platform's pools may open (five components, 10 +
    10 each): a second set of replicas then answered 503 (no connection slot free)."""
    connection = await asyncpg.connect(restartable.url)
    try:
        assert (
            int(await connection.fetchval("SHOW max_connections")) == EMBEDDED_MAX_CONNECTIONS >= 2 * 5 * 20
        )
    finally:
        await connection.close()
