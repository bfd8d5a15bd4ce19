"""Updates under concurrency (in-process, real PostgreSQL): eight PATCHes of one record sent at
once with the same If-Match: exactly one wins (200), the others see the new version (412),
and the record holds the winner's change — no lost update. And a body is checked before the
record it names is looked up (422 before 404)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from appraisal.config import Settings
from appraisal.main import create_app
from shared.testing import TokenMint, app_client

BASE = "/api/appraisal/v1"
COPIES = 8


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=migrated_database, db_pool_size=COPIES + 2))
    async with app_client(app, mint) as client:
        yield client


def staff(mint: TokenMint) -> dict[str, str]:
    return mint.headers(scopes=["appraisal:read", "appraisal:write"], jurisdictions=["411700"], subject="zmd")


def county(mint: TokenMint, code: str) -> dict[str, str]:
    return mint.headers(scopes=["appraisal:read", "appraisal:write"], jurisdictions=[code], subject=code)


async def ok(response: Any, status: int = 200) -> Any:
    answer = await response
    assert answer.status_code == status, answer.text
    return answer


async def race(
    client: httpx.AsyncClient, url: str, etag: str, bodies: list[dict[str, Any]], headers: Any
) -> Counter[int]:
    answers = await asyncio.gather(
        *(
            client.patch(
                url, params={"scheme": "zhumadian"}, json=body, headers={**headers, "If-Match": etag}
            )
            for body in bodies
        )
    )
    assert all(answer.status_code in (200, 412) for answer in answers), [a.text for a in answers]
    return Counter(answer.status_code for answer in answers)


async def test_one_of_eight_concurrent_updates_wins_each_record(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    city = staff(mint)
    year = 2131
    years = f"{BASE}/years/{year}"
    opened = await ok(
        client.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": year}, headers=city), 201
    )

    # the year's caps
    bodies = [{"ad_hoc_cap": str(index + 1)} for index in range(COPIES)]
    counts = await race(client, years, opened.headers["ETag"], bodies, city)
    assert counts == {200: 1, 412: COPIES - 1}
    read = (await ok(client.get(years, params={"scheme": "zhumadian"}, headers=city))).json()
    assert read["version"] == 2

    # a subject
    subject = await ok(client.get(f"{years}/subjects/411721", params={"scheme": "zhumadian"}, headers=city))
    bodies = [{"outstanding_note": f"note {index}"} for index in range(COPIES)]
    counts = await race(client, f"{years}/subjects/411721", subject.headers["ETag"], bodies, city)
    assert counts == {200: 1, 412: COPIES - 1}
    assert (
        await ok(client.get(f"{years}/subjects/411721", params={"scheme": "zhumadian"}, headers=city))
    ).json()["version"] == subject.json()["version"] + 1

    # a score entry
    await ok(
        client.post(
            f"{years}/indicators",
            params={"scheme": "zhumadian"},
            json={
                "code": "basic",
                "name": "基础工作",
                "content_area": 1,
                "max_points": 60,
                "department": "市市场监管局",
            },
            headers=city,
        ),
        201,
    )
    entry = await ok(
        client.post(
            f"{years}/score-entries",
            params={"scheme": "zhumadian"},
            json={"subject": "411721", "indicator": "basic", "points": 50, "method": "materials_review"},
            headers=city,
        ),
        201,
    )
    url = f"{years}/score-entries/{entry.json()['id']}"
    counts = await race(
        client, url, entry.headers["ETag"], [{"points": index + 1} for index in range(COPIES)], city
    )
    assert counts == {200: 1, 412: COPIES - 1}
    assert (await ok(client.get(url, params={"scheme": "zhumadian"}, headers=city))).json()["version"] == 2

    # the county's self-evaluation
    for stage in ("mid_year_review", "status_evaluation", "self_evaluation"):
        await ok(
            client.post(
                f"{years}/transitions", params={"scheme": "zhumadian"}, json={"to": stage}, headers=city
            ),
            201,
        )
    own = county(mint, "411721")
    submitted = await ok(
        client.post(
            f"{years}/subjects/411721/self-evaluation",
            params={"scheme": "zhumadian"},
            json={"statement": "自评"},
            headers=own,
        ),
        201,
    )
    url = f"{years}/subjects/411721/self-evaluation"
    counts = await race(
        client, url, submitted.headers["ETag"], [{"statement": f"第{i}稿"} for i in range(COPIES)], own
    )
    assert counts == {200: 1, 412: COPIES - 1}
    assert (await ok(client.get(url, params={"scheme": "zhumadian"}, headers=own))).json()["version"] == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/years/2999", {"ad_hoc_cap": "many"}),
        ("post", "/years/2999/subjects", {"code": "x", "name": "y", "city": "411700"}),
        ("post", "/years/2999/indicators", {"code": "x"}),
        ("post", "/years/2999/score-entries", {"subject": "411721"}),
        ("patch", "/years/2999/subjects/411721", {"version": 3}),
        ("post", "/years/2999/subjects/411721/transitions", {"to": "nowhere"}),
        ("post", "/years/2999/subjects/411721/adjustments", {"component": "bonus"}),
        ("post", "/years/2999/evaluation", {"note": 5}),
    ],
)
async def test_a_malformed_body_is_refused_before_the_year_is_looked_up(
    client: httpx.AsyncClient, mint: TokenMint, method: str, path: str, body: dict[str, Any]
) -> None:
    """No year 2999 is open: the body's problem is still what the answer names."""
    response = await client.request(method, f"{BASE}{path}", json=body, headers=staff(mint))
    assert response.status_code == 422, response.text
    assert all(error["field"].startswith("body") for error in response.json()["errors"])


async def test_a_malformed_upload_is_refused_before_the_year_is_looked_up(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    response = await client.post(
        f"{BASE}/years/2999/subjects/411721/evidence",
        files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        data={"purpose": "decoration"},
        headers=staff(mint),
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["body.purpose"]
    well_formed = await client.post(
        f"{BASE}/years/2999/subjects/411721/evidence",
        files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=staff(mint),
    )
    assert well_formed.status_code == 404, well_formed.text


async def test_eight_concurrent_creates_of_one_record_give_one_201_and_seven_409(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """Without an Idempotency-Key, twins collide on the record's natural key: 409, never 500."""
    city = staff(mint)
    opened = await asyncio.gather(
        *(
            client.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": 2132}, headers=city)
            for _ in range(COPIES)
        )
    )
    assert Counter(answer.status_code for answer in opened) == {201: 1, 409: COPIES - 1}
    departments = await asyncio.gather(
        *(
            client.post(
                f"{BASE}/years/2132/subjects",
                params={"scheme": "zhumadian"},
                json={"code": "wsjkw", "name": "市卫生健康委"},
                headers=city,
            )
            for _ in range(COPIES)
        )
    )
    assert Counter(answer.status_code for answer in departments) == {201: 1, 409: COPIES - 1}
    listed = (
        await client.get(f"{BASE}/years/2132/subjects", params={"scheme": "zhumadian"}, headers=city)
    ).json()
    assert [item["code"] for item in listed["items"]].count("wsjkw") == 1
    keyed = {**city, "Idempotency-Key": "open-2132-indicator"}
    body = {
        "code": "basic",
        "name": "基础工作",
        "content_area": 1,
        "max_points": 60,
        "department": "市市场监管局",
    }
    first = await client.post(f"{BASE}/years/2132/indicators", json=body, headers=keyed)
    again = await client.post(f"{BASE}/years/2132/indicators", json=body, headers=keyed)
    other = await client.post(f"{BASE}/years/2132/indicators", json={**body, "max_points": 50}, headers=keyed)
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
