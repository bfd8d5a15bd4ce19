"""The register in process, with tokens of county and city staff."""

from __future__ import annotations

import pytest

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess, citizen_id

BASE = "/api/welfare/v1"
DECISION = {"by": "双台子区民政局", "on": "2024-06-20", "reference": "双民低〔2024〕12号"}


@pytest.fixture
def service(welfare_service: ServiceInProcess) -> ServiceInProcess:
    """Welfare in this process, what a test writes rolled back at its end."""
    return welfare_service


@pytest.fixture
async def staff(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    write = ["welfare:read", "welfare:write"]
    return {
        "shuangtaizi": await service.account("clerk-211102", scopes=write, jurisdictions=["211102"]),
        "xinglongtai": await service.account("clerk-211103", scopes=write, jurisdictions=["211103"]),
        "city": await service.account("officer-211100", scopes=write, jurisdictions=["211100"]),
        "city_pii": await service.account(
            "auditor-211100", scopes=["welfare:read", "welfare:pii"], jurisdictions=["211100"]
        ),
    }


async def test_county_registers_and_enrols_a_household(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=staff["shuangtaizi"]) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": "211102", "address": "胜利街 1 号"}
        )
        assert household.status_code == 201, household.text
        household_id = household.json()["id"]
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": "211102",
                "household_id": household_id,
                "covered_members": 3,
                "per_capita_income": "500.00",
                "start_month": "2024-07",
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        body = enrolment.json()
        assert body["status"] == "active"
        assert body["start_month"] == "2024-07"
        assert body["income_assessments"][0]["per_capita_income"] == "500.00"
        assert body["income_assessments"][0]["superseded_from"] is None


async def test_counties_see_only_their_own_records(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=staff["shuangtaizi"]) as client:
        created = await client.post(
            f"{BASE}/households", json={"jurisdiction": "211102", "address": "中兴路 8 号"}
        )
        household_id = created.json()["id"]
    async with service.client(headers=staff["xinglongtai"]) as client:
        # another county: the record does not exist for them, and they cannot write there
        assert_problem(await client.get(f"{BASE}/households/{household_id}"), 404)
        assert_problem(
            await client.post(f"{BASE}/households", json={"jurisdiction": "211102", "address": "x"}),
            403,
        )
        listing = (await client.get(f"{BASE}/households", params={"limit": 200})).json()
        assert all(item["jurisdiction"] == "211103" for item in listing["items"])
        assert_problem(await client.get(f"{BASE}/households", params={"jurisdiction": "211102"}), 403)
        patch = await client.patch(
            f"{BASE}/households/{household_id}",
            json={"address": "taken over"},
            headers={"If-Match": "*"},
        )
        assert_problem(patch, 404)
    async with service.client(headers=staff["city"]) as client:
        seen = await client.get(f"{BASE}/households/{household_id}")
        assert seen.status_code == 200
        assert seen.json()["address"] == "中兴路 8 号"


async def test_citizen_ids_are_masked_except_for_pii_holders(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    number = citizen_id("1960-05-17", region="211102")
    async with service.client(headers=staff["shuangtaizi"]) as client:
        created = await client.post(
            f"{BASE}/persons", json={"jurisdiction": "211102", "name": "张三", "citizen_id": number}
        )
        assert created.status_code == 201, created.text
        assert created.json()["citizen_id"] == f"{number[:4]}**********{number[-4:]}"
        duplicate = await client.post(
            f"{BASE}/persons", json={"jurisdiction": "211102", "name": "张三", "citizen_id": number}
        )
        assert_problem(duplicate, 409)
        bad_check_digit = number[:17] + ("0" if number[17] != "0" else "1")
        body = assert_problem(
            await client.post(
                f"{BASE}/persons",
                json={"jurisdiction": "211102", "name": "李四", "citizen_id": bad_check_digit},
            ),
            422,
        )
        assert body["errors"][0]["field"] == "body.citizen_id"
    person_id = created.json()["id"]
    async with service.client(headers=staff["city_pii"]) as client:
        assert (await client.get(f"{BASE}/persons/{person_id}")).json()["citizen_id"] == number
    async with service.client(headers=await service.admin_headers()) as client:
        audit = (
            await client.get(f"{BASE}/audit-log", params={"entity": "person", "entity_id": person_id})
        ).json()
        assert audit["items"][0]["after"]["citizen_id"] == f"{number[:4]}**********{number[-4:]}"
        assert number not in str(audit)


async def test_bad_enrolments_name_the_field_and_change_nothing(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=staff["shuangtaizi"]) as client:
        household_id = (
            await client.post(f"{BASE}/households", json={"jurisdiction": "211102", "address": "兴隆街 3 号"})
        ).json()["id"]
        cases: dict[str, dict[str, object]] = {
            "body.covered_members": {"covered_members": 0},
            "body.per_capita_income": {"per_capita_income": "-1.00"},
            "body.start_month": {"start_month": "2024-13"},
            "body.jurisdiction": {"jurisdiction": "999999"},
        }
        for field, change in cases.items():
            body = {
                "program": "dibao",
                "jurisdiction": "211102",
                "household_id": household_id,
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": "2024-07",
                "decision": DECISION,
                **change,
            }
            problem = assert_problem(await client.post(f"{BASE}/enrolments", json=body), 422)
            assert any(e["field"] == field for e in problem["errors"]), (field, problem)
        unknown = assert_problem(await client.post(f"{BASE}/enrolments", json={"program": "pension"}), 422)
        assert unknown["errors"][0]["field"].startswith("body")
        listing = (
            await client.get(f"{BASE}/enrolments", params={"jurisdiction": "211102", "limit": 200})
        ).json()
        assert household_id not in {item["household_id"] for item in listing["items"]}


async def test_income_versions_and_optimistic_concurrency(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=staff["shuangtaizi"]) as client:
        household_id = (
            await client.post(
                f"{BASE}/households", json={"jurisdiction": "211102", "address": "石油大街 5 号"}
            )
        ).json()["id"]
        created = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": "211102",
                "household_id": household_id,
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": "2024-01",
                "decision": DECISION,
            },
        )
        enrolment_id, etag = created.json()["id"], created.headers["ETag"]
        new_income = {
            "per_capita_income": "350.00",
            "effective_month": "2024-09",
            "assessed_on": "2024-08-25",
            "reference": "复核〔2024〕3号",
        }
        assert_problem(
            await client.post(f"{BASE}/enrolments/{enrolment_id}/income-assessments", json=new_income),
            428,
        )
        added = await client.post(
            f"{BASE}/enrolments/{enrolment_id}/income-assessments",
            json=new_income,
            headers={"If-Match": etag},
        )
        assert added.status_code == 201, added.text
        versions = added.json()["income_assessments"]
        assert [(v["effective_month"], v["superseded_from"]) for v in versions] == [
            ("2024-01", "2024-09"),
            ("2024-09", None),
        ]
        stale = await client.patch(
            f"{BASE}/enrolments/{enrolment_id}",
            json={"status": "suspended"},
            headers={"If-Match": etag},
        )
        assert_problem(stale, 412)
        ended = await client.patch(
            f"{BASE}/enrolments/{enrolment_id}",
            json={"status": "ended"},
            headers={"If-Match": added.headers["ETag"]},
        )
        assert_problem(ended, 422)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("", "empty"),
        ("   ", "only white space"),
        ("胜利街\n1 号", "a line break"),
        ("胜利街\u200b1 号", "a zero-width space"),
        ("胜利街\u202e号 1", "a right-to-left override"),
        ("街" * 501, "over 500 characters"),
    ],
)
async def test_an_address_nobody_could_read_is_refused_and_nothing_is_written(
    service: ServiceInProcess, staff: dict[str, dict[str, str]], address: str, why: str
) -> None:
    async with service.client(headers=staff["shuangtaizi"]) as client:
        before = (await client.get(f"{BASE}/households", params={"jurisdiction": "211102"})).json()["total"]
        refused = await client.post(f"{BASE}/households", json={"jurisdiction": "211102", "address": address})
        assert_problem(refused, 422)
        assert "address" in refused.text, why
        after = (await client.get(f"{BASE}/households", params={"jurisdiction": "211102"})).json()["total"]
        assert after == before, why
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": "211102", "address": "  胜利街 2 号 "}
        )
        assert household.status_code == 201, household.text
        assert household.json()["address"] == "胜利街 2 号"  # surrounding white space is not kept
        changed = await client.patch(
            f"{BASE}/households/{household.json()['id']}",
            json={"address": address},
            headers={"If-Match": household.headers["ETag"]},
        )
        assert_problem(changed, 422)
        seen = await client.get(f"{BASE}/households/{household.json()['id']}")
        assert seen.json()["address"] == "胜利街 2 号", why
