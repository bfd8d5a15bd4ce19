"""Faults: a service killed under load, and one Idempotency-Key sent 50 times at once.

The kill test runs its own gateway and services (not the shared test platform), on the
same database, so the other tests are not disturbed.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from platformctl.supervisor import Supervisor
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, HouseholdWriter, Platform
from platformctl.testing import own_platform as start_own_platform

BASE = "/api/welfare/v1"


@pytest.fixture
def own_platform(migrated_database: str) -> Iterator[Supervisor]:
    with start_own_platform(migrated_database) as supervisor:
        yield supervisor


async def test_killed_service_answers_503_then_recovers_and_loses_nothing(own_platform: Supervisor) -> None:
    gateway = own_platform.gateway_url
    welfare = next(child for child in own_platform.children if child.name == "welfare")
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        token = (
            await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            )
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        writer = HouseholdWriter(client)
        writer.start(4)
        await writer.wait_acknowledged()
        assert welfare.process is not None
        answered_before_kill = len(writer.statuses)
        welfare.process.send_signal(signal.SIGKILL)
        welfare.process.wait()
        await writer.wait_for_status(503, after=answered_before_kill)
        welfare.start()  # the service is back
        back = time.monotonic()
        # recovery is bounded by the service's own start-up (imports, pool) plus one request:
        # a few seconds on a quiet machine; the bound here only says "it recovers by itself"
        recovered_after = await writer.wait_recovered(back, within=120)
        await asyncio.sleep(0.5)
        await writer.stop()
        statuses, acknowledged = writer.statuses, writer.acknowledged
        assert set(statuses) <= {201, 502, 503, 0}, set(statuses)
        # every write that was acknowledged can be read back
        for household_id in acknowledged:
            assert (await client.get(f"{BASE}/households/{household_id}")).status_code == 200
    print(
        f"recovered {recovered_after:.2f} s after the restart; {len(acknowledged)} writes acknowledged, "
        f"all read back; answers: { {code: statuses.count(code) for code in set(statuses)} }"
    )


async def test_fifty_concurrent_posts_with_one_key_make_one_record(platform: Platform) -> None:
    key = uuid.uuid4().hex
    address = f"幂等测试 {key[:8]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{BASE}/households",
                    json={"jurisdiction": "211103", "address": address},
                    headers={"Idempotency-Key": key},
                )
                for _ in range(50)
            )
        )
        assert {r.status_code for r in responses} == {201}
        assert len({r.content for r in responses}) == 1
        listing = (
            await client.get(f"{BASE}/households", params={"jurisdiction": "211103", "limit": 200})
        ).json()
        total = listing["total"]
        pages = [listing["items"]]
        for offset in range(200, total, 200):
            pages.append(
                (
                    await client.get(
                        f"{BASE}/households",
                        params={"jurisdiction": "211103", "limit": 200, "offset": offset},
                    )
                ).json()["items"]
            )
    assert sum(item["address"] == address for page in pages for item in page) == 1
