""" "Newly eligible" events come from the scheduler: each day, the persons discovery finds for
that day, one event per person, event and day, however many rounds or replicas ran; in the
feed only for readers of the person's area; no name and no citizen ID number in the event.
"Today" is set, never waited for."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from eldercare.config import Settings
from eldercare.main import create_app
from platformctl.supervisor import local_secret
from shared.events.scheduler import Scheduler
from shared.testing import SchedulerOfItsOwn, TokenMint, app_client, citizen_id

BASE = "/api/eldercare/v1"
KEY = local_secret("eldercare-citizen-id.key")
COUNTY = "411725"  # 确山县
OTHER_COUNTY = "411726"  # 泌阳县
TODAY = dt.date(2033, 2, 11)


@pytest.fixture
async def service(quiet_database: str, mint: TokenMint) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = Settings(
        database_url=quiet_database, citizen_id_key=KEY, scheduler=False, scheduler_today=TODAY
    )
    app = create_app(settings)
    async with app_client(app, mint) as client:
        yield app, client


async def feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"types": "person.newly_eligible", "limit": "500", **({"after": cursor} if cursor else {})}
        page = await client.get(f"{BASE}/events", params=params, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if not page.json()["items"]:
            return items
        cursor = page.json()["next_cursor"]


async def test_a_person_turning_80_is_announced_once(
    service: tuple[FastAPI, httpx.AsyncClient], mint: TokenMint
) -> None:
    app, client = service
    clerk = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=[COUNTY])
    people = {}
    for name, birth in (("冯桂兰", "1953-02-11"), ("陈志远", "1953-02-12")):
        registered = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": name,
                "citizen_id": citizen_id(birth),
                "circumstances": {"effective_from": "2020-01-01"},
            },
            headers=clerk,
        )
        assert registered.status_code == 201, registered.text
        people[name] = registered.json()

    scheduler: Scheduler = app.state.event_scheduler
    assert scheduler.today() == TODAY
    assert await scheduler.run_once()
    assert await scheduler.run_once() == 0  # the same day again: nothing more
    twins = [
        SchedulerOfItsOwn(
            scheduler.service, scheduler.sessions, scheduler.tables, scheduler.checks, own_lock=n
        )
        for n in (1, 2)
    ]
    for twin in twins:
        twin.today = lambda: TODAY
    assert await asyncio.gather(*(twin.run_once() for twin in twins)) == [0, 0]

    events = [
        e for e in await feed(client, clerk) if e["data"]["person"] in {p["id"] for p in people.values()}
    ]
    assert len(events) == 1, events
    (event,) = events
    turning = people["冯桂兰"]
    assert event["type"] == "civic.eldercare.person.newly_eligible"
    assert event["subject"] == f"{BASE}/persons/{turning['id']}"
    assert event["jurisdiction"] == COUNTY
    assert event["data"]["event_on"] == "2033-02-11"
    assert event["data"]["reason"] == "turns 80 on 2033-02-11"
    # 驻马店市基本养老服务清单 8 (高龄津贴): from 80, from the month after the birthday
    assert [(i["item"], i["change"], i["eligible_from"]) for i in event["data"]["items"]] == [
        (8, "eligible", "2033-03-01")
    ]
    text = str(event)
    assert "冯桂兰" not in text
    assert turning["citizen_id"] not in text

    # the next day announces the other person, once
    scheduler.today = lambda: TODAY + dt.timedelta(days=1)
    assert await scheduler.run_once()
    later = [e for e in await feed(client, clerk) if e["data"]["person"] == people["陈志远"]["id"]]
    assert [e["data"]["event_on"] for e in later] == ["2033-02-12"]

    # a reader one county over sees neither
    neighbour = mint.headers(scopes=["eldercare:read"], jurisdictions=[OTHER_COUNTY])
    seen = {e["data"]["person"] for e in await feed(client, neighbour)}
    assert not seen & {p["id"] for p in people.values()}
