"""Webhooks follow the owning client's current grants, through the real gateway and welfare
(integration.md, "Webhooks": a subscription sees what its owner may see, re-checked at each
delivery). The administrator narrows a client that subscribed with welfare:pii, then
deactivates it: its subscription is paused saying why, nothing is sent meanwhile, and after it
confirms with a token of its current grants the events come without citizen ID numbers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from platformctl.testing import Platform, free_port, platform_on_own_database
from shared.testing import citizen_id

BASE = "/api/welfare/v1"
COUNTY = "211102"


@dataclass
class Receiver:
    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def enrolments(self) -> list[dict[str, Any]]:
        return [json.loads(body)["data"] for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()

    async def handle(request: web.Request) -> web.Response:
        found.received.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}/hook"
    yield found
    await runner.cleanup()


@pytest.fixture
async def hooks_platform(database_url: str) -> AsyncIterator[Platform]:
    env = {"WELFARE_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true", "WELFARE_EVENTS_POLL_SECONDS": "0.2"}
    async with platform_on_own_database(database_url, "hooks", env) as own:
        yield own


async def client_token(platform: Platform, client_id: str, secret: str) -> dict[str, str]:
    async with platform.client() as client:
        token = await client.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def change_client(platform: Platform, client_id: str, **changes: Any) -> None:
    async with platform.client(headers=await platform.admin_headers()) as admin:
        read = await admin.get(f"/auth/admin/clients/{client_id}")
        changed = await admin.patch(
            f"/auth/admin/clients/{client_id}", json=changes, headers={"If-Match": read.headers["etag"]}
        )
        assert changed.status_code == 200, changed.text


async def enrol(platform: Platform, clerk: dict[str, str], name: str) -> tuple[str, str]:
    number = citizen_id("1955-03-04", region=COUNTY)
    async with platform.client(headers=clerk) as client:
        person = await client.post(
            f"{BASE}/persons", json={"jurisdiction": COUNTY, "name": name, "citizen_id": number}
        )
        assert person.status_code == 201, person.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "tekun",
                "arrangement": "scattered",
                "jurisdiction": COUNTY,
                "person_id": person.json()["id"],
                "start_month": "2024-07",
                "decision": {
                    "by": "双台子区民政局",
                    "on": "2023-12-20",
                    "reference": f"双民特〔2023〕{name}号",
                },
            },
        )
        assert enrolment.status_code == 201, enrolment.text
    return enrolment.json()["id"], number


async def until(check: Any, what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"waited in vain for {what}")


async def test_a_narrowed_then_deactivated_client_gets_nothing_on_its_old_grants(
    hooks_platform: Platform, receiver: Receiver
) -> None:
    platform = hooks_platform
    client_id = f"hooks-{uuid.uuid4().hex[:6]}"
    async with platform.client(headers=await platform.admin_headers()) as admin:
        created = await admin.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "province feed",
                "scopes": ["welfare:read", "welfare:pii"],
                "jurisdictions": ["211100"],
            },
        )
        assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    clerk = await platform.account(
        f"hooks-clerk-{client_id}", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )
    owner = await client_token(platform, client_id, secret)
    async with platform.client(headers=owner) as system:
        made = await system.post(
            f"{BASE}/webhook-subscriptions",
            json={"url": receiver.url, "types": ["enrolment.started"], "description": "province"},
        )
        assert made.status_code == 201, made.text
    subscription = made.json()
    path = f"{BASE}/webhook-subscriptions/{subscription['id']}"

    first, number = await enrol(platform, clerk, "甲")

    async def arrived(enrolment_id: str) -> bool:
        return any(d["enrolment_id"] == enrolment_id for d in receiver.enrolments())

    await until(lambda: arrived(first), "the first enrolment")
    assert receiver.enrolments()[0]["citizen_id"] == number  # with pii, as subscribed

    # narrowed: no more pii
    await change_client(platform, client_id, scopes=["welfare:read"])
    narrowed = await client_token(platform, client_id, secret)

    async def paused() -> bool:
        async with platform.client(headers=narrowed) as system:
            return (await system.get(path)).json()["active"] is False

    await until(paused, "the subscription to be paused")
    async with platform.client(headers=narrowed) as system:
        read = (await system.get(path)).json()
    assert "grants" in read["paused_reason"]
    second, second_number = await enrol(platform, clerk, "乙")
    await asyncio.sleep(2)  # ten relay rounds
    assert not await arrived(second)

    # the client confirms its current grants: the event comes, without the number
    async with platform.client(headers=narrowed) as system:
        resumed = await system.post(f"{path}/resume")
        assert resumed.status_code == 200, resumed.text
    await until(lambda: arrived(second), "the second enrolment after the confirmation")
    assert second_number.encode() not in b"".join(body for _, body in receiver.received)
    assert "citizen_id" not in next(d for d in receiver.enrolments() if d["enrolment_id"] == second)

    # deactivated: paused again, nothing sent; reactivated, it stays paused until confirmed
    await change_client(platform, client_id, active=False)
    await asyncio.sleep(3)  # the services learn of it within about 3 s
    third, _ = await enrol(platform, clerk, "丙")
    await asyncio.sleep(2)
    await change_client(platform, client_id, active=True)
    again = await client_token(platform, client_id, secret)
    async with platform.client(headers=again) as system:
        read = (await system.get(path)).json()
        log = (await system.get(f"{path}/deliveries")).json()["items"]
    assert read["active"] is False
    assert not await arrived(third)
    assert third not in {d["event_id"] for d in log if d["status"] == "delivered"}
    for headers, body in receiver.received:
        Webhook(subscription["secret"]).verify(body, headers)
