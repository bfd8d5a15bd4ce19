"""``rectification.overdue`` comes from the scheduler: once per subject and publication when
the written report is not in by its due day (Panjin art. 11), never for a subject that
reported, whichever replica or round gets there; in the feed over the subject's jurisdiction.
"Today" is set, never waited for."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appraisal.config import Settings
from appraisal.main import create_app
from shared.events.scheduler import Scheduler
from shared.testing import TokenMint, app_client

BASE = "/api/appraisal/v1"
PACKS = Path(__file__).resolve().parents[1] / "packs"
YEAR = 2011
STAGES = [
    "mid_year_review",
    "status_evaluation",
    "self_evaluation",
    "department_review",
    "comprehensive_evaluation",
]


@pytest.fixture
async def service(
    quiet_database: str, mint: TokenMint, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The packs with Panjin valid from 2000, so that a year long past can be published."""
    for name in ("panjin", "zhumadian"):
        text = (PACKS / f"{name}.yaml").read_text(encoding="utf-8")
        (tmp_path / f"{name}.yaml").write_text(
            text.replace("valid_from: 2024-06-26", "valid_from: 2000-01-01"), encoding="utf-8"
        )
    app = create_app(
        Settings(
            database_url=quiet_database,
            packs_dir=tmp_path,
            scheduler=False,
            scheduler_today=dt.date(YEAR + 1, 2, 20),
        )
    )
    async with app_client(app, mint) as client:
        yield app, client


def headers(mint: TokenMint, code: str, *scopes: str) -> dict[str, str]:
    return mint.headers(scopes=list(scopes), jurisdictions=[code], subject=f"user-{code}")


async def ok(answer: Any, status: int = 201) -> Any:
    response = await answer
    assert response.status_code == status, response.text
    return response.json()


async def publish(client: httpx.AsyncClient, city: dict[str, str]) -> None:
    params = {"scheme": "panjin"}
    await ok(client.post(f"{BASE}/years", json={"scheme": "panjin", "year": YEAR}, headers=city))
    await ok(
        client.post(
            f"{BASE}/years/{YEAR}/indicators",
            params=params,
            json={
                "code": "basic",
                "name": "食品安全基础工作",
                "content_area": 1,
                "max_points": 100,
                "department": "市市场监管局",
            },
            headers=city,
        )
    )
    for code, points in {"211102": "90", "211103": "85", "211104": "80", "211122": "70"}.items():
        await ok(
            client.post(
                f"{BASE}/years/{YEAR}/score-entries",
                params=params,
                json={"subject": code, "indicator": "basic", "points": points, "method": "materials_review"},
                headers=city,
            )
        )
    for stage in STAGES:
        await ok(
            client.post(f"{BASE}/years/{YEAR}/transitions", params=params, json={"to": stage}, headers=city)
        )
    await ok(client.post(f"{BASE}/years/{YEAR}/evaluation", params=params, headers=city), 200)
    await ok(
        client.post(
            f"{BASE}/years/{YEAR}/transitions",
            params=params,
            json={"to": "published", "effective_on": f"{YEAR + 1}-01-20"},
            headers=city,
        )
    )


async def overdue_events(client: httpx.AsyncClient, reader: dict[str, str]) -> list[dict[str, Any]]:
    page = await client.get(
        f"{BASE}/events", params={"types": "rectification.overdue", "limit": "500"}, headers=reader
    )
    assert page.status_code == 200, page.text
    return [e for e in page.json()["items"] if e["data"]["year"] == YEAR]


async def test_an_overdue_rectification_is_announced_once(
    service: tuple[FastAPI, httpx.AsyncClient], mint: TokenMint
) -> None:
    app, client = service
    scheduler: Scheduler = app.state.event_scheduler
    city = headers(mint, "211100", "appraisal:read", "appraisal:write")
    await publish(client, city)
    # 双台子区 reports in time; the others do not (due 20 February, a month after publication)
    await ok(
        client.post(
            f"{BASE}/years/{YEAR}/subjects/211102/rectification",
            params={"scheme": "panjin"},
            json={
                "summary": "针对通报问题逐项整改",
                "measures": [{"measure": "补齐食品安全员配备", "due_on": f"{YEAR + 1}-06-30"}],
                "submitted_on": f"{YEAR + 1}-02-10",
            },
            headers=headers(mint, "211102", "appraisal:read", "appraisal:write"),
        )
    )
    reader = headers(mint, "211100", "appraisal:read")
    # on the due day nothing is overdue yet
    await scheduler.run_once()
    assert await overdue_events(client, reader) == []

    scheduler.today = lambda: dt.date(YEAR + 1, 2, 21)
    twin = Scheduler(
        scheduler.service, scheduler.sessions, scheduler.tables, scheduler.checks, today=scheduler.today
    )
    await asyncio.gather(scheduler.run_once(), twin.run_once())
    await scheduler.run_once()
    await twin.run_once()
    events = await overdue_events(client, reader)
    subjects = sorted(e["data"]["subject"] for e in events)
    assert "211102" not in subjects
    assert {"211103", "211104", "211122"} <= set(subjects)
    assert len(subjects) == len(set(subjects))  # once each
    event = next(e for e in events if e["data"]["subject"] == "211103")
    assert event["jurisdiction"] == "211103"
    assert event["data"]["due_on"] == f"{YEAR + 1}-02-20"
    assert event["data"]["citation"] == "盘政办发〔2024〕5号 第十一条"

    # a county sees its own only
    county = await overdue_events(client, headers(mint, "211104", "appraisal:read"))
    assert [e["data"]["subject"] for e in county] == ["211104"]
