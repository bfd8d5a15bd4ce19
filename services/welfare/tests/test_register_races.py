"""Register writes sent many times at once go through the one write path (through the gateway):
updates with one If-Match make one change, twins without an Idempotency-Key make one record."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.months import YearMonth
from shared.testing import citizen_id

BASE = "/api/welfare/v1"
COUNTY = "211103"
TWINS = 8
DECISION = {"by": "兴隆台区民政局", "on": "2025-05-06", "reference": "兴民低〔2025〕9号"}


@pytest.fixture(scope="module")
async def clerk(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "register-race-211103", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )


def outcome(answers: list[httpx.Response], success: int, refused: int) -> None:
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [success] + [refused] * (len(answers) - 1), [a.text for a in answers]
    for answer in answers:
        if answer.status_code == refused:
            assert_problem(answer, refused)


async def test_concurrent_writes_of_one_record_make_one_change(
    platform: Platform, clerk: dict[str, str]
) -> None:
    async with platform.client(headers=clerk) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "曙光街"}
        )
        household_id, etag = household.json()["id"], household.headers["ETag"]
        answers = await asyncio.gather(
            *(
                client.patch(
                    f"{BASE}/households/{household_id}",
                    json={"address": f"曙光街 {n} 号"},
                    headers={"If-Match": etag},
                )
                for n in range(TWINS)
            )
        )
        outcome(answers, 200, 412)
        winner = next(a for a in answers if a.status_code == 200)
        assert winner.headers["ETag"] == f'"{household_id}-v2"'
        assert (await client.get(f"{BASE}/households/{household_id}")).json()["address"] == winner.json()[
            "address"
        ]

        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household_id,
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": "2025-05",
                "decision": DECISION,
            },
        )
        enrolment_id, etag = enrolment.json()["id"], enrolment.headers["ETag"]
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{BASE}/enrolments/{enrolment_id}/income-assessments",
                    json={
                        "per_capita_income": f"{200 + n}.00",
                        "effective_month": str(YearMonth(2025, 6).plus(n)),
                        "assessed_on": "2025-05-20",
                        "reference": f"兴民低〔2025〕{10 + n}号",
                    },
                    headers={"If-Match": etag},
                )
                for n in range(TWINS)
            )
        )
        outcome(answers, 201, 412)
        versions = (await client.get(f"{BASE}/enrolments/{enrolment_id}")).json()["income_assessments"]
        assert len(versions) == 2  # the first assessment and the one that won

        answers = await asyncio.gather(
            *(
                client.patch(
                    f"{BASE}/enrolments/{enrolment_id}",
                    json={"status": "suspended"},
                    headers={"If-Match": etag},
                )
                for _ in range(TWINS)
            )
        )
        assert {a.status_code for a in answers} == {412}  # the ETag is stale since the assessment


async def test_a_person_registered_by_many_clerks_at_once_is_one_person(
    platform: Platform, clerk: dict[str, str]
) -> None:
    number = citizen_id("1958-03-02", region=COUNTY)
    body = {"jurisdiction": COUNTY, "name": "孙桂兰", "citizen_id": number}
    async with platform.client(headers=clerk) as client:
        answers = await asyncio.gather(*(client.post(f"{BASE}/persons", json=body) for _ in range(TWINS)))
        outcome(answers, 201, 409)
        assert all(number not in answer.text for answer in answers)
        created = next(a for a in answers if a.status_code == 201)
        assert created.headers["Location"] == f"{BASE}/persons/{created.json()['id']}"


async def test_one_enrolment_per_beneficiary_program_and_month(
    platform: Platform, clerk: dict[str, str]
) -> None:
    """A household enrolled in dibao twice for the same months would be paid twice: the second
    enrolment is 409 naming the first, whether it arrives with its twin or a day later; an
    orphan is in one care arrangement at a time (集中供养 or 分散供养); months after an ended
    enrolment are free again."""
    async with platform.client(headers=clerk) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "重复街 1 号"}
        )
        assert household.status_code == 201, household.text

        def dibao(start: str) -> dict[str, object]:
            return {
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": start,
                "decision": DECISION,
            }

        first = await client.post(f"{BASE}/enrolments", json=dibao("2025-03"))
        assert first.status_code == 201, first.text
        later = assert_problem(await client.post(f"{BASE}/enrolments", json=dibao("2025-06")), 409)
        assert first.json()["id"] in later["detail"]
        earlier = assert_problem(await client.post(f"{BASE}/enrolments", json=dibao("2024-01")), 409)
        assert "dibao" in earlier["detail"]
        child = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": "孤儿",
                "citizen_id": citizen_id("2016-02-03", region=COUNTY),
            },
        )
        assert child.status_code == 201, child.text
        orphan = {
            "jurisdiction": COUNTY,
            "person_id": child.json()["id"],
            "start_month": "2025-03",
            "decision": DECISION,
        }
        concentrated = await client.post(
            f"{BASE}/enrolments", json={**orphan, "program": "orphan_concentrated"}
        )
        assert concentrated.status_code == 201, concentrated.text
        assert_problem(
            await client.post(f"{BASE}/enrolments", json={**orphan, "program": "orphan_scattered"}), 409
        )
        ended = await client.patch(
            f"{BASE}/enrolments/{concentrated.json()['id']}",
            json={"status": "ended", "end_month": "2025-04"},
            headers={"If-Match": concentrated.headers["ETag"]},
        )
        assert ended.status_code == 200, ended.text
        again = await client.post(
            f"{BASE}/enrolments", json={**orphan, "program": "orphan_scattered", "start_month": "2025-05"}
        )
        assert again.status_code == 201, again.text


async def test_an_enrolment_is_not_stretched_over_another_one(
    platform: Platform, clerk: dict[str, str]
) -> None:
    """Ending an enrolment frees the months after it; a PATCH that later moves its last month
    (or resumes it) into an enrolment that took those months would pay them twice: 409."""
    async with platform.client(headers=clerk) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "重复街 2 号"}
        )
        assert household.status_code == 201, household.text
        body = {
            "program": "dibao",
            "jurisdiction": COUNTY,
            "household_id": household.json()["id"],
            "covered_members": 2,
            "per_capita_income": "300.00",
            "start_month": "2025-03",
            "decision": DECISION,
        }
        first = await client.post(f"{BASE}/enrolments", json=body)
        assert first.status_code == 201, first.text
        url = f"{BASE}/enrolments/{first.json()['id']}"
        ended = await client.patch(
            url, json={"status": "ended", "end_month": "2025-04"}, headers={"If-Match": first.headers["ETag"]}
        )
        assert ended.status_code == 200, ended.text
        second = await client.post(f"{BASE}/enrolments", json={**body, "start_month": "2025-05"})
        assert second.status_code == 201, second.text
        etag = ended.headers["ETag"]
        resumed = await client.patch(
            url, json={"status": "active", "end_month": "2025-08"}, headers={"If-Match": etag}
        )
        assert second.json()["id"] in assert_problem(resumed, 409)["detail"]
        assert_problem(
            await client.patch(url, json={"end_month": "2025-05"}, headers={"If-Match": etag}), 409
        )
        earlier = await client.patch(url, json={"end_month": "2025-03"}, headers={"If-Match": etag})
        assert earlier.status_code == 200, earlier.text
        paid = await client.get(f"{BASE}/enrolments/{first.json()['id']}")
        assert (paid.json()["status"], paid.json()["end_month"]) == ("ended", "2025-03")


async def test_a_care_arrangement_change_stays_within_the_enrolment(
    platform: Platform, clerk: dict[str, str]
) -> None:
    """An orphan enrolment that ends in April, followed by another from May: a change of care
    arrangement dated July would stretch the first to July and open a third from August,
    paying May to July twice; it is refused and nothing changes. A change within the months
    opens the new arrangement until the same last month."""
    async with platform.client(headers=clerk) as client:
        child = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": "孤儿乙",
                "citizen_id": citizen_id("2017-04-05", region=COUNTY),
            },
        )
        assert child.status_code == 201, child.text
        orphan = {"jurisdiction": COUNTY, "person_id": child.json()["id"], "decision": DECISION}
        first = await client.post(
            f"{BASE}/enrolments", json={**orphan, "program": "orphan_concentrated", "start_month": "2025-03"}
        )
        assert first.status_code == 201, first.text
        url = f"{BASE}/enrolments/{first.json()['id']}"
        until_april = await client.patch(
            url, json={"end_month": "2025-04"}, headers={"If-Match": first.headers["ETag"]}
        )
        assert until_april.status_code == 200, until_april.text
        second = await client.post(
            f"{BASE}/enrolments", json={**orphan, "program": "orphan_scattered", "start_month": "2025-05"}
        )
        assert second.status_code == 201, second.text
        change = {"arrangement": "scattered", "changed_on": "2025-07-10", "reference": "兴民孤〔2025〕3号"}
        moved = await client.post(
            f"{url}/care-arrangement", json=change, headers={"If-Match": until_april.headers["ETag"]}
        )
        assert moved.status_code in (409, 422), moved.text
        assert_problem(moved, moved.status_code)
        kept = (await client.get(url)).json()
        assert (kept["status"], kept["end_month"]) == ("active", "2025-04")
        within = await client.post(
            f"{url}/care-arrangement",
            json={**change, "changed_on": "2025-03-20"},
            headers={"If-Match": until_april.headers["ETag"]},
        )
        assert within.status_code == 201, within.text
        assert (within.json()["start_month"], within.json()["end_month"]) == ("2025-04", "2025-04")
