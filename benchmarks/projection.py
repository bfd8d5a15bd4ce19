"""Eldercare's projection of welfare's register: how long the consumer takes to catch up.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/projection.py [--enrolments 100000] [--batch 500]

In a database of its own (migrated as the platform's, dropped at the end): welfare's outbox gets
``--enrolments`` ``person.registered`` events (each with its encrypted citizen ID number, as
welfare writes them) and as many ``enrolment.started`` events (half dibao through the person's
household, half tekun, scattered or concentrated), in Zhumadian's counties. Then eldercare's
consumer (``eldercare.projection.consumer``) follows welfare's real feed (the welfare app,
in-process HTTP, a token with ``welfare:read welfare:pii`` over 411700: every citizen ID number is
decrypted by welfare and hashed by eldercare) from the start until it is caught up, ``--batch``
events a page, each page applied in one transaction with the cursor. Printed: events, seconds,
events per second, and the rows of the projection (checked: one per person and enrolment).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from eldercare.config import Settings as EldercareSettings
from eldercare.main import create_app as create_eldercare
from eldercare.projection.consumer import ClientCredentials, WelfareFeedConsumer
from platformctl import database
from platformctl.components import COMPONENTS
from platformctl.supervisor import local_secret
from shared import migrations
from shared.auth import Principal
from shared.citizen_ids import check_digit
from shared.settings import async_database_url
from shared.testing import TokenMint, app_client
from welfare.config import Settings as WelfareSettings
from welfare.main import create_app as create_welfare

COUNTIES = [
    "411702",
    "411721",
    "411722",
    "411723",
    "411724",
    "411725",
    "411726",
    "411727",
    "411728",
    "411729",
]
CHUNK = 10_000


class Minted(ClientCredentials):
    """The consumer's token from the test mint instead of the gateway."""

    def __init__(self, token: str, principal: Principal) -> None:
        self.token, self.principal = token, principal

    async def get(self) -> tuple[str, Principal]:
        return self.token, self.principal


def number(index: int) -> str:
    """Distinct for index < 420,000 (county, birth date: 420 combinations; then the order code)."""
    county = COUNTIES[index % len(COUNTIES)]
    birth = f"19{40 + index % 30}{1 + index % 12:02d}{1 + index % 28:02d}"
    first_17 = f"{county}{birth}{index // 420 % 1000:03d}"
    return first_17 + check_digit(first_17)


async def fill_outbox(url: str, vault: Any, count: int) -> None:
    engine = create_async_engine(async_database_url(url))
    seen: set[str] = set()
    try:
        for kind in ("person.registered", "enrolment.started"):
            for start in range(0, count, CHUNK):
                rows: list[dict[str, Any]] = []
                for index in range(start, min(count, start + CHUNK)):
                    person_id = uuid.UUID(int=index + 1)
                    household_id = uuid.UUID(int=10**12 + index)
                    county = COUNTIES[index % len(COUNTIES)]
                    if kind == "person.registered":
                        value = number(index)
                        assert value not in seen
                        seen.add(value)
                        protected = vault.protect(value)
                        data: dict[str, Any] = {
                            "person_id": str(person_id),
                            "household_id": str(household_id),
                            "jurisdiction": county,
                            "version": 1,
                            "_personal": {
                                "citizen_id": {
                                    "cipher": base64.b64encode(protected.cipher).decode(),
                                    "key_id": protected.key_id,
                                    "masked": protected.masked,
                                }
                            },
                        }
                        subject = f"/persons/{person_id}"
                    else:
                        dibao = index % 2 == 0
                        enrolment_id = uuid.UUID(int=2 * 10**12 + index)
                        data = {
                            "enrolment_id": str(enrolment_id),
                            "program": "dibao" if dibao else "tekun",
                            "household_id": str(household_id) if dibao else None,
                            "person_id": None if dibao else str(person_id),
                            "covered_members": 1 if dibao else None,
                            "tier": None,
                            "arrangement": None
                            if dibao
                            else ("scattered" if index % 4 == 1 else "concentrated"),
                            "start_month": "2026-01",
                            "end_month": None,
                            "status": "active",
                            "version": 1,
                        }
                        subject = f"/enrolments/{enrolment_id}"
                    rows.append(
                        {
                            "id": str(uuid.uuid4()),
                            "type": f"civic.welfare.{kind}",
                            "subject": subject,
                            "jurisdiction": county,
                            "data": json.dumps(data),
                        }
                    )
                async with engine.begin() as connection:
                    await connection.execute(
                        text(
                            "INSERT INTO welfare.outbox (id, type, subject, jurisdiction, data) "
                            "SELECT r.id::uuid, r.type, r.subject, r.jurisdiction, r.data::jsonb "
                            "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
                            "AS r(id text, type text, subject text, jurisdiction text, data text)"
                        ),
                        {"rows": json.dumps(rows)},
                    )
    finally:
        await engine.dispose()


async def count_rows(url: str) -> dict[str, int]:
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.connect() as connection:
            return {
                table: int(await connection.scalar(text(f"SELECT count(*) FROM eldercare.{table}")) or 0)
                for table in ("welfare_persons", "welfare_enrolments", "welfare_events_seen")
            }
    finally:
        await engine.dispose()


async def main(enrolments: int, batch: int) -> dict[str, Any]:
    server = database.server_url()
    url = database.with_database(server, f"civic_bench_projection_{secrets.token_hex(3)}")
    await database.ensure_database(url, recreate=True)
    try:
        for component in COMPONENTS:
            if component.name in ("welfare", "eldercare"):
                await asyncio.to_thread(migrations.upgrade, component.migrations_dir, url, component.schema)
        mint = TokenMint()
        welfare_app = create_welfare(
            WelfareSettings(
                database_url=url,
                citizen_id_key=local_secret("welfare-citizen-id.key"),
                log_level="WARNING",
                events_relay=False,
            )
        )
        eldercare_app = create_eldercare(
            EldercareSettings(
                database_url=url,
                citizen_id_key=local_secret("eldercare-citizen-id.key"),
                log_level="WARNING",
                events_relay=False,
            )
        )
        async with app_client(welfare_app, mint) as welfare, app_client(eldercare_app, mint):
            filled = time.perf_counter()
            await fill_outbox(url, welfare_app.state.citizen_id_vault, enrolments)
            filled = time.perf_counter() - filled
            token = mint.token(
                scopes=["welfare:read", "welfare:pii"],
                jurisdictions=["411700"],
                client_id="eldercare-welfare-feed",
                expires_in=3600,
            )
            consumer = WelfareFeedConsumer(
                eldercare_app.state.database.sessions,
                http=welfare,
                credentials=Minted(token, await welfare_app.state.token_verifier.verify(token)),
                vault=eldercare_app.state.citizen_id_vault,
                owner="bench",
                batch=batch,
                wait_seconds=0,
                lease_seconds=60,
                max_backoff_seconds=1,
            )
            await consumer.prepare()
            start = time.perf_counter()
            pages = 0
            while consumer.lag_seconds() < 0:  # until a page reaches the end of the feed
                await consumer.step()
                pages += 1
            seconds = time.perf_counter() - start
        rows = await count_rows(url)
        events = 2 * enrolments
        assert rows == {
            "welfare_persons": enrolments,
            "welfare_enrolments": enrolments,
            "welfare_events_seen": events,
        }, rows
        return {
            "enrolment_events": enrolments,
            "person_events": enrolments,
            "events": events,
            "batch": batch,
            "pages": pages,
            "outbox_filled_seconds": round(filled, 1),
            "catch_up_seconds": round(seconds, 1),
            "events_per_second": round(events / seconds),
            "projection_rows": rows,
        }
    finally:
        await database.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.enrolments, args.batch)), indent=2))
