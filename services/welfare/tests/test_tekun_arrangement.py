"""特困人员 enrolments record their care arrangement (分散供养 scattered / 集中供养 concentrated) and
its changes, and the enrolment events carry it; registering a person is an event too."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from platformctl.testing import Platform, assert_problem
from shared.testing import citizen_id

BASE = "/api/welfare/v1"
COUNTY = "211103"
DECISION = {"by": "兴隆台区民政局", "on": "2024-06-20", "reference": "兴民特〔2024〕3号"}


async def events_about(client: httpx.AsyncClient, subject: str, types: str) -> list[dict[str, Any]]:
    """The feed's events of ``types`` about ``subject``, read to its end; read again (up to 15 s)
    while there are none: the feed shows an event once every transaction that began before
    its own has ended, and a run of another test may still hold one open."""
    for _ in range(75):
        found: list[dict[str, Any]] = []
        after = None
        while True:
            params: dict[str, Any] = {"types": types, "limit": 1000}
            if after:
                params["after"] = after
            page = (await client.get(f"{BASE}/events", params=params)).json()
            found += [e for e in page["items"] if e["subject"] == subject]
            if len(page["items"]) < 1000:
                break
            after = page["next_cursor"]
        if found:
            return found
        await asyncio.sleep(0.2)
    return []


async def test_tekun_needs_its_arrangement_and_a_change_opens_the_next_enrolment(platform: Platform) -> None:
    clerk = await platform.account(
        "tekun-clerk-211103", scopes=["welfare:read", "welfare:write", "welfare:pii"], jurisdictions=[COUNTY]
    )
    number = citizen_id("1948-02-11", region=COUNTY)
    async with platform.client(headers=clerk) as client:
        person = await client.post(
            f"{BASE}/persons", json={"jurisdiction": COUNTY, "name": "赵德厚", "citizen_id": number}
        )
        assert person.status_code == 201, person.text
        person_id = person.json()["id"]
        body = {
            "program": "tekun",
            "jurisdiction": COUNTY,
            "person_id": person_id,
            "start_month": "2024-07",
            "decision": DECISION,
        }
        # no arrangement, or one that is not 分散 / 集中供养: refused, nothing enrolled
        missing = assert_problem(await client.post(f"{BASE}/enrolments", json=body), 422)
        assert "body.arrangement" in str(missing["errors"])
        assert_problem(await client.post(f"{BASE}/enrolments", json=body | {"arrangement": "dispersed"}), 422)
        listed = await client.get(f"{BASE}/enrolments", params={"jurisdiction": COUNTY, "program": "tekun"})
        assert person_id not in {e["person_id"] for e in listed.json()["items"]}
        # an orphan allowance has no arrangement field: its program is the arrangement
        orphan = body | {"program": "orphan_scattered", "arrangement": "scattered"}
        assert_problem(await client.post(f"{BASE}/enrolments", json=orphan), 422)

        enrolled = await client.post(f"{BASE}/enrolments", json=body | {"arrangement": "scattered"})
        assert enrolled.status_code == 201, enrolled.text
        first = enrolled.json()
        assert (first["program"], first["arrangement"]) == ("tekun", "scattered")

        same = {"arrangement": "scattered", "changed_on": "2024-09-10", "reference": "兴民特〔2024〕9号"}
        assert_problem(
            await client.post(
                f"{BASE}/enrolments/{first['id']}/care-arrangement",
                json=same,
                headers={"If-Match": enrolled.headers["ETag"]},
            ),
            422,
        )
        moved = await client.post(
            f"{BASE}/enrolments/{first['id']}/care-arrangement",
            json=same | {"arrangement": "concentrated"},
            headers={"If-Match": enrolled.headers["ETag"]},
        )
        assert moved.status_code == 201, moved.text
        second = moved.json()
        assert (second["program"], second["arrangement"], second["start_month"]) == (
            "tekun",
            "concentrated",
            "2024-10",  # from the month after the change, as for orphans
        )
        old = (await client.get(f"{BASE}/enrolments/{first['id']}")).json()
        assert (old["status"], old["end_month"], old["arrangement"]) == ("ended", "2024-09", "scattered")

        # welfare's own lookup says which arrangement is in force
        found = (
            await client.post(f"{BASE}/enrolment-lookups", json={"citizen_id": number, "on": "2024-10-15"})
        ).json()
        assert [(e["program"], e["arrangement"]) for e in found["enrolments"]] == [("tekun", "concentrated")]

        # the events carry the arrangement, the months and the status; the number for welfare:pii
        started = await events_about(client, f"/enrolments/{second['id']}", "enrolment.started")
        assert [e["data"]["arrangement"] for e in started] == ["concentrated"]
        assert started[0]["data"]["start_month"] == "2024-10"
        assert started[0]["data"]["citizen_id"] == number
        ended = await events_about(client, f"/enrolments/{first['id']}", "enrolment.ended")
        assert [(e["data"]["arrangement"], e["data"]["end_month"], e["data"]["status"]) for e in ended] == [
            ("scattered", "2024-09", "ended")
        ]
        registered = await events_about(client, f"/persons/{person_id}", "person.registered")
        assert [(e["data"]["person_id"], e["data"]["citizen_id"]) for e in registered] == [
            (person_id, number)
        ]

    # without welfare:pii the events name the person, never the number
    reader = await platform.account("tekun-reader-211103", scopes=["welfare:read"], jurisdictions=[COUNTY])
    async with platform.client(headers=reader) as client:
        registered = await events_about(client, f"/persons/{person_id}", "person.registered")
        assert len(registered) == 1
        assert number not in str(registered)
        assert "citizen_id" not in registered[0]["data"]
