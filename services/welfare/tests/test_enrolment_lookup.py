"""The enrolment lookup by citizen ID number in process: what is in force in a month,
for the person and through their household, only within the caller's area."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from platformctl.testing import assert_problem
from shared.citizen_ids import check_digit_ok
from shared.testing import ServiceInProcess

BASE = "/api/welfare/v1"
LOOKUP = f"{BASE}/enrolment-lookups"
COUNTY = "211103"  # 兴隆台区; the months 2033-… are this module's own
DECISION = {"by": "兴隆台区民政局", "on": "2032-12-20", "reference": "兴民低〔2032〕8号"}


@pytest.fixture
def service(welfare_service: ServiceInProcess) -> ServiceInProcess:
    """Welfare in this process, what a test writes rolled back at its end."""
    return welfare_service


def citizen_id(birth: str = "19520314") -> str:
    """A fresh 18-character number with a correct GB 11643 check digit."""
    body = f"{COUNTY}{birth}{secrets.randbelow(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    number = body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert check_digit_ok(number)
    return number


def masked(number: str) -> str:
    return f"{number[:4]}**********{number[-4:]}"


@pytest.fixture
async def staff(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    return {
        "clerk": await service.account(
            "welfare-lookup-211103", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
        ),
        "other_county": await service.account(
            "welfare-lookup-211102", scopes=["welfare:read"], jurisdictions=["211102"]
        ),
        "city": await service.account(
            "welfare-lookup-211100", scopes=["welfare:read"], jurisdictions=["211100"]
        ),
        "no_welfare": await service.account(
            "welfare-lookup-eldercare-only", scopes=["eldercare:read"], jurisdictions=[COUNTY]
        ),
    }


@pytest.fixture
async def household(service: ServiceInProcess, staff: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A household in dibao from 2033-03 with two members; the first also a 1960s retiree from 2033-01."""
    numbers = [citizen_id("19520314"), citizen_id("19550621")]
    async with service.client(headers=staff["clerk"]) as client:
        created = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "石油大街 9 号"}
        )
        assert created.status_code == 201, created.text
        household_id = created.json()["id"]
        persons = []
        for name, number in zip(("王秀兰", "王德胜"), numbers, strict=True):
            person = await client.post(
                f"{BASE}/persons",
                json={
                    "jurisdiction": COUNTY,
                    "household_id": household_id,
                    "name": name,
                    "citizen_id": number,
                },
            )
            assert person.status_code == 201, person.text
            persons.append(person.json()["id"])
        dibao = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household_id,
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": "2033-03",
                "decision": DECISION,
            },
        )
        assert dibao.status_code == 201, dibao.text
        retiree = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "retiree_1960s",
                "jurisdiction": COUNTY,
                "person_id": persons[0],
                "tier": 2,
                "start_month": "2033-01",
                "decision": DECISION,
            },
        )
        assert retiree.status_code == 201, retiree.text
    return {
        "id": household_id,
        "numbers": numbers,
        "persons": persons,
        "dibao": dibao.json(),
        "dibao_etag": dibao.headers["ETag"],
        "retiree": retiree.json(),
    }


async def test_enrolments_in_force_for_the_person_and_through_the_household(
    service: ServiceInProcess, staff: dict[str, dict[str, str]], household: dict[str, Any]
) -> None:
    first, second = household["numbers"]
    async with service.client(headers=staff["clerk"]) as client:
        before = await client.post(LOOKUP, json={"citizen_id": first, "on": "2033-02-15"})
        assert before.status_code == 200, before.text
        body = before.json()
        assert (body["person_id"], body["dibao"], body["month"]) == (
            household["persons"][0],
            False,
            "2033-02",
        )
        assert [e["program"] for e in body["enrolments"]] == ["retiree_1960s"]

        found = await client.post(LOOKUP, json={"citizen_id": first, "on": "2033-03-01"})
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["citizen_id"] == masked(first)
        assert first not in found.text  # the number only masked
        assert body["on"] == "2033-03-01"
        assert body["dibao"] is True
        assert body["enrolments"] == [
            {
                "enrolment_id": household["dibao"]["id"],
                "program": "dibao",
                "jurisdiction": COUNTY,
                "beneficiary": "household",
                "arrangement": None,
                "household_id": household["id"],
                "start_month": "2033-03",
                "end_month": None,
                "status": "active",
            },
            {
                "enrolment_id": household["retiree"]["id"],
                "program": "retiree_1960s",
                "jurisdiction": COUNTY,
                "beneficiary": "person",
                "arrangement": None,
                "household_id": None,
                "start_month": "2033-01",
                "end_month": None,
                "status": "active",
            },
        ]
        # the other member is in dibao through the same household enrolment, and only that
        member = (await client.post(LOOKUP, json={"citizen_id": second, "on": "2033-06-30"})).json()
        assert member["dibao"] is True
        assert [e["enrolment_id"] for e in member["enrolments"]] == [household["dibao"]["id"]]


async def test_a_suspended_enrolment_is_not_in_force(
    service: ServiceInProcess, staff: dict[str, dict[str, str]], household: dict[str, Any]
) -> None:
    number = citizen_id("19480808")
    async with service.client(headers=staff["clerk"]) as client:
        own = (
            await client.post(f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "兴隆街 2 号"})
        ).json()
        person = await client.post(
            f"{BASE}/persons",
            json={"jurisdiction": COUNTY, "household_id": own["id"], "name": "赵桂芝", "citizen_id": number},
        )
        assert person.status_code == 201, person.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": own["id"],
                "covered_members": 1,
                "per_capita_income": "0.00",
                "start_month": "2033-01",
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        assert (await client.post(LOOKUP, json={"citizen_id": number, "on": "2033-04-10"})).json()[
            "dibao"
        ] is True
        suspended = await client.patch(
            f"{BASE}/enrolments/{enrolment.json()['id']}",
            json={"status": "suspended"},
            headers={"If-Match": enrolment.headers["ETag"]},
        )
        assert suspended.status_code == 200, suspended.text
        after = (await client.post(LOOKUP, json={"citizen_id": number, "on": "2033-04-10"})).json()
        assert (after["person_id"], after["dibao"], after["enrolments"]) == (person.json()["id"], False, [])


async def test_nobody_found_is_an_empty_answer_not_an_error(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    number = citizen_id("19400101")
    async with service.client(headers=staff["clerk"]) as client:
        response = await client.post(LOOKUP, json={"citizen_id": number, "on": "2033-03-01"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "citizen_id": masked(number),
        "on": "2033-03-01",
        "month": "2033-03",
        "person_id": None,
        "dibao": False,
        "enrolments": [],
    }


async def test_outside_the_callers_area_answers_like_nobody_found(
    service: ServiceInProcess, staff: dict[str, dict[str, str]], household: dict[str, Any]
) -> None:
    first = household["numbers"][0]
    request = {"citizen_id": first, "on": "2033-03-01"}
    async with service.client(headers=staff["other_county"]) as client:
        elsewhere = await client.post(LOOKUP, json=request)
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json() == {
        "citizen_id": masked(first),
        "on": "2033-03-01",
        "month": "2033-03",
        "person_id": None,
        "dibao": False,
        "enrolments": [],
    }
    async with service.client(headers=staff["city"]) as client:
        city = (await client.post(LOOKUP, json=request)).json()
    assert (city["person_id"], city["dibao"]) == (household["persons"][0], True)
    async with service.client(headers=staff["no_welfare"]) as client:
        assert_problem(await client.post(LOOKUP, json=request), 403)
    async with service.client() as client:
        assert_problem(await client.post(LOOKUP, json=request), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"citizen_id": "21110319520314123", "on": "2033-03-01"}, "body.citizen_id"),
        ({"citizen_id": "2111031952031412345", "on": "2033-03-01"}, "body.citizen_id"),
        ({"citizen_id": "21110319520314123x", "on": "2033-03-01"}, "body.citizen_id"),
        ({"citizen_id": 211103195203141234, "on": "2033-03-01"}, "body.citizen_id"),
        ({"on": "2033-03-01"}, "body.citizen_id"),
        ({"citizen_id": "VALID", "on": "2033-02-30"}, "body.on"),
        ({"citizen_id": "VALID", "on": 1_900_000_000}, "body.on"),
        ({"citizen_id": "VALID"}, "body.on"),
        ({"citizen_id": "VALID", "on": "2033-03-01", "name": "王秀兰"}, "body.name"),
        ({"citizen_id": "BAD_CHECK_DIGIT", "on": "2033-03-01"}, "body.citizen_id"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    service: ServiceInProcess, staff: dict[str, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    number = citizen_id()
    wrong_digit = number[:17] + ("0" if number[17] != "0" else "1")
    replaced = {"VALID": number, "BAD_CHECK_DIGIT": wrong_digit}
    body = {
        key: replaced.get(value, value) if isinstance(value, str) else value for key, value in body.items()
    }
    async with service.client(headers=staff["clerk"]) as client:
        problem = assert_problem(await client.post(LOOKUP, json=body), 422)
    assert any(error["field"] == field for error in problem["errors"]), problem
    assert number not in str(problem)
    assert wrong_digit not in str(problem)
