"""The in-process service fixture: what a test writes through it is gone when the test ends,
and nothing it wrote was ever visible to another connection."""

from __future__ import annotations

import asyncpg

from shared.testing import ServiceInProcess, rolled_back

HOUSEHOLDS = "/api/welfare/v1/households"
COUNTY = "211102"


async def stored(url: str, address: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM welfare.households WHERE address = $1", address
        )
        return count
    finally:
        await connection.close()


async def test_writes_are_rolled_back_at_the_end_and_never_seen_outside(
    services_in_process: dict[str, ServiceInProcess],
) -> None:
    welfare_started = services_in_process["welfare"]
    address = "回滚路 1 号"
    clerk = await welfare_started.account(
        "welfare-clerk-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )
    async with rolled_back(welfare_started.app), welfare_started.client(headers=clerk) as client:
        created = await client.post(HOUSEHOLDS, json={"jurisdiction": COUNTY, "address": address})
        assert created.status_code == 201, created.text
        household = created.headers["Location"]
        # later requests of the same test see it (each request's commit is a savepoint released)
        assert (await client.get(household)).status_code == 200
        # a refused request rolls back to its own savepoint, the test's earlier writes stay
        refused = await client.post(HOUSEHOLDS, json={"jurisdiction": COUNTY})
        assert refused.status_code == 422, refused.text
        assert (await client.get(household)).status_code == 200
        # another connection sees nothing: the test's transaction is never committed
        assert await stored(welfare_started.database_url, address) == 0
    assert await stored(welfare_started.database_url, address) == 0
    async with welfare_started.client(headers=clerk) as client:
        assert (await client.get(household)).status_code == 404
