"""Scenario, through the gateway with county staff accounts: in 上蔡县 (411722), whose own
catalogue raises the 高龄津贴, a person turns 90; discovery finds them ahead of time, the
monthly snapshots show the raised amount from the month after the birthday, and a dibao
enrolment made in the welfare service shows in their eldercare evaluation: eldercare reads it
from its projection of welfare's register, fed by welfare's change events (not from the
register's own dibao flag, which says otherwise, nor from a live call to welfare).

Dates are in 2026 (the 90th birthday is 2026-06-17): a month's snapshots are taken once the
month has begun. The month is a background run: 202, then its status is polled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from platformctl.testing import Platform
from shared.testing import citizen_id

ELDERCARE = "/api/eldercare/v1"
WELFARE = "/api/welfare/v1"
COUNTY = "411722"  # 上蔡县
BIRTH_DATE = "1936-06-17"
# 上蔡县's list raises every band of the city's 高龄津贴 (60.00 / 100.00 / 500.00, 附件第8项):
# a county may raise, never lower (驻政办〔2023〕35号 二（一）1)
RAISED_BANDS = [
    {"from_age": 80, "to_age_as_written": 90, "amount": "70.00"},
    {"from_age": 90, "to_age_as_written": 99, "amount": "130.00"},
    {"from_age": 100, "to_age_as_written": None, "amount": "550.00"},
]
CITATION = {"document": "上蔡县人民政府关于提高城乡低保标准的通知（蔡政〔2025〕9号）", "article": "一"}


def item(body: dict[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in body["entitlements"] if e["item"] == number)
    return found


async def finished(client: Any, location: str) -> dict[str, Any]:
    for _ in range(600):
        run: dict[str, Any] = (await client.get(location)).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"{location} did not finish")


@pytest.fixture(scope="module")
async def staff(platform: Platform) -> dict[str, dict[str, str]]:
    county = [COUNTY]
    return {
        "eldercare_admin": await platform.account(
            "scenario90-eldercare-admin", scopes=["eldercare:read", "eldercare:admin"], jurisdictions=county
        ),
        "eldercare_clerk": await platform.account(
            "scenario90-eldercare-clerk",
            scopes=["eldercare:read", "eldercare:write", "welfare:read"],
            jurisdictions=county,
        ),
        "eldercare_only": await platform.account(
            "scenario90-eldercare-reader", scopes=["eldercare:read"], jurisdictions=county
        ),
        "welfare_admin": await platform.account(
            "scenario90-welfare-admin", scopes=["welfare:read", "welfare:admin"], jurisdictions=county
        ),
        "welfare_clerk": await platform.account(
            "scenario90-welfare-clerk", scopes=["welfare:read", "welfare:write"], jurisdictions=county
        ),
    }


async def test_a_person_turns_90_and_is_enrolled_in_dibao(
    platform: Platform, staff: dict[str, dict[str, str]]
) -> None:
    number = citizen_id(BIRTH_DATE, region=COUNTY)

    # 1. the county raises the 高龄津贴 in its own catalogue
    async with platform.client(headers=staff["eldercare_admin"]) as client:
        current = await client.get(f"{ELDERCARE}/catalogues/{COUNTY}")
        assert current.status_code == 200, current.text
        saved = await client.put(
            f"{ELDERCARE}/catalogues/{COUNTY}/overrides",
            json={
                "version": "2026-01",
                "document": "上蔡县基本养老服务清单（蔡政办〔2026〕1号）",
                "valid_from": "2026-01-01",  # in force for the months the scenario snapshots
                "items": {"8": {"components": {"allowance": {"amount": {"by_age": RAISED_BANDS}}}}},
            },
            headers={"If-Match": current.headers["ETag"]},
        )
        assert saved.status_code == 200, saved.text
        longevity = next(i for i in saved.json()["items"] if i["number"] == 8)
        assert longevity["amended_by"]["jurisdiction"] == COUNTY

    async with platform.client(headers=staff["eldercare_clerk"]) as client:
        # 2. the person is on the county's register; the register records no dibao
        registered = await client.post(
            f"{ELDERCARE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": "刘桂英",
                "citizen_id": number,
                "circumstances": {"effective_from": "2020-01-01", "living_arrangement": "with_family"},
            },
        )
        assert registered.status_code == 201, registered.text
        person = registered.json()
        assert person["birth_date"] == BIRTH_DATE

        # 3. discovery, looking at June 2026, finds the 90th birthday and the raised amount
        found = await client.get(
            f"{ELDERCARE}/discoveries",
            params={"jurisdiction": COUNTY, "from": "2026-06-01", "to": "2026-06-30", "limit": 200},
        )
        assert found.status_code == 200, found.text
        hit = next(
            h for h in found.json()["items"] if h["person_id"] == person["id"] and h["event"] == "birthday"
        )
        assert hit["event_on"] == "2026-06-17"
        assert hit["reason"] == "turns 90 on 2026-06-17"
        assert hit["citizen_id"] == person["citizen_id"]
        assert "*" in hit["citizen_id"]
        assert hit["items"] == [
            {
                "item": 8,
                "name": "高龄津贴",
                "change": "amount",
                "eligible_from": "2026-07-01",  # 次月起: the month after the birthday
                "note": "from age 90: 130.00 (was 70.00)",
            }
        ]

        # 4. the July snapshot shows the raised 90+ amount against June's; a month is a run
        for month in ("2026-06", "2026-07"):
            asked = await client.post(f"{ELDERCARE}/snapshots", json={"jurisdiction": COUNTY, "month": month})
            assert asked.status_code == 202, asked.text
            run = await finished(client, asked.headers["Location"])
            assert run["status"] == "succeeded", run
            assert run["persons_created"] >= 1
            assert run["done"] == run["total"]
        changes = await client.get(f"{ELDERCARE}/persons/{person['id']}/changes", params={"month": "2026-07"})
        assert changes.status_code == 200, changes.text
        body = changes.json()
        assert (body["previous_month"], body["previous_snapshot"]) == ("2026-06", True)
        assert body["changes"] == [
            {
                "item": 8,
                "name": "高龄津贴",
                "change": "amount",
                "previous_amount": "70.00",
                "amount": "130.00",
                "period": "month",
            }
        ]
        assert (body["previous_monthly_total"], body["monthly_total"]) == ("70.00", "130.00")

    # 5. the welfare service: a dibao standard for the county, the household, the enrolment
    async with platform.client(headers=staff["welfare_admin"]) as client:
        standard = await client.post(
            f"{WELFARE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "shangcai-2026-01",
                "effective_from": "2026-01-01",
                "published_on": "2025-12-15",
                "dibao": "620.00",
                "dibao_citation": CITATION,
            },
        )
        assert standard.status_code == 201, standard.text
    async with platform.client(headers=staff["welfare_clerk"]) as client:
        household = await client.post(
            f"{WELFARE}/households", json={"jurisdiction": COUNTY, "address": "上蔡县蔡都街道 12 号"}
        )
        assert household.status_code == 201, household.text
        welfare_person = await client.post(
            f"{WELFARE}/persons",
            json={
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "name": "刘桂英",
                "citizen_id": number,
                "birth_date": BIRTH_DATE,
            },
        )
        assert welfare_person.status_code == 201, welfare_person.text
        enrolment = await client.post(
            f"{WELFARE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 1,
                "per_capita_income": "200.00",
                "start_month": "2026-07",
                "decision": {"by": "上蔡县民政局", "on": "2026-06-25", "reference": "蔡民低〔2026〕15号"},
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        enrolment_id = enrolment.json()["id"]
        priced = await client.post(
            f"{WELFARE}/calculations",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "month": "2026-07",
                "household_size": 1,
                "per_capita_income": "200.00",
            },
        )
        assert priced.status_code == 200, priced.text
        assert priced.json()["amount"] == "420.00"  # (620.00 − 200.00) × 1, 社会救助暂行办法 Art. 12

    # 6. the person's eldercare evaluation reads dibao status from the projection of welfare's
    # register: welfare's events reach eldercare by themselves, the register still says no dibao
    async with platform.client(headers=staff["eldercare_clerk"]) as client:
        july = await projected(client, person["id"], "2026-07-15", enrolment_id)
        body = july
        assert body["age"] == 90
        assert body["dibao_status"]["value"] is True
        assert body["dibao_status"]["source"] == "projection"
        assert body["dibao_status"]["enrolment_id"] == enrolment_id
        assert body["dibao_status"]["register_value"] is False
        freshness = body["dibao_status"]["projection"]
        assert freshness["current_as_of"] is not None
        assert freshness["lag_seconds"] is not None
        assert freshness["last_sequence"]
        assert body["degraded"] == []
        listed = {e["item"] for e in body["entitlements"]}
        assert {9, 11, 21} <= listed
        # 家庭适老化改造: the city list is dispersed tekun who are 失能, 高龄 or 残疾; dibao members are
        # an extension the county has not adopted
        assert 12 not in listed
        assert item(body, 8)["amount"] == "130.00"
        assert item(body, 8)["amended_by"]["jurisdiction"] == COUNTY
        assert (item(body, 11)["amount"], item(body, 11)["period"]) == ("60.00", "month")
        assert item(body, 9)["amount"] is None  # paid by the welfare service itself
        assert (item(body, 21)["amount"], item(body, 21)["period"]) == ("80.00", "year")
        assert body["monthly_total"] == "190.00"  # 130.00 高龄津贴 + 60.00 养老服务补贴
        nine = " ".join(next(step for step in body["trace"] if step["item"] == 9)["notes"])
        assert (
            f"dibao: true from the projection of welfare's register (enrolment {enrolment_id} in force "
            "in 2026-07" in nine
        )
        assert "the register records dibao: false, welfare decides" in nine

        # the month before the enrolment starts: welfare knows the person, not in dibao yet
        june = (
            await client.get(f"{ELDERCARE}/persons/{person['id']}/evaluation", params={"on": "2026-06-15"})
        ).json()
        assert (june["dibao_status"]["value"], june["dibao_status"]["source"]) == (False, "projection")
        assert not {9, 11, 21} & {e["item"] for e in june["entitlements"]}
        assert item(june, 8)["amount"] == "70.00"
        assert june["monthly_total"] == "70.00"

    # the projection is eldercare's own: a caller who may not read welfare gets the same answer,
    # without any call to welfare on their behalf
    async with platform.client(headers=staff["eldercare_only"]) as client:
        same = await client.get(f"{ELDERCARE}/persons/{person['id']}/evaluation", params={"on": "2026-07-15"})
        assert same.status_code == 200, same.text
        body = same.json()
        assert (body["dibao_status"]["value"], body["dibao_status"]["source"]) == (True, "projection")
        assert body["degraded"] == []
        assert body["monthly_total"] == "190.00"

    # eldercare's readiness reports the consumer and its lag
    eldercare = next(child for child in platform.supervisor.children if child.name == "eldercare")
    async with httpx.AsyncClient(base_url=eldercare.url, timeout=10) as client:
        ready = (await client.get("/readyz")).json()
    projection = ready["checks"]["welfare_projection"]
    assert (projection["source"], projection["consumer"]) == ("projection", "running")
    assert projection["lag_seconds"] is not None


async def projected(client: Any, person_id: str, on: str, enrolment_id: str) -> dict[str, Any]:
    """The person's evaluation once the projection has welfare's enrolment (welfare's events reach
    eldercare by themselves, within seconds)."""
    for _ in range(300):
        answer = await client.get(f"{ELDERCARE}/persons/{person_id}/evaluation", params={"on": on})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["dibao_status"]["enrolment_id"] == enrolment_id:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the projection did not receive enrolment {enrolment_id}: {body['dibao_status']}")
