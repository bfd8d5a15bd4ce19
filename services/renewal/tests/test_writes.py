"""Every renewal write goes the platform's one way (through the gateway, with real tokens):
an audit row (actor, request id, jurisdiction, before/after), Idempotency-Key (same key and
body → the same answer, once; same key and another body → 422), a unique key hit by a
concurrent request → 409, compare-and-set on the version → 412, never a 500 for a race."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from platformctl.testing import Platform, assert_problem
from shared.settings import async_database_url

BASE = "/api/renewal/v1"
PLAN = "panjin-2024-equipment-renewal"
RW = ["renewal:read", "renewal:write"]
CONCURRENT = 8


@pytest.fixture(scope="module")
async def users(platform: Platform) -> dict[str, dict[str, str]]:
    return {
        "admin": await platform.account(
            "writes-city-admin", scopes=[*RW, "renewal:admin"], jurisdictions=["211100"]
        ),
        # 盘政发〔2024〕4号 二（二）12 牵头单位：市住房城乡建设局
        "housing": await platform.account(
            "writes-housing", scopes=RW, units=["市住房城乡建设局"], jurisdictions=["211100"]
        ),
    }


async def audit_rows(client: httpx.AsyncClient, entity: str, entity_id: str) -> list[dict[str, Any]]:
    answer = await client.get(f"{BASE}/audit-log", params={"entity": entity, "entity_id": entity_id})
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["items"]
    return rows


@pytest.mark.parametrize(
    ("path", "entity", "body", "other_body"),
    [
        (
            "duties",
            "reporting_duty",
            # 盘政发〔2024〕4号 二（二）14 牵头单位：市住房城乡建设局
            {
                "task_number": 14,
                "unit": "市住房城乡建设局",
                "cadence": "monthly",
                "starts": "2025-01-01",
                "due_day": 8,
            },
            {
                "task_number": 14,
                "unit": "市住房城乡建设局",
                "cadence": "monthly",
                "starts": "2025-01-01",
                "due_day": 9,
            },
        ),
        (
            "leader-absences",
            "leader_absence",
            {"leader": "贾洪琳", "away_from": "2032-05-01", "away_to": "2032-05-03", "reason": "学习培训"},
            {"leader": "贾洪琳", "away_from": "2032-05-01", "away_to": "2032-05-04", "reason": "学习培训"},
        ),
    ],
)
async def test_a_write_is_audited_and_idempotent(
    platform: Platform,
    users: dict[str, dict[str, str]],
    path: str,
    entity: str,
    body: dict[str, Any],
    other_body: dict[str, Any],
) -> None:
    key = {"Idempotency-Key": f"writes-{uuid.uuid4()}"}
    async with platform.client(headers=users["admin"]) as client:
        first = await client.post(f"{BASE}/plans/{PLAN}/{path}", json=body, headers=key)
        assert first.status_code == 201, first.text
        again = await client.post(f"{BASE}/plans/{PLAN}/{path}", json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
        assert_problem(await client.post(f"{BASE}/plans/{PLAN}/{path}", json=other_body, headers=key), 422)
        (row,) = await audit_rows(client, entity, first.json()["id"])
        assert (row["actor"], row["action"], row["jurisdiction"]) == ("writes-city-admin", "create", "211100")
        assert row["request_id"]
        assert row["before"] is None
        assert {k: row["after"][k] for k in body if k in row["after"]} == {
            k: v for k, v in body.items() if k in row["after"]
        }


async def test_concurrent_identical_duties_make_one(
    platform: Platform, users: dict[str, dict[str, str]]
) -> None:
    # 盘政发〔2024〕4号 二（二）15 牵头单位：市住房城乡建设局
    duty = {
        "task_number": 15,
        "unit": "市住房城乡建设局",
        "cadence": "quarterly",
        "starts": "2025-01-01",
        "due_day": 15,
    }
    async with platform.client(headers=users["admin"]) as client:
        answers = await asyncio.gather(
            *(client.post(f"{BASE}/plans/{PLAN}/duties", json=duty) for _ in range(CONCURRENT))
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [409] * (CONCURRENT - 1), [a.text for a in answers]
        for answer in answers:
            if answer.status_code == 409:
                assert_problem(answer, 409)
        duties = (await client.get(f"{BASE}/plans/{PLAN}/duties")).json()["items"]
        assert len([d for d in duties if (d["task_number"], d["unit"]) == (15, "市住房城乡建设局")]) == 1


async def test_concurrent_submissions_each_make_a_version(
    platform: Platform, users: dict[str, dict[str, str]]
) -> None:
    report = {"period": "2025-04", "narrative": "供热设施设备更新改造进展"}
    async with platform.client(headers=users["housing"]) as client:
        answers = await asyncio.gather(
            *(client.post(f"{BASE}/plans/{PLAN}/tasks/12/reports", json=report) for _ in range(CONCURRENT))
        )
        assert [a.status_code for a in answers] == [201] * CONCURRENT, [a.text for a in answers]
        assert sorted(a.json()["version"] for a in answers) == list(range(1, CONCURRENT + 1))


async def test_concurrent_reviews_with_one_etag_change_the_report_once(
    platform: Platform, users: dict[str, dict[str, str]], migrated_database: str
) -> None:
    async with platform.client(headers=users["housing"]) as client:
        filed = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/12/reports", json={"period": "2025-05", "narrative": "换热器改造"}
        )
        assert filed.status_code == 201, filed.text
        review = f"{BASE}/plans/{PLAN}/tasks/12/reports/{filed.json()['id']}/review"
        answers = await asyncio.gather(
            *(
                client.post(review, json={"decision": "accept"}, headers={"If-Match": filed.headers["ETag"]})
                for _ in range(CONCURRENT)
            )
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] + [412] * (CONCURRENT - 1), [a.text for a in answers]
    async with platform.client(headers=users["admin"]) as admin:
        rows = await audit_rows(admin, "progress_report", filed.json()["id"])
        assert sorted(r["action"] for r in rows) == ["accept", "submit"]
        assert {r["jurisdiction"] for r in rows} == {"211100"}
    # each change left its event in the outbox, in its own transaction (integration.md: report
    # submitted / accepted)
    engine = create_async_engine(async_database_url(migrated_database))
    try:
        async with engine.connect() as connection:
            events = (
                await connection.execute(
                    text(
                        "SELECT type, jurisdiction, data FROM renewal.outbox WHERE subject = :subject ORDER BY sequence"
                    ),
                    {"subject": filed.headers["Location"]},
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(e.type, e.jurisdiction) for e in events] == [
        ("civic.renewal.report.submitted", "211100"),
        ("civic.renewal.report.accepted", "211100"),
    ]
    assert events[1].data["review_status"] == "accepted"
