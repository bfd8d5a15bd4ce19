"""The register in process, with tokens of staff in two counties and the city (one test through the gateway)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from platformctl.testing import Platform, assert_problem
from shared.testing import ServiceInProcess, citizen_id

BASE = "/api/eldercare/v1"


@pytest.fixture
def service(eldercare_service: ServiceInProcess) -> ServiceInProcess:
    """Eldercare in this process, what a test writes rolled back at its end."""
    return eldercare_service


def person(jurisdiction: str, birth: str, **circumstances: Any) -> dict[str, Any]:
    return {
        "jurisdiction": jurisdiction,
        "name": "张桂兰",
        "citizen_id": citizen_id(birth, male=True),
        "circumstances": {"effective_from": "2020-01-01", **circumstances},
    }


@pytest.fixture
async def staff(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    write = ["eldercare:read", "eldercare:write"]
    return {
        "yicheng": await service.account("eldercare-clerk-411702", scopes=write, jurisdictions=["411702"]),
        "shangcai": await service.account("eldercare-clerk-411722", scopes=write, jurisdictions=["411722"]),
        "city": await service.account("eldercare-officer-411700", scopes=write, jurisdictions=["411700"]),
        "city_pii": await service.account(
            "eldercare-auditor-411700", scopes=["eldercare:read", "eldercare:pii"], jurisdictions=["411700"]
        ),
    }


async def test_counties_see_only_their_own_persons(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=staff["yicheng"]) as client:
        created = await client.post(f"{BASE}/persons", json=person("411702", "1944-05-06", dibao=True))
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
    async with service.client(headers=staff["shangcai"]) as client:
        assert_problem(await client.get(f"{BASE}/persons/{person_id}"), 404)
        assert_problem(await client.get(f"{BASE}/persons/{person_id}/circumstances"), 404)
        assert_problem(await client.get(f"{BASE}/persons/{person_id}/visits"), 404)
        assert_problem(
            await client.get(f"{BASE}/persons/{person_id}/changes", params={"month": "2024-04"}), 404
        )
        assert_problem(
            await client.patch(f"{BASE}/persons/{person_id}", json={"name": "x"}, headers={"If-Match": "*"}),
            404,
        )
        assert_problem(await client.post(f"{BASE}/persons", json=person("411702", "1944-05-07")), 403)
        assert_problem(await client.get(f"{BASE}/persons", params={"jurisdiction": "411702"}), 403)
        assert_problem(
            await client.get(
                f"{BASE}/discoveries",
                params={"jurisdiction": "411700", "from": "2024-04-01", "to": "2024-04-30"},
            ),
            403,
        )
        assert_problem(
            await client.post(
                f"{BASE}/visits", json={"person_id": person_id, "visited_on": "2024-03-05", "visitor": "x"}
            ),
            404,
        )
        listing = (await client.get(f"{BASE}/persons", params={"limit": 200})).json()
        assert all(item["jurisdiction"] == "411722" for item in listing["items"])
    async with service.client(headers=staff["city"]) as client:
        seen = await client.get(f"{BASE}/persons/{person_id}")
        assert seen.status_code == 200
        assert seen.json()["circumstances"]["dibao"] is True
        in_county = (
            await client.get(f"{BASE}/persons", params={"jurisdiction": "411702", "limit": 200})
        ).json()
        assert person_id in {item["id"] for item in in_county["items"]}


async def test_citizen_ids_are_masked_birth_date_and_sex_come_from_the_number(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    body = person("411702", "1938-11-02")
    number = body["citizen_id"]
    async with service.client(headers=staff["yicheng"]) as client:
        created = await client.post(f"{BASE}/persons", json=body)
        assert created.status_code == 201, created.text
        read = created.json()
        assert read["citizen_id"] == f"{number[:4]}**********{number[-4:]}"
        assert read["birth_date"] == "1938-11-02"
        assert read["sex"] == "male"
        assert_problem(await client.post(f"{BASE}/persons", json=body), 409)
        wrong_birth = assert_problem(
            await client.post(
                f"{BASE}/persons", json={**person("411702", "1938-11-02"), "birth_date": "1938-11-03"}
            ),
            422,
        )
        assert wrong_birth["errors"][0]["field"] == "body.birth_date"
        bad_digit = {**person("411702", "1938-11-02")}
        bad_digit["citizen_id"] = bad_digit["citizen_id"][:17] + (
            "0" if bad_digit["citizen_id"][17] != "0" else "1"
        )
        assert assert_problem(await client.post(f"{BASE}/persons", json=bad_digit), 422)["errors"][0][
            "field"
        ] == ("body.citizen_id")
        grade = person("411702", "1938-11-02", disability_grade=2, has_disability_certificate=False)
        problem = assert_problem(await client.post(f"{BASE}/persons", json=grade), 422)
        assert problem["errors"][0]["field"] == "body.circumstances.disability_grade"
    async with service.client(headers=staff["city_pii"]) as client:
        assert (await client.get(f"{BASE}/persons/{read['id']}")).json()["citizen_id"] == number
    async with service.client(headers=await service.admin_headers()) as client:
        audit = (
            await client.get(f"{BASE}/audit-log", params={"entity": "person", "entity_id": read["id"]})
        ).json()
        assert audit["items"][0]["after"]["citizen_id"] == read["citizen_id"]
        assert number not in str(audit)


async def test_circumstances_are_dated_versions_with_if_match_and_idempotency(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    key = uuid.uuid4().hex
    body = person("411702", "1950-02-03", living_arrangement="with_family")
    async with service.client(headers=staff["yicheng"]) as client:
        first = await client.post(f"{BASE}/persons", json=body, headers={"Idempotency-Key": key})
        again = await client.post(f"{BASE}/persons", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        person_id, etag = first.json()["id"], first.headers["ETag"]
        change = {
            "effective_from": "2023-07-01",
            "living_arrangement": "alone",
            "reference": "入户核查 2023-06",
        }
        path = f"{BASE}/persons/{person_id}/circumstances"
        assert_problem(await client.post(path, json=change), 428)
        added = await client.post(path, json=change, headers={"If-Match": etag})
        assert added.status_code == 201, added.text
        assert added.json()["circumstances"]["living_arrangement"] == "alone"
        assert_problem(await client.post(path, json=change, headers={"If-Match": etag}), 412)
        newer = added.headers["ETag"]
        assert_problem(await client.post(path, json=change, headers={"If-Match": newer}), 409)
        between = await client.post(
            path, json={"effective_from": "2021-03-01", "dibao": True}, headers={"If-Match": newer}
        )
        assert between.status_code == 201, between.text
        versions = (await client.get(path)).json()["items"]
        assert [(v["effective_from"], v["superseded_from"]) for v in versions] == [
            ("2020-01-01", "2021-03-01"),
            ("2021-03-01", "2023-07-01"),
            ("2023-07-01", None),
        ]
        left = await client.patch(
            f"{BASE}/persons/{person_id}",
            json={"left_on": "2024-06-30", "left_reason": "迁出"},
            headers={"If-Match": between.headers["ETag"]},
        )
        assert left.status_code == 200, left.text
        assert left.json()["left_on"] == "2024-06-30"


async def test_the_register_keeps_relapse_risk_and_residence(
    service: ServiceInProcess, staff: dict[str, dict[str, str]]
) -> None:
    """农村易返贫致贫 (附件第21项) apart from 返贫致贫, and 常住居民 (附件第6项), unknown until recorded."""
    async with service.client(headers=staff["yicheng"]) as client:
        created = await client.post(
            f"{BASE}/persons", json=person("411702", "1944-05-09", at_risk_of_relapse=True)
        )
        assert created.status_code == 201, created.text
        recorded = created.json()["circumstances"]
        assert (recorded["at_risk_of_relapse"], recorded["relapsed_into_poverty"]) == (True, False)
        assert recorded["usual_resident"] is None
        person_id = created.json()["id"]
        added = await client.post(
            f"{BASE}/persons/{person_id}/circumstances",
            json={"effective_from": "2021-01-01", "usual_resident": False},
            headers={"If-Match": created.headers["ETag"]},
        )
        assert added.status_code == 201, added.text
        evaluated = await client.get(f"{BASE}/persons/{person_id}/evaluation", params={"on": "2024-03-15"})
        assert evaluated.status_code == 200, evaluated.text
        assert 6 not in {e["item"] for e in evaluated.json()["entitlements"]}  # not a 常住居民


async def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    platform: Platform,
) -> None:
    """The same key and body answer the first answer again, its ETag and Location included, and
    the citizen ID masked even for a caller who may see it in full; another body is 422 and
    changes nothing. Through the gateway: a refused request's audit row is committed apart from
    the request's own transaction, which a test rolled back in one connection cannot show."""
    writer_pii = await platform.account(
        "eldercare-pii-clerk-411702",
        scopes=["eldercare:read", "eldercare:write", "eldercare:pii"],
        jurisdictions=["411702"],
    )
    body = person("411702", "1943-04-05", living_arrangement="alone")
    number = body["citizen_id"]
    other = person("411702", "1943-04-06")
    key = uuid.uuid4().hex
    async with platform.client(headers=writer_pii) as client:
        first = await client.post(f"{BASE}/persons", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        person_id = first.json()["id"]
        assert first.headers["Location"] == f"{BASE}/persons/{person_id}"
        assert first.json()["citizen_id"] == f"{number[:4]}**********{number[-4:]}"
        again = await client.post(f"{BASE}/persons", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert number not in again.text
        assert (again.headers["ETag"], again.headers["Location"]) == (
            first.headers["ETag"],
            first.headers["Location"],
        )
        refused = assert_problem(
            await client.post(f"{BASE}/persons", json=other, headers={"Idempotency-Key": key}), 422
        )
        assert refused["errors"][0]["field"] == "header.idempotency-key"
        # the refused body registered nobody: its number is still free
        assert (await client.post(f"{BASE}/persons", json=other)).status_code == 201
        assert (await client.get(f"{BASE}/persons/{person_id}")).json()["citizen_id"] == number

        path = f"{BASE}/persons/{person_id}/circumstances"
        change = {"effective_from": "2022-05-01", "dibao": True, "reference": "入户核查 2022-04"}
        circumstances_key = uuid.uuid4().hex
        headers = {"If-Match": first.headers["ETag"], "Idempotency-Key": circumstances_key}
        added = await client.post(path, json=change, headers=headers)
        assert added.status_code == 201, added.text
        assert added.headers["ETag"] != first.headers["ETag"]
        replayed = await client.post(path, json=change, headers=headers)
        assert replayed.status_code == 201, replayed.text
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json() == added.json()
        assert number not in replayed.text
        assert replayed.headers["ETag"] == added.headers["ETag"]
        assert_problem(await client.post(path, json={**change, "dibao": False}, headers=headers), 422)
        versions = (await client.get(path)).json()
        assert [v["effective_from"] for v in versions["items"]] == ["2020-01-01", "2022-05-01"]
        change_name = {"name": "张桂芝"}
        assert_problem(await client.patch(f"{BASE}/persons/{person_id}", json=change_name), 428)
        stale = {"If-Match": first.headers["ETag"]}
        assert_problem(
            await client.patch(f"{BASE}/persons/{person_id}", json=change_name, headers=stale), 412
        )
        renamed = await client.patch(
            f"{BASE}/persons/{person_id}", json=change_name, headers={"If-Match": added.headers["ETag"]}
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.headers["ETag"] not in (first.headers["ETag"], added.headers["ETag"])
    async with platform.client(headers=await platform.admin_headers()) as client:
        audit = await client.get(f"{BASE}/audit-log", params={"entity_id": person_id, "limit": 200})
        # a replay is the first answer again, not a second write: one audit row per change
        assert sorted((row["entity"], row["action"]) for row in audit.json()["items"]) == [
            ("circumstances", "create"),
            ("person", "create"),
            ("person", "update"),
        ]
        assert number not in audit.text
