"""Persons registered before registering was an event get their ``person.registered`` event from
the migration that began it (once, whatever the migrations run again), with the number for
welfare:pii readers: a reader of the feed (eldercare's projection) learns of them as of new ones."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from platformctl.components import COMPONENTS
from platformctl.database import database_name, drop_database, ensure_database, with_database
from platformctl.supervisor import local_secret
from shared import migrations
from shared.citizen_ids import vault_from
from shared.testing import TokenMint, app_client, citizen_id
from welfare.config import Settings
from welfare.main import create_app

KEY = local_secret("welfare-citizen-id.key")
WELFARE = next(c for c in COMPONENTS if c.name == "welfare")


async def test_persons_registered_before_become_events_once(database_url: str, mint: TokenMint) -> None:
    url = with_database(database_url, f"{database_name(database_url)}_person_events")
    await ensure_database(url, recreate=True)
    run = asyncio.to_thread
    try:
        await run(migrations.upgrade, WELFARE.migrations_dir, url, WELFARE.schema, "0012")
        settings = Settings(database_url=url, citizen_id_key=KEY)
        number = citizen_id("1949-10-01", region="211103")
        protected = vault_from(settings).protect(number)
        person_id, household_id = uuid.uuid4(), uuid.uuid4()
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "INSERT INTO welfare.households (id, jurisdiction, address, version) VALUES ($1, '211103', 'x', 1)",
                household_id,
            )
            await connection.execute(
                "INSERT INTO welfare.persons (id, jurisdiction, household_id, name, citizen_id_hash, "
                "citizen_id_cipher, citizen_id_key_id, citizen_id_masked, version) "
                "VALUES ($1, '211103', $2, '钱老汉', $3, $4, $5, $6, 1)",
                person_id,
                household_id,
                protected.lookup_hash,
                protected.cipher,
                protected.key_id,
                protected.masked,
            )
        finally:
            await connection.close()
        await run(migrations.upgrade, WELFARE.migrations_dir, url, WELFARE.schema)
        await run(migrations.downgrade, WELFARE.migrations_dir, url, WELFARE.schema, "0012")
        await run(migrations.upgrade, WELFARE.migrations_dir, url, WELFARE.schema)

        async with app_client(create_app(settings), mint) as client:
            answers = {}
            for scopes in (["welfare:read", "welfare:pii"], ["welfare:read"]):
                page = await client.get(
                    "/api/welfare/v1/events",
                    params={"types": "person.registered"},
                    headers=mint.headers(scopes=scopes, jurisdictions=["211100"]),
                )
                assert page.status_code == 200, page.text
                answers[len(scopes)] = page.json()["items"]
        pii, plain = answers[2], answers[1]
        assert [e["subject"] for e in pii] == [f"/persons/{person_id}"]  # once, after upgrading twice
        assert pii[0]["data"] == {
            "person_id": str(person_id),
            "household_id": str(household_id),
            "jurisdiction": "211103",
            "version": 1,
            "citizen_id": number,
        }
        assert pii[0]["jurisdiction"] == "211103"
        assert number not in str(plain)
    finally:
        await drop_database(url)
