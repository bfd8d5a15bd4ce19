"""Who read a citizen ID number: each number an answer shows in full leaves a row (who, which
record, when, request id, the stated purpose); masked answers leave none; auditors read them."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from platformctl.testing import assert_problem
from shared.citizen_ids import CitizenIdVault
from shared.db import service_metadata
from shared.personal_data import PersonalDataDep, personal_data_access_table
from shared.records import PlatformTables
from shared.service_app import create_service_app
from shared.settings import ServiceSettings, async_database_url
from shared.testing import TokenMint, app_client

SCHEMA = "personal_data_test"
NUMBER = "11010519491231002X"
metadata = service_metadata(SCHEMA)
PlatformTables.declare(metadata)
personal_data_access_table(metadata)
vault = CitizenIdVault(
    base64.b64encode(os.urandom(32)).decode(), lookup_key=base64.b64encode(os.urandom(32)).decode()
)
stored = vault.protect(NUMBER)


def build_app(database_url: str) -> FastAPI:
    router = APIRouter()

    @router.get("/api/pdtest/v1/people")
    async def people(personal_data: PersonalDataDep) -> list[str]:
        return [
            personal_data.citizen_id(
                cipher=stored.cipher,
                masked=stored.masked,
                key_id=stored.key_id,
                entity="person",
                entity_id=f"p{i}",
                jurisdiction="211102",
            )
            for i in range(3)
        ]

    settings = ServiceSettings(service_name="pdtest", database_url=database_url, log_json=False)
    app = create_service_app(
        settings=settings, metadata=metadata, title="pdtest", description="pdtest", routers=[router]
    )
    app.state.citizen_id_vault = vault
    return app


@pytest.fixture
async def client(database_url: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    async with app_client(build_app(database_url), mint) as http:
        yield http


async def test_full_numbers_are_recorded_with_their_purpose(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    reader = mint.headers(scopes=["pdtest:read", "pdtest:pii"], jurisdictions=["211100"], subject="auditee")
    shown = await client.get(
        "/api/pdtest/v1/people", headers={**reader, "Access-Purpose": quote("低保年审 2024-07")}
    )
    assert shown.json() == [NUMBER] * 3
    masked = await client.get(
        "/api/pdtest/v1/people", headers=mint.headers(scopes=["pdtest:read"], jurisdictions=["211100"])
    )
    assert masked.json() == [stored.masked] * 3
    auditor = mint.headers(scopes=["pdtest:audit"], jurisdictions=["211100"])
    listing = await client.get("/api/pdtest/v1/personal-data-access", headers=auditor)
    assert listing.status_code == 200, listing.text
    log = listing.json()
    assert log["total"] == 3
    assert {row["entity_id"] for row in log["items"]} == {"p0", "p1", "p2"}
    assert {row["actor"] for row in log["items"]} == {"auditee"}
    assert {row["purpose"] for row in log["items"]} == {"低保年审 2024-07"}
    assert all(row["request_id"] for row in log["items"])
    assert_problem(await client.get("/api/pdtest/v1/personal-data-access", headers=reader), 403)
    county_auditor = mint.headers(scopes=["pdtest:audit"], jurisdictions=["211103"])
    other = (await client.get("/api/pdtest/v1/personal-data-access", headers=county_auditor)).json()
    assert other["total"] == 0


async def test_a_purpose_that_is_not_utf8_is_refused(client: httpx.AsyncClient, mint: TokenMint) -> None:
    reader = mint.headers(scopes=["pdtest:read", "pdtest:pii"], jurisdictions=["211100"])
    answer = await client.get("/api/pdtest/v1/people", headers={**reader, "Access-Purpose": "%FF%FE"})
    assert_problem(answer, 422)
