"""County catalogue overrides as dated versions (the platform's rule for dated data), and the
county lists' publication deadline (驻政办〔2023〕35号 二（一）1: 「2023年12月底前，各县区政府
（管委会）应当…制定发布本地清单」), in-process against PostgreSQL.

A new version supersedes only the open-ended version in force that started earlier; one that
overlaps an ended range, or starts on the day of the open one, is 409 naming the version it
collides with, unless it is an audited correction naming what it corrects with a reason and a
document reference; the history stays readable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from eldercare.config import Settings
from eldercare.main import create_app
from platformctl.supervisor import local_secret
from platformctl.testing import assert_problem, free_port
from shared.testing import TokenMint, app_client

BASE = "/api/eldercare/v1"
KEY = local_secret("eldercare-citizen-id.key")
ZONE = "411700-Z02"  # 经济开发区: only this module saves overrides for it
LATE = "411700-Z03"  # 高新技术产业开发区: only this module saves overrides for it
ON_TIME = "411700-Z01"  # 城乡一体化示范区: only this module saves overrides for it
ADMIN = {"scopes": ["eldercare:read", "eldercare:admin"], "jurisdictions": ["411700"]}
READER = {"scopes": ["eldercare:read"], "jurisdictions": ["411700"]}
OLD = {"birth_date": "1933-06-01"}  # 90 in March 2024: item 8's second band


def overrides(valid_from: str | None, amount: str, **extra: Any) -> dict[str, Any]:
    bands = [
        {"from_age": 80, "to_age_as_written": 90, "amount": "60.00"},
        {"from_age": 90, "to_age_as_written": 99, "amount": amount},
        {"from_age": 100, "to_age_as_written": None, "amount": "500.00"},
    ]
    body: dict[str, Any] = {
        "version": f"{valid_from}-{amount}",
        "document": "经济开发区基本养老服务清单",
        "items": {"8": {"components": {"allowance": {"amount": {"by_age": bands}}}}},
        **extra,
    }
    if valid_from is not None:
        body["valid_from"] = valid_from
    return body


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=migrated_database, citizen_id_key=KEY, welfare_url=f"http://127.0.0.1:{free_port()}"
    )
    async with app_client(create_app(settings), mint) as found:
        yield found


async def save(client: httpx.AsyncClient, mint: TokenMint, code: str, body: dict[str, Any]) -> httpx.Response:
    admin = mint.headers(**ADMIN)
    etag = (await client.get(f"{BASE}/catalogues/{code}", headers=admin)).headers["ETag"]
    return await client.put(
        f"{BASE}/catalogues/{code}/overrides", json=body, headers={**admin, "If-Match": etag}
    )


async def longevity(client: httpx.AsyncClient, mint: TokenMint, on: str) -> str:
    response = await client.post(
        f"{BASE}/evaluations",
        json={"jurisdiction": ZONE, "on": on, "person": OLD},
        headers=mint.headers(**READER),
    )
    assert response.status_code == 200, response.text
    amount: str = next(e for e in response.json()["entitlements"] if e["item"] == 8)["amount"]
    return amount


async def history(client: httpx.AsyncClient, mint: TokenMint, code: str) -> dict[int, dict[str, Any]]:
    response = await client.get(
        f"{BASE}/catalogues/{code}/overrides/versions", headers=mint.headers(**READER)
    )
    assert response.status_code == 200, response.text
    return {item["version"]: item for item in response.json()["items"]}


async def test_dated_versions_supersede_collide_and_correct(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    first = await save(client, mint, ZONE, overrides("2024-01-01", "110.00"))
    assert first.status_code == 200, first.text
    second = await save(client, mint, ZONE, overrides("2024-07-01", "120.00"))
    assert second.status_code == 200, second.text
    # each day answers from the version in force that day
    assert await longevity(client, mint, "2023-12-15") == "100.00"  # before any: the city list
    assert await longevity(client, mint, "2024-03-15") == "110.00"
    assert await longevity(client, mint, "2024-08-15") == "120.00"
    versions = await history(client, mint, ZONE)
    assert versions[1]["status"] == "superseded"
    assert versions[1]["superseded_by"] == 2
    assert (versions[1]["valid_from"], versions[1]["valid_to"]) == ("2024-01-01", None)  # as stated
    assert versions[1]["in_force"] == [{"valid_from": "2024-01-01", "valid_to": "2024-06-30"}]
    assert versions[2]["supersedes"] == 1

    # the back-dated one-day version of issue 13: inside an ended range → 409 naming version 1
    inside = await save(client, mint, ZONE, overrides("2024-03-01", "105.00", valid_to="2024-03-01"))
    problem = assert_problem(inside, 409)
    assert problem["collides_with"] == 1
    assert "version 1 of the catalogue overrides of 411700-Z02" in problem["detail"]
    assert "history is append-only" in problem["detail"]
    # starting on the day the open version took effect → 409 naming version 2
    same_day = assert_problem(await save(client, mint, ZONE, overrides("2024-07-01", "130.00")), 409)
    assert same_day["collides_with"] == 2
    # cutting the open version short → 409
    closed = await save(client, mint, ZONE, overrides("2024-09-01", "130.00", valid_to="2024-12-31"))
    assert assert_problem(closed, 409)["collides_with"] == 2
    # nothing changed
    assert await longevity(client, mint, "2024-03-01") == "110.00"
    assert sorted(await history(client, mint, ZONE)) == [1, 2]

    # a correction must name every version it overlaps
    partial = overrides(
        "2024-06-01",
        "115.00",
        valid_to="2024-07-31",
        correction={"versions": [1], "reason": "wrong band", "document_reference": "经开管〔2024〕9号"},
    )
    assert assert_problem(await save(client, mint, ZONE, partial), 409)["collides_with"] == 2
    # an audited correction of March 2024
    correction = overrides(
        "2024-03-01",
        "115.00",
        valid_to="2024-03-31",
        correction={
            "versions": [1],
            "reason": "the March amount was published wrongly",
            "document_reference": "经开管〔2024〕3号",
        },
    )
    corrected = await save(client, mint, ZONE, correction)
    assert corrected.status_code == 200, corrected.text
    assert await longevity(client, mint, "2024-03-15") == "115.00"
    assert await longevity(client, mint, "2024-02-15") == "110.00"
    assert await longevity(client, mint, "2024-04-15") == "110.00"
    versions = await history(client, mint, ZONE)
    assert versions[1]["status"] == "corrected"
    assert versions[1]["corrected_by"] == [3]
    assert versions[1]["changes"] == [
        {
            "correction": 3,
            "in_force_before": [{"valid_from": "2024-01-01", "valid_to": "2024-06-30"}],
            "in_force_after": [
                {"valid_from": "2024-01-01", "valid_to": "2024-02-29"},
                {"valid_from": "2024-04-01", "valid_to": "2024-06-30"},
            ],
        }
    ]
    assert versions[3]["corrects"] == [1]
    assert versions[3]["correction_reason"] == "the March amount was published wrongly"
    assert versions[3]["correction_reference"] == "经开管〔2024〕3号"
    audit = await client.get(
        f"{BASE}/audit-log",
        params={"entity": "catalogue_overrides", "entity_id": ZONE},
        headers=mint.headers(**ADMIN),
    )
    assert audit.status_code == 200, audit.text
    row = audit.json()["items"][0]
    assert row["action"] == "correct"
    assert row["after"]["correction"]["reason"] == "the March amount was published wrongly"
    assert row["after"]["correction"]["in_force_before"]["1"] == [
        {"valid_from": "2024-01-01", "valid_to": "2024-06-30"}
    ]
    assert len(row["after"]["correction"]["in_force_after"]["1"]) == 2


async def test_a_correction_needs_a_reason_and_a_reference(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    body = overrides("2024-03-01", "115.00", correction={"versions": [1], "reason": "x"})
    problem = assert_problem(await save(client, mint, ZONE, body), 422)
    assert problem["errors"][0]["field"] == "body.correction.document_reference"
    ended = overrides("2024-05-01", "115.00", valid_to="2024-04-01")
    assert assert_problem(await save(client, mint, ZONE, ended), 422)["errors"][0]["field"] == "body.valid_to"


async def test_two_saves_at_once_one_wins(client: httpx.AsyncClient, mint: TokenMint) -> None:
    code = "411700-Z02"
    admin = mint.headers(**ADMIN)
    etag = (await client.get(f"{BASE}/catalogues/{code}", headers=admin)).headers["ETag"]
    number = int(etag.strip('"').rsplit("-v", 1)[1])
    bodies = [overrides(f"20{30 + number}-0{month}-01", "140.00") for month in (1, 2)]
    answers = await asyncio.gather(
        *(
            client.put(f"{BASE}/catalogues/{code}/overrides", json=body, headers={**admin, "If-Match": etag})
            for body in bodies
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 412]


async def test_county_lists_against_the_deadline(client: httpx.AsyncClient, mint: TokenMint) -> None:
    """二（一）1: 「2023年12月底前，各县区政府（管委会）应当…制定发布本地清单」."""
    on_time = await save(
        client, mint, ON_TIME, {**overrides("2023-12-20", "100.00"), "document": "示范区清单"}
    )
    assert on_time.status_code == 200, on_time.text
    late = await save(client, mint, LATE, {**overrides("2024-02-01", "100.00"), "document": "高新区清单"})
    assert late.status_code == 200, late.text
    reader = mint.headers(**READER)

    before = await client.get(
        f"{BASE}/catalogues/411700/county-lists", params={"on": "2023-12-31"}, headers=reader
    )
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["due_by"] == "2023-12-31"
    assert body["text"].startswith("2023年12月底前")
    assert body["past_deadline"] is False
    assert body["without_list"] == []
    counties = {c["jurisdiction"]: c for c in body["counties"]}
    assert {"411702", "411721", "411729", ON_TIME, LATE} <= set(counties)  # 县区 and 管委会
    assert counties[ON_TIME]["published"] is True
    assert counties[ON_TIME]["on_time"] is True
    assert counties[LATE]["published"] is False
    assert counties[LATE]["on_time"] is False  # its list starts after the deadline

    after = await client.get(
        f"{BASE}/catalogues/411700/county-lists", params={"on": "2024-01-15"}, headers=reader
    )
    body = after.json()
    assert body["past_deadline"] is True
    assert LATE in body["without_list"]
    assert ON_TIME not in body["without_list"]
    later = await client.get(
        f"{BASE}/catalogues/411700/county-lists", params={"on": "2024-03-01"}, headers=reader
    )
    counties = {c["jurisdiction"]: c for c in later.json()["counties"]}
    assert counties[LATE] == {
        "jurisdiction": LATE,
        "name": counties[LATE]["name"],
        "first_published_on": "2024-02-01",
        "published": True,
        "on_time": False,
    }
    one = await client.get(
        f"{BASE}/catalogues/{LATE}/county-lists", params={"on": "2024-03-01"}, headers=reader
    )
    assert [c["jurisdiction"] for c in one.json()["counties"]] == [LATE]
    assert_problem(await client.get(f"{BASE}/catalogues/211100/county-lists", headers=reader), 404)


async def test_the_city_catalogues_versions_are_readable(client: httpx.AsyncClient, mint: TokenMint) -> None:
    reader = mint.headers(**READER)
    versions = await client.get(f"{BASE}/catalogues/411702/versions", headers=reader)
    assert versions.status_code == 200, versions.text
    (first,) = versions.json()["items"]
    assert (first["city"], first["version"], first["valid_from"], first["status"]) == (
        "411700",
        1,
        "2023-12-08",
        "in_force",
    )
    catalogue = (await client.get(f"{BASE}/catalogues/411700", headers=reader)).json()
    assert catalogue["validity"]["number"] == 1
    before = await client.get(f"{BASE}/catalogues/411700", params={"on": "2023-12-07"}, headers=reader)
    assert (
        "No version of the catalogue of 411700 is in force on 2023-12-07"
        in assert_problem(before, 404)["detail"]
    )
    early = await client.post(
        f"{BASE}/evaluations",
        json={"jurisdiction": "411702", "on": "2023-11-15", "person": {"birth_date": "1933-06-01"}},
        headers=reader,
    )
    assert assert_problem(early, 422)["errors"][0]["field"] == "body.jurisdiction"
