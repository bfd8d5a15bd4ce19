"""Money is paid once per person, month and allowance (through the gateway).

Runs in 辽滨沿海经济技术开发区 (211100-Z01) in 2019, which no other test pays. The zone gets a
standard of its own for 2019 (800.00; tekun 1440.00, orphans 2400.00 concentrated and 2000.00
scattered). Every enrolment a test opens is ended in 2019 before the test ends, so later
payrolls of the zone leave it alone.

- A care arrangement changed back-dated over months already paid: asking for those months
  again pays nobody twice; what was paid moves to the new enrolment and the recalculation
  books the difference (2400.00 − 2000.00) as arrears, with the entries explaining themselves.
- An end month moved back over paid months: the recalculation books them as overpayments
  pending review (never arrears); a new enrolment over those months is never paid a second
  regular entry, and what each month nets to is what is due once.
- A suspension has months: a month inside it is never paid, even when its payroll is asked for
  after the enrolment was resumed; a suspension from a month already paid books it back as an
  overpayment pending review.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.testing import citizen_id

BASE = "/api/welfare/v1"
ZONE = "211100-Z01"
DECISION = {"by": "辽滨民政办", "on": "2018-12-20", "reference": "辽滨民〔2018〕7号"}
CITATION = {"document": "辽滨管发〔2019〕1号", "article": "一"}


@pytest.fixture(scope="module")
async def staff(platform: Platform) -> dict[str, str]:
    headers = await platform.account(
        "paid-once-211100-Z01",
        scopes=["welfare:read", "welfare:write", "welfare:admin"],
        jurisdictions=[ZONE],
    )
    async with platform.client(headers=headers) as client:
        version = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": ZONE,
                "version_id": "z01-2019",
                "effective_from": "2019-01-01",
                "effective_to": "2019-12-31",
                "published_on": "2018-12-01",
                "dibao": "800.00",
                "dibao_citation": CITATION,
                "tekun": {"multiplier": "1.8", "stated_amount": "1440.00", "citation": CITATION},
                "orphan_concentrated": {"multiplier": "3", "stated_amount": "2400.00", "citation": CITATION},
                "orphan_scattered": {"multiplier": "2.5", "stated_amount": "2000.00", "citation": CITATION},
            },
        )
        assert version.status_code == 201, version.text
    return headers


async def person(client: httpx.AsyncClient, born: str) -> str:
    created = await client.post(
        f"{BASE}/persons",
        json={"jurisdiction": ZONE, "name": "测试", "citizen_id": citizen_id(born, region="211100")},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def enrol(client: httpx.AsyncClient, program: str, person_id: str, start: str) -> str:
    enrolment = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": program,
            "jurisdiction": ZONE,
            "person_id": person_id,
            "start_month": start,
            "decision": DECISION,
            **({"arrangement": "scattered"} if program == "tekun" else {}),
        },
    )
    assert enrolment.status_code == 201, enrolment.text
    return str(enrolment.json()["id"])


async def pay(client: httpx.AsyncClient, month: str) -> dict[str, Any]:
    paid = await client.post(f"{BASE}/payrolls", json={"jurisdiction": ZONE, "month": month})
    assert paid.status_code in (200, 201), paid.text
    body: dict[str, Any] = paid.json()
    return body


async def patch(client: httpx.AsyncClient, enrolment: str, body: dict[str, Any]) -> httpx.Response:
    current = await client.get(f"{BASE}/enrolments/{enrolment}")
    return await client.patch(
        f"{BASE}/enrolments/{enrolment}", json=body, headers={"If-Match": current.headers["ETag"]}
    )


async def settle(client: httpx.AsyncClient) -> None:
    """Wait until no recalculation of the zone is queued or running."""
    for _ in range(600):
        active = (
            await client.get(f"{BASE}/recalculations", params={"status": ["queued", "running"], "limit": 100})
        ).json()
        if not any(run["jurisdiction"] == ZONE for run in active["items"]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("recalculations did not finish")


async def entries(client: httpx.AsyncClient, *enrolments: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for enrolment in enrolments:
        ledger = await client.get(f"{BASE}/ledger", params={"enrolment_id": enrolment, "limit": 200})
        found.extend(ledger.json()["items"])
    return found


def by_month(found: list[dict[str, Any]]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for entry in found:
        sums[entry["month"]] += Decimal(entry["amount"])
    return dict(sums)


def regular_months(found: list[dict[str, Any]]) -> list[str]:
    return sorted(entry["month"] for entry in found if entry["kind"] == "regular")


async def test_a_back_dated_care_arrangement_change_pays_each_month_once(
    platform: Platform, staff: dict[str, str]
) -> None:
    async with platform.client(headers=staff) as client:
        orphan = await person(client, "2012-05-01")
        scattered = await enrol(client, "orphan_scattered", orphan, "2019-07")
        for month in ("2019-07", "2019-08", "2019-09", "2019-10"):
            await pay(client, month)
        current = await client.get(f"{BASE}/enrolments/{scattered}")
        moved = await client.post(
            f"{BASE}/enrolments/{scattered}/care-arrangement",
            json={
                "arrangement": "concentrated",
                "changed_on": "2019-07-20",
                "reference": "辽滨孤〔2019〕3号",
            },
            headers={"If-Match": current.headers["ETag"]},
        )
        assert moved.status_code == 201, moved.text
        concentrated = moved.json()["id"]
        for month in ("2019-08", "2019-09", "2019-10"):
            await pay(client, month)
        await settle(client)
        found = await entries(client, scattered, concentrated)
        assert regular_months(found) == ["2019-07", "2019-08", "2019-09", "2019-10"]
        due = {"2019-07": Decimal("2000.00")} | {
            m: Decimal("2400.00") for m in ("2019-08", "2019-09", "2019-10")
        }
        assert by_month(found) == due
        new = [entry for entry in found if entry["enrolment_id"] == concentrated]
        arrears = sorted((e["month"], e["amount"]) for e in new if e["kind"] == "arrears")
        assert arrears == [("2019-08", "400.00"), ("2019-09", "400.00"), ("2019-10", "400.00")]
        assert all(e["corrects_entry_id"] is not None for e in new)
        moved_in = [e for e in new if e["kind"] == "correction"]
        assert len(moved_in) == 3
        assert all(scattered in e["note"] for e in moved_in)
        old = [entry for entry in found if entry["enrolment_id"] == scattered]
        assert not [e for e in old if e["kind"] in ("arrears", "overpayment")]
        # asked again, a recalculation books nothing more
        again = await client.post(
            f"{BASE}/recalculations", json={"jurisdiction": ZONE, "from_month": "2019-07"}
        )
        assert again.status_code in (202, 409), again.text
        await settle(client)
        assert by_month(await entries(client, scattered, concentrated)) == due
        ended = await patch(client, concentrated, {"status": "ended", "end_month": "2019-10"})
        assert ended.status_code == 200, ended.text


async def test_an_end_month_moved_back_never_pays_a_month_twice(
    platform: Platform, staff: dict[str, str]
) -> None:
    async with platform.client(headers=staff) as client:
        someone = await person(client, "1950-02-03")
        first = await enrol(client, "tekun", someone, "2019-03")
        for month in ("2019-03", "2019-04", "2019-05"):
            await pay(client, month)
        ended = await patch(client, first, {"status": "ended", "end_month": "2019-03"})
        assert ended.status_code == 200, ended.text
        await settle(client)
        found = await entries(client, first)
        overpaid = sorted((e["month"], e["amount"], e["review"]) for e in found if e["kind"] == "overpayment")
        assert overpaid == [("2019-04", "-1440.00", "pending"), ("2019-05", "-1440.00", "pending")]
        second = await enrol(client, "tekun", someone, "2019-04")
        for month in ("2019-04", "2019-05"):
            await pay(client, month)
        await settle(client)
        found = await entries(client, first, second)
        assert regular_months(found) == ["2019-03", "2019-04", "2019-05"]
        assert by_month(found) == {m: Decimal("1440.00") for m in ("2019-03", "2019-04", "2019-05")}
        assert not [e for e in found if e["enrolment_id"] == first and e["kind"] == "arrears"]
        closed = await patch(client, second, {"status": "ended", "end_month": "2019-05"})
        assert closed.status_code == 200, closed.text


async def test_a_month_inside_a_suspension_is_never_paid(platform: Platform, staff: dict[str, str]) -> None:
    async with platform.client(headers=staff) as client:
        someone = await person(client, "1948-11-12")
        enrolment = await enrol(client, "tekun", someone, "2019-11")
        suspended = await patch(client, enrolment, {"status": "suspended"})
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["suspensions"][0]["from_month"] == "2019-11"
        await pay(client, "2019-11")
        early = await patch(client, enrolment, {"status": "active", "resumed_from": "2019-10"})
        assert_problem(early, 422)
        # resuming from the suspension's own first month would undo it after the fact
        undone = await patch(client, enrolment, {"status": "active", "resumed_from": "2019-11"})
        assert "after the suspension's first month" in assert_problem(undone, 422)["detail"]
        resumed = await patch(client, enrolment, {"status": "active", "resumed_from": "2019-12"})
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["suspensions"][0]["resumed_month"] == "2019-12"
        await pay(client, "2019-11")
        await pay(client, "2019-12")
        found = await entries(client, enrolment)
        assert regular_months(found) == ["2019-12"]
        # suspended from a month already paid: booked back for review, never deducted by itself
        again = await patch(client, enrolment, {"status": "suspended", "suspended_from": "2019-12"})
        assert again.status_code == 200, again.text
        await settle(client)
        found = await entries(client, enrolment)
        overpaid = [(e["month"], e["amount"], e["review"]) for e in found if e["kind"] == "overpayment"]
        assert overpaid == [("2019-12", "-1440.00", "pending")]
        closed = await patch(client, enrolment, {"status": "ended", "end_month": "2019-12"})
        assert closed.status_code == 200, closed.text
        # nor is the suspension undone after the end: the month it held back stays unpaid
        undo = await patch(client, enrolment, {"status": "active", "resumed_from": "2019-12"})
        assert "after the suspension's first month" in assert_problem(undo, 422)["detail"]
        await pay(client, "2019-12")
        await settle(client)
        assert await entries(client, enrolment) == found
