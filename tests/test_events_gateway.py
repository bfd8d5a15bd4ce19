"""Change events through the gateway with real tokens: every service has its feed; welfare's
enrolment events reach readers of their own area only, and the citizen ID number only those
holding welfare:pii (in ``data``, never in ``subject``); a county's event never reaches
another county's reader (integration.md, "Change events")."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from platformctl.testing import Platform, assert_problem
from shared.testing import citizen_id

BASE = "/api/welfare/v1"


def about(enrolment_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda items: any(i["data"].get("enrolment_id") == enrolment_id for i in items)


async def feed_until(
    client: httpx.AsyncClient,
    path: str,
    after: str | None,
    done: Callable[[list[dict[str, Any]]], bool],
    **params: Any,
) -> tuple[list[dict[str, Any]], str]:
    """Follow the feed (long polling) until ``done`` says so or a minute passed."""
    items: list[dict[str, Any]] = []
    cursor = after
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not done(items) and loop.time() < deadline:
        query = {"wait": "2", "limit": "100", **params}
        if cursor:
            query["after"] = cursor
        page = await client.get(path, params=query)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
    return items, cursor or ""


async def test_every_service_has_a_feed(platform: Platform) -> None:
    for service in ("welfare", "eldercare", "appraisal", "renewal"):
        reader = await platform.account(
            f"events-reader-{service}", scopes=[f"{service}:read"], jurisdictions=["211100"]
        )
        async with platform.client(headers=reader) as client:
            page = await client.get(f"/api/{service}/v1/events", params={"limit": "1"})
            assert page.status_code == 200, page.text
            assert set(page.json()) == {"items", "next_cursor"}
            assert_problem(await client.get(f"/api/{service}/v1/events", params={"after": "nonsense"}), 422)
        neighbour = "renewal" if service != "renewal" else "welfare"
        other = await platform.account(
            f"events-outsider-{service}", scopes=[f"{neighbour}:read"], jurisdictions=["211100"]
        )
        async with platform.client(headers=other) as client:
            assert_problem(await client.get(f"/api/{service}/v1/events"), 403)


async def test_enrolment_events_are_scoped_and_personal_data_needs_pii(platform: Platform) -> None:
    tag = uuid.uuid4().hex[:6]
    clerk = await platform.account(
        f"events-clerk-{tag}", scopes=["welfare:read", "welfare:write"], jurisdictions=["211102"]
    )
    county_reader = await platform.account(
        f"events-county-{tag}", scopes=["welfare:read"], jurisdictions=["211102"]
    )
    other_county = await platform.account(
        f"events-dawa-{tag}", scopes=["welfare:read"], jurisdictions=["211104"]
    )
    with_pii = await platform.account(
        f"events-pii-{tag}", scopes=["welfare:read", "welfare:pii"], jurisdictions=["211100"]
    )
    cursors = {}
    for name, headers in (("county", county_reader), ("other", other_county), ("pii", with_pii)):
        async with platform.client(headers=headers) as client:
            cursors[name] = (
                await client.get(f"{BASE}/events", params={"types": "enrolment.started"})
            ).json()["next_cursor"]
    number = citizen_id("1990-05-06", region="211102")
    async with platform.client(headers=clerk) as client:
        person = await client.post(
            f"{BASE}/persons", json={"jurisdiction": "211102", "name": "事件测试", "citizen_id": number}
        )
        assert person.status_code == 201, person.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "tekun",
                "arrangement": "scattered",
                "jurisdiction": "211102",
                "person_id": person.json()["id"],
                "start_month": "2024-07",  # the first month 211102's standards price
                "decision": {
                    "by": "双台子区民政局",
                    "on": "2023-12-20",
                    "reference": f"双民特〔2023〕{tag}号",
                },
            },
        )
        assert enrolment.status_code == 201, enrolment.text
    enrolment_id = enrolment.json()["id"]

    async with platform.client(headers=county_reader) as client:
        items, _ = await feed_until(
            client, f"{BASE}/events", cursors["county"], about(enrolment_id), types="enrolment.started"
        )
    found = [i for i in items if i["data"]["enrolment_id"] == enrolment_id]
    assert len(found) == 1
    event = found[0]
    assert event["type"] == "civic.welfare.enrolment.started"
    assert event["subject"] == f"/enrolments/{enrolment_id}"
    assert event["jurisdiction"] == "211102"
    assert event["data"]["program"] == "tekun"
    assert "citizen_id" not in event["data"]
    assert number not in str(event)

    async with platform.client(headers=with_pii) as client:
        items, _ = await feed_until(
            client, f"{BASE}/events", cursors["pii"], about(enrolment_id), types="enrolment.started"
        )
    seen = [i for i in items if i["id"] == event["id"]]
    assert len(seen) == 1
    assert seen[0]["data"]["citizen_id"] == number
    assert number not in seen[0]["subject"]

    async with platform.client(headers=other_county) as client:
        page = await client.get(
            f"{BASE}/events",
            params={"after": cursors["other"], "types": "enrolment.started", "limit": "1000"},
        )
    assert event["id"] not in {i["id"] for i in page.json()["items"]}
