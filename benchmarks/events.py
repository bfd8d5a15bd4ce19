"""Change events: feed throughput, webhook delivery lag, and what the outbox costs a write.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/events.py [--events 100000] [--rate 50] [--seconds 20] [--runs 5]

Everything runs in this process against the PostgreSQL of ``DATABASE_URL`` (in a database of
its own, dropped at the end), on an app assembled by ``create_service_app`` as every service's:

- **feed**: ``--events`` outbox rows, then one consumer follows ``GET /api/x/v1/events`` with
  ``limit=1000`` from the start to the end (in-process HTTP, the app's own code and queries);
  events per second.
- **webhooks**: events written through the write path at ``--rate`` per second for
  ``--seconds``, each in its own transaction; the relay (``events_poll_seconds`` 0.1 and the
  default 1.0) delivers them to a local receiver; lag = arrival − the event's ``time``;
  p50 / p99 / max.
- **outbox cost**: 8 concurrent writers POST records through the one write path (token,
  validation, the record, its audit row; with or without its outbox event), in-process HTTP;
  ``--runs`` interleaved rounds of each; medians of writes per second, and the cost.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

import httpx
from aiohttp import web
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platformctl import database
from shared.auth import Principal
from shared.db import service_metadata
from shared.events.relay import Relay
from shared.records import PlatformTables
from shared.service_app import create_service_app
from shared.settings import ServiceSettings, async_database_url
from shared.testing import TokenMint, app_client
from shared.writes import Event, WriteContext, WriteDep

SCHEMA = "events_bench"
SERVICE = "bench"
metadata = service_metadata(SCHEMA)
tables = PlatformTables.declare(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    __mapper_args__ = {"eager_defaults": True}


WRITER = Principal(subject="bench", roles=frozenset(), scopes=frozenset(), jurisdictions=("*",))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def prepare(url: str) -> None:
    engine = create_async_engine(async_database_url(url))
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


def build(url: str, **settings: Any) -> Any:
    values: dict[str, Any] = {
        "service_name": SERVICE,
        "database_url": url,
        "log_json": False,
        "log_level": "WARNING",
        "events_relay": False,
        "webhooks_allow_private_targets": True,
        **settings,
    }
    return create_service_app(
        settings=ServiceSettings(**values), metadata=metadata, title="b", description="b", routers=[]
    )


async def feed(url: str, count: int) -> dict[str, Any]:
    await prepare(url)
    engine = create_async_engine(async_database_url(url))
    async with engine.begin() as connection:
        await connection.execute(
            text(
                f"INSERT INTO {SCHEMA}.outbox (id, type, subject, jurisdiction, data) "
                "SELECT gen_random_uuid(), 'civic.bench.thing.changed', '/things/' || n, '211102', "
                "jsonb_build_object('n', n, 'program', 'dibao', 'month', '2024-07') "
                "FROM generate_series(1, :count) n"
            ),
            {"count": count},
        )
    await engine.dispose()
    mint = TokenMint()
    async with app_client(build(url), mint) as client:
        client.headers.update(mint.headers(scopes=[f"{SERVICE}:read"], jurisdictions=["211100"]))
        read, cursor = 0, None
        start = time.perf_counter()
        while True:
            params = {"limit": "1000", **({"after": cursor} if cursor else {})}
            page = (await client.get(f"/api/{SERVICE}/v1/events", params=params)).json()
            read += len(page["items"])
            if not page["items"]:
                break
            cursor = page["next_cursor"]
        seconds = time.perf_counter() - start
    assert read == count, (read, count)
    return {"events": read, "seconds": round(seconds, 2), "events_per_second": round(read / seconds)}


async def webhooks(url: str, rate: int, seconds: int, poll: float) -> dict[str, Any]:
    await prepare(url)
    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        sent = dt.datetime.fromisoformat(body["time"].replace("Z", "+00:00")).timestamp()
        arrivals.append(time.time() - sent)
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", handle)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    mint = TokenMint()
    app = build(url, events_poll_seconds=poll)
    async with app_client(app, mint) as client:
        owner = mint.headers(scopes=[f"{SERVICE}:read"], jurisdictions=["211100"], client_id="bench")
        made = await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions",
            json={"url": f"http://127.0.0.1:{port}/hook"},
            headers=owner,
        )
        assert made.status_code == 201, made.text
        relay = Relay(SERVICE, app.state.database.sessions, tables, app.state.settings)
        await relay.start()
        total = rate * seconds
        start = time.perf_counter()
        for n in range(total):
            async with app.state.database.sessions() as session, session.begin():
                write = WriteContext.for_job(
                    session=session, principal=WRITER, tables=tables, service=SERVICE
                )
                await write.record(
                    action="change",
                    entity="thing",
                    entity_id=n,
                    jurisdiction="211102",
                    event=Event(
                        type="thing.changed", subject=f"/things/{n}", data={"n": n}, jurisdiction="211102"
                    ),
                )
            await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.perf_counter()))
        deadline = time.perf_counter() + 60
        while len(arrivals) < total and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await relay.stop()
    await runner.cleanup()
    return {
        "poll_seconds": poll,
        "events": total,
        "delivered": len(arrivals),
        "lag_p50_ms": round(percentile(arrivals, 0.50) * 1000),
        "lag_p99_ms": round(percentile(arrivals, 0.99) * 1000),
        "lag_max_ms": round(max(arrivals) * 1000),
    }


class Thing(Base):
    """A record like the services' (a jurisdiction, a name, a few facts, an index)."""

    __tablename__ = "things"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(default=1)


class ThingIn(BaseModel):
    jurisdiction: str
    name: str
    facts: dict[str, Any]


def things_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/bench/v1/things", status_code=201)
    async def create_thing(data: ThingIn, request: Request, write: WriteDep) -> Response:
        thing = Thing(jurisdiction=data.jurisdiction, name=data.name, facts=data.facts)
        await write.add(thing)
        event = None
        if request.app.state.with_event:
            event = Event(
                type="thing.created",
                subject=f"/things/{thing.id}",
                jurisdiction=thing.jurisdiction,
                data={"thing_id": thing.id, "name": thing.name, **data.facts},
            )
        await write.record(
            action="create",
            entity="thing",
            entity_id=thing.id,
            jurisdiction=thing.jurisdiction,
            after=data.model_dump(),
            event=event,
        )
        return await write.respond(201, {"id": str(thing.id)}, record=thing)

    return router


async def outbox_cost(url: str, runs: int, writes: int = 2000, writers: int = 8) -> dict[str, Any]:
    """Writes through the one write path (HTTP in-process: token, validation, the record, its
    audit row) with and without the outbox event, interleaved rounds."""
    await prepare(url)
    values: dict[str, Any] = {
        "service_name": SERVICE,
        "database_url": url,
        "log_json": False,
        "log_level": "WARNING",
        "events_relay": False,
        "db_pool_size": writers,
    }
    app = create_service_app(
        settings=ServiceSettings(**values),
        metadata=metadata,
        title="b",
        description="b",
        routers=[things_router()],
    )
    mint = TokenMint()

    async def round_of(client: httpx.AsyncClient, with_event: bool) -> float:
        app.state.with_event = with_event

        async def writer(k: int) -> None:
            for n in range(writes // writers):
                answer = await client.post(
                    "/api/bench/v1/things",
                    json={
                        "jurisdiction": "211102",
                        "name": f"w{k}-{n}",
                        "facts": {"program": "dibao", "n": n},
                    },
                )
                assert answer.status_code == 201, answer.text

        start = time.perf_counter()
        await asyncio.gather(*(writer(k) for k in range(writers)))
        return writes / (time.perf_counter() - start)

    without: list[float] = []
    with_outbox: list[float] = []
    async with app_client(app, mint) as client:
        client.headers.update(mint.headers(scopes=["bench:write"], jurisdictions=["211100"]))
        await round_of(client, False)  # warm-up
        await round_of(client, True)
        for _ in range(runs):
            without.append(await round_of(client, False))
            with_outbox.append(await round_of(client, True))
    a, b = statistics.median(without), statistics.median(with_outbox)
    return {
        "runs": runs,
        "writes_per_round": writes,
        "writers": writers,
        "without_outbox_per_second": round(a),
        "with_outbox_per_second": round(b),
        "cost_percent": round((a - b) / a * 100, 1),
        "rounds_without": [round(x) for x in without],
        "rounds_with": [round(x) for x in with_outbox],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["feed", "webhooks", "outbox"], default=None)
    args = parser.parse_args()
    base = os.environ["DATABASE_URL"]
    url = database.with_database(base, f"{database.database_name(base)}_events_bench")
    await database.ensure_database(url, recreate=True)
    try:
        if args.only in (None, "feed"):
            print(json.dumps({"feed": await feed(url, args.events)}), flush=True)
        if args.only in (None, "webhooks"):
            for poll in (0.1, 1.0):
                print(
                    json.dumps({"webhooks": await webhooks(url, args.rate, args.seconds, poll)}), flush=True
                )
        if args.only in (None, "outbox"):
            print(json.dumps({"outbox": await outbox_cost(url, args.runs)}), flush=True)
    finally:
        await database.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
