"""The evaluation contract, in process: welfare down, welfare with a standard, bad profiles; a
registered person's evaluation with dibao status from welfare, or from the register when
welfare cannot answer."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from eldercare.config import Settings
from eldercare.main import create_app
from platformctl.supervisor import local_secret
from platformctl.testing import assert_problem, free_port
from shared.errors import PackError
from shared.testing import TokenMint, app_client

BASE = "/api/eldercare/v1"
PACK = Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml"
KEY = local_secret("eldercare-citizen-id.key")  # the key the platform processes use too
READER = {"scopes": ["eldercare:read", "welfare:read"], "jurisdictions": ["411700"]}
TEKUN = {"birth_date": "1950-05-01", "tekun": "dispersed", "ability_level": 0}


def evaluation(
    person: dict[str, Any], jurisdiction: str = "411702", on: str = "2024-03-15"
) -> dict[str, Any]:
    return {"jurisdiction": jurisdiction, "on": on, "person": person}


def entitlement(body: dict[str, Any], item: int) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in body["entitlements"] if e["item"] == item]
    assert found, f"item {item} not in {[e['item'] for e in body['entitlements']]}"
    return found[0]


@pytest.fixture
async def closed_welfare(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    """The service with its welfare URL pointing at a port nobody listens on."""
    settings = Settings(
        database_url=migrated_database,
        citizen_id_key=KEY,
        welfare_url=f"http://127.0.0.1:{free_port()}",
        dibao_status_source="welfare",
    )
    async with app_client(create_app(settings), mint) as client:
        yield client


async def test_welfare_down_degrades_item_13_and_the_evaluation_still_answers(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await closed_welfare.post(
        f"{BASE}/evaluations", json=evaluation(TEKUN), headers=mint.headers(**READER)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    item = entitlement(body, 13)
    assert item["amount"] is None
    basic = next(c for c in item["components"] if c["key"] == "basic_living")
    assert basic["amount"] is None
    assert "dibao standard unavailable: the welfare service is unreachable" in basic["degraded"]
    care = next(c for c in item["components"] if c["key"] == "care")
    assert care["amount"] == "75.00"  # 全自理: the severe-disability nursing subsidy standard
    assert body["monthly_total_complete"] is False
    assert any(line.startswith("item 13 特困老年人分散供养") for line in body["degraded"])


async def test_a_person_outside_item_13_never_asks_welfare(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await closed_welfare.post(
        f"{BASE}/evaluations",
        json=evaluation({"birth_date": "1933-06-01", "dibao": True}),
        headers=mint.headers(**READER),
    )
    assert response.status_code == 200, response.text
    assert response.json()["degraded"] == []
    assert response.json()["monthly_total_complete"] is True


async def test_item_13_with_the_standard_from_welfare(migrated_database: str, mint: TokenMint) -> None:
    asked: list[httpx.Request] = []

    def welfare(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json={"jurisdiction": "411702", "dibao": "600.00", "warnings": []})

    app = create_app(Settings(database_url=migrated_database, citizen_id_key=KEY))
    async with app_client(app, mint) as client:
        app.state.welfare.client = httpx.AsyncClient(
            transport=httpx.MockTransport(welfare), base_url="http://welfare.test"
        )
        headers = mint.headers(**READER)
        for _ in range(3):
            response = await client.post(f"{BASE}/evaluations", json=evaluation(TEKUN), headers=headers)
            assert response.status_code == 200, response.text
    item = entitlement(response.json(), 13)
    basic = next(c for c in item["components"] if c["key"] == "basic_living")
    assert basic["amount"] == "780.00"  # 1.3 × 600.00 (附件第13项)
    assert item["amount"] == "855.00"  # + 75.00 care, self-care level
    assert len(asked) == 1, "the standard is kept per (jurisdiction, month)"
    assert asked[0].url.params["jurisdiction"] == "411702"
    assert asked[0].url.params["on"] == "2024-03-01"
    assert asked[0].headers["authorization"] == headers["Authorization"]


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"birth_date": "1940-01-01", "ability_level": 7}, "body.person.ability_level"),
        ({"birth_date": "1940-01-01", "ability_level": True}, "body.person.ability_level"),
        ({"birth_date": "1940-02-30"}, "body.person.birth_date"),
        ({"birth_date": "2024-03-16"}, "body.person.birth_date"),
        ({"birth_date": "1899-12-31"}, "body.person.birth_date"),
        ({"birth_date": 0}, "body.person.birth_date"),
        ({"birth_date": "1940-01-01", "tekun": "yes"}, "body.person.tekun"),
        ({"birth_date": "1940-01-01", "dibao": "true"}, "body.person.dibao"),
        ({"birth_date": "1940-01-01", "in_dibao": True}, "body.person.in_dibao"),
        (
            {"birth_date": "1940-01-01", "disability_grade": 1, "has_disability_certificate": False},
            "body.person.disability_grade",
        ),
        ({"sex": "male"}, "body.person.birth_date"),
    ],
)
async def test_bad_profiles_name_the_field(
    closed_welfare: httpx.AsyncClient, mint: TokenMint, person: dict[str, Any], field: str
) -> None:
    response = await closed_welfare.post(
        f"{BASE}/evaluations", json=evaluation(person), headers=mint.headers(**READER)
    )
    problem = assert_problem(response, 422)
    assert any(error["field"] == field for error in problem["errors"]), problem


async def test_a_place_without_a_catalogue_is_refused(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await closed_welfare.post(
        f"{BASE}/evaluations",
        json=evaluation({"birth_date": "1940-01-01"}, jurisdiction="211102"),
        headers=mint.headers(**READER),
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "body.jurisdiction"


async def test_a_bad_pack_stops_the_start(migrated_database: str, mint: TokenMint, tmp_path: Path) -> None:
    text = PACK.read_text(encoding="utf-8").replace("service_type: 物质帮助", "service_type: 物资帮助", 1)
    (tmp_path / PACK.name).write_text(text, encoding="utf-8")
    app = create_app(Settings(database_url=migrated_database, citizen_id_key=KEY, packs_dir=tmp_path))
    with pytest.raises(PackError) as caught:
        async with app_client(app, mint):
            pass
    assert caught.value.file == PACK.name
    assert caught.value.field == "items.1.service_type"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, migrated_database: str) -> None:
    monkeypatch.setenv("ELDERCARE_INTERPRETATIONS__AGE_ALLOWANCE_STARTS", "birthday_month")
    monkeypatch.setenv("ELDERCARE_INTERPRETATIONS__ELDERLY_AGE", "65")
    monkeypatch.setenv("ELDERCARE_WELFARE_URL", "http://welfare.internal:8002")
    monkeypatch.setenv("ELDERCARE_CITIZEN_ID_KEY", KEY)
    settings = Settings(database_url=migrated_database)
    assert settings.interpretations.age_allowance_starts == "birthday_month"
    assert settings.interpretations.elderly_age == 65
    assert settings.welfare_url == "http://welfare.internal:8002"
    monkeypatch.delenv("ELDERCARE_CITIZEN_ID_KEY")
    with pytest.raises(ValidationError, match="citizen_id_key"):
        Settings(database_url=migrated_database)


async def test_a_county_without_overrides_has_the_city_list(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await closed_welfare.get(f"{BASE}/catalogues/411728", headers=mint.headers(**READER))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["jurisdiction"], body["based_on"], body["overrides_version"]) == ("411728", "411700", 0)
    assert response.headers["ETag"] == '"411728-v0"'
    assert [item["number"] for item in body["items"]] == list(range(1, 26))
    assert all(item["citation"]["document"] == "驻政办〔2023〕35号" for item in body["items"])
    city = (await closed_welfare.get(f"{BASE}/catalogues/411700", headers=mint.headers(**READER))).json()
    assert (city["jurisdiction"], city["based_on"]) == ("411700", None)


REGISTER_COUNTY = "411729"  # 新蔡县: only the tests below register persons there
CLERK = {"scopes": ["eldercare:read", "eldercare:write", "welfare:read"], "jurisdictions": [REGISTER_COUNTY]}


def citizen_id(birth: str) -> str:
    body = f"{REGISTER_COUNTY}{birth.replace('-', '')}{secrets.randbelow(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


async def register(
    client: httpx.AsyncClient, mint: TokenMint, birth: str, **circumstances: Any
) -> tuple[str, str]:
    """Register a person in the county; returns (person id, citizen ID number)."""
    number = citizen_id(birth)
    response = await client.post(
        f"{BASE}/persons",
        json={
            "jurisdiction": REGISTER_COUNTY,
            "name": "测试老人",
            "citizen_id": number,
            "circumstances": {"effective_from": "2020-01-01", **circumstances},
        },
        headers=mint.headers(**CLERK),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], number


def welfare_answering(
    asked: list[httpx.Request], lookup: Callable[[dict[str, Any]], dict[str, Any]]
) -> httpx.AsyncClient:
    """A welfare service that answers the enrolment lookup with ``lookup(request body)``."""

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/api/welfare/v1/enrolment-lookups":
            return httpx.Response(200, json=lookup(json.loads(request.content)))
        return httpx.Response(200, json={"jurisdiction": REGISTER_COUNTY, "dibao": "600.00", "warnings": []})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://welfare.test")


def in_dibao(enrolment_id: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def lookup(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "citizen_id": "masked",
            "on": body["on"],
            "month": body["on"][:7],
            "person_id": str(uuid.uuid4()),
            "dibao": True,
            "enrolments": [{"enrolment_id": enrolment_id, "program": "dibao", "status": "active"}],
        }

    return lookup


def nobody(body: dict[str, Any]) -> dict[str, Any]:
    return {"citizen_id": "masked", "on": body["on"], "person_id": None, "dibao": False, "enrolments": []}


def step(body: dict[str, Any], item: int) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["trace"] if s["item"] == item)
    return found


async def test_a_registered_person_in_dibao_in_welfare(migrated_database: str, mint: TokenMint) -> None:
    asked: list[httpx.Request] = []
    enrolment_id = str(uuid.uuid4())
    app = create_app(
        Settings(database_url=migrated_database, citizen_id_key=KEY, dibao_status_source="welfare")
    )
    async with app_client(app, mint) as client:
        person_id, number = await register(client, mint, "1940-02-10", dibao=False)
        app.state.welfare.client = welfare_answering(asked, in_dibao(enrolment_id))
        headers = mint.headers(**CLERK)
        response = await client.get(
            f"{BASE}/persons/{person_id}/evaluation", params={"on": "2024-03-15"}, headers=headers
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dibao_status"] == {
        "value": True,
        "source": "welfare",
        "enrolment_id": enrolment_id,
        "register_value": False,
        "note": f"dibao: true from the welfare service (enrolment {enrolment_id} in force in 2024-03); "
        "the register records dibao: false, the welfare service decides",
        "tekun": None,
        "projection": None,
    }
    assert (body["person_id"], body["jurisdiction"], body["age"]) == (person_id, REGISTER_COUNTY, 84)
    assert body["citizen_id"] == f"{number[:4]}**********{number[-4:]}"
    assert body["circumstances_from"] == "2020-01-01"
    assert [e["item"] for e in body["entitlements"] if e["item"] in (9, 11, 21)] == [9, 11, 21]
    assert entitlement(body, 11)["amount"] == "60.00"
    assert entitlement(body, 8)["amount"] == "60.00"
    assert body["monthly_total"] == "120.00"  # 60.00 高龄津贴 + 60.00 养老服务补贴
    assert body["degraded"] == []
    assert body["dibao_status"]["note"] in step(body, 9)["notes"]
    lookups = [r for r in asked if r.url.path == "/api/welfare/v1/enrolment-lookups"]
    assert len(lookups) == 1
    assert lookups[0].method == "POST"
    assert json.loads(lookups[0].content) == {"citizen_id": number, "on": "2024-03-15"}
    assert number not in str(lookups[0].url)  # in the body only
    assert lookups[0].headers["authorization"] == headers["Authorization"]


async def test_welfare_not_knowing_the_person_decides_against_the_register(
    migrated_database: str, mint: TokenMint
) -> None:
    asked: list[httpx.Request] = []
    app = create_app(
        Settings(database_url=migrated_database, citizen_id_key=KEY, dibao_status_source="welfare")
    )
    async with app_client(app, mint) as client:
        person_id, _ = await register(client, mint, "1941-07-01", dibao=True)
        app.state.welfare.client = welfare_answering(asked, nobody)
        response = await client.get(
            f"{BASE}/persons/{person_id}/evaluation",
            params={"on": "2024-03-15"},
            headers=mint.headers(**CLERK),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["dibao_status"]["value"], body["dibao_status"]["source"]) == (False, "welfare")
    assert body["dibao_status"]["register_value"] is True
    assert (
        "no person with this citizen ID number in the welfare register of your area"
        in (body["dibao_status"]["note"])
    )
    assert not {9, 11, 21} & {e["item"] for e in body["entitlements"]}
    assert step(body, 9)["matched"] is False


async def test_welfare_down_falls_back_to_the_register_and_says_so(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    person_id, _ = await register(closed_welfare, mint, "1942-05-05", dibao=True)
    response = await closed_welfare.get(
        f"{BASE}/persons/{person_id}/evaluation", params={"on": "2024-03-15"}, headers=mint.headers(**CLERK)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    status = body["dibao_status"]
    assert (status["value"], status["source"], status["enrolment_id"]) == (True, "register", None)
    assert status["note"].startswith("dibao: true as the register records it, because the welfare service is")
    assert any(
        line.startswith("dibao status from the register, not the welfare service: the welfare service is")
        for line in body["degraded"]
    ), body["degraded"]
    assert entitlement(body, 11)["amount"] == "60.00"
    assert status["note"] in step(body, 11)["notes"]


async def test_a_caller_without_welfare_read_gets_the_register_flag_degraded(
    migrated_database: str, mint: TokenMint
) -> None:
    app = create_app(
        Settings(database_url=migrated_database, citizen_id_key=KEY, dibao_status_source="welfare")
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": 403})

    async with app_client(app, mint) as client:
        person_id, _ = await register(client, mint, "1943-01-20", dibao=False)
        app.state.welfare.client = httpx.AsyncClient(
            transport=httpx.MockTransport(refuse), base_url="http://welfare.test"
        )
        response = await client.get(
            f"{BASE}/persons/{person_id}/evaluation",
            params={"on": "2024-03-15"},
            headers=mint.headers(scopes=["eldercare:read"], jurisdictions=[REGISTER_COUNTY]),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["dibao_status"]["value"], body["dibao_status"]["source"]) == (False, "register")
    assert (
        "dibao status from the register, not the welfare service: the welfare service refused the caller "
        "(403); reading dibao status needs the scope welfare:read"
    ) in body["degraded"]


async def test_the_register_setting_never_asks_welfare(migrated_database: str, mint: TokenMint) -> None:
    asked: list[httpx.Request] = []
    settings = Settings(database_url=migrated_database, citizen_id_key=KEY, dibao_status_source="register")
    app = create_app(settings)
    async with app_client(app, mint) as client:
        person_id, _ = await register(client, mint, "1944-09-09", dibao=True)
        app.state.welfare.client = welfare_answering(asked, nobody)
        response = await client.get(
            f"{BASE}/persons/{person_id}/evaluation",
            params={"on": "2024-03-15"},
            headers=mint.headers(**CLERK),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dibao_status"] == {
        "value": True,
        "source": "register",
        "enrolment_id": None,
        "register_value": True,
        "note": "dibao: true as the register records it (setting dibao_status_source: register)",
        "tekun": None,
        "projection": None,
    }
    assert body["degraded"] == []
    assert 9 in {e["item"] for e in body["entitlements"]}
    assert asked == []


async def test_a_registered_persons_evaluation_is_checked(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    person_id, _ = await register(closed_welfare, mint, "1945-03-03")
    path = f"{BASE}/persons/{person_id}/evaluation"
    elsewhere = mint.headers(scopes=["eldercare:read", "welfare:read"], jurisdictions=["411721"])
    assert_problem(await closed_welfare.get(path, params={"on": "2024-03-15"}, headers=elsewhere), 404)
    headers = mint.headers(**CLERK)
    assert_problem(
        await closed_welfare.get(f"{BASE}/persons/{uuid.uuid4()}/evaluation", headers=headers), 404
    )
    for on in ("1945-03-02", "2019-12-31"):  # before the birth date; before the first circumstances
        problem = assert_problem(await closed_welfare.get(path, params={"on": on}, headers=headers), 422)
        assert problem["errors"][0]["field"] == "query.on", problem
    assert_problem(await closed_welfare.get(path, params={"on": "2024-02-30"}, headers=headers), 422)
    today = await closed_welfare.get(path, headers=headers)
    assert today.status_code == 200, today.text


async def test_relapse_risk_and_residence_through_the_api(
    closed_welfare: httpx.AsyncClient, mint: TokenMint
) -> None:
    """附件第21项 「农村易返贫致贫人口资助参保标准按照…政策规定执行」 and 第6项 「辖区内65周岁及以上常住居民」
    as the contract's person fields: at_risk_of_relapse and usual_resident (default unknown)."""
    headers = mint.headers(**READER)
    at_risk = await closed_welfare.post(
        f"{BASE}/evaluations",
        json=evaluation({"birth_date": "1950-01-01", "at_risk_of_relapse": True}),
        headers=headers,
    )
    assert at_risk.status_code == 200, at_risk.text
    medical = entitlement(at_risk.json(), 21)
    assert medical["amount"] is None
    assert any("no amount is given" in note for note in medical["notes"])
    unknown = entitlement(at_risk.json(), 6)
    assert unknown["facts"]["usual_resident"] is None
    assert any("常住居民 not checked" in note for note in unknown["notes"])
    away = await closed_welfare.post(
        f"{BASE}/evaluations",
        json=evaluation({"birth_date": "1950-01-01", "usual_resident": False}),
        headers=headers,
    )
    assert 6 not in {e["item"] for e in away.json()["entitlements"]}
    wrong = await closed_welfare.post(
        f"{BASE}/evaluations",
        json=evaluation({"birth_date": "1950-01-01", "usual_resident": "yes"}),
        headers=headers,
    )
    assert assert_problem(wrong, 422)["errors"][0]["field"].endswith("usual_resident")
