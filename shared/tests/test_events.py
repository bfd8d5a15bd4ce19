"""Change events against a real PostgreSQL: the feed's order when transactions commit out of
order, scope and personal data, long polling; webhooks (Standard Webhooks signatures, rotation,
SSRF, retries in order, pausing, manual retry, several replicas delivering once)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import re
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.types import Message

from platformctl.testing import assert_problem
from shared.auth import Principal, RevocationList, subject_digest
from shared.citizen_ids import CitizenIdVault
from shared.db import service_metadata
from shared.events import feed
from shared.events.commits import OutboxCommits
from shared.events.envelope import Position
from shared.events.nats import NatsPublisher
from shared.events.relay import Relay
from shared.events.types import EVENT_TYPES
from shared.events.webhooks import (
    TargetRefused,
    active_secrets,
    address_allowed,
    check_target,
    resolve_target,
    signed_headers,
)
from shared.personal_data import personal_data_access_table
from shared.records import PlatformTables
from shared.service_app import create_service_app
from shared.settings import ServiceSettings, async_database_url
from shared.testing import TokenMint, app_client, citizen_id
from shared.writes import Event, WriteContext

SCHEMA = "events_test"
SERVICE = "evtest"
metadata = service_metadata(SCHEMA)
tables = PlatformTables.declare(metadata)
personal_data_access_table(metadata)
PANJIN_COUNTY = "211102"
ZHUMADIAN_COUNTY = "411702"
WRITER = Principal(subject="writer", roles=frozenset(), scopes=frozenset(), jurisdictions=("*",))
VAULT = CitizenIdVault(
    base64.b64encode(secrets.token_bytes(32)).decode(), lookup_key=base64.b64encode(b"k" * 32).decode()
)


def build_app(database_url: str, **settings: Any) -> FastAPI:
    values: dict[str, Any] = {
        "service_name": SERVICE,
        "database_url": database_url,
        "log_json": False,
        "events_relay": False,
        "webhooks_allow_private_targets": True,
        "webhooks_retry_schedule_seconds": [0.0, 0.0, 0.0],
        **settings,
    }
    config = ServiceSettings(**values)
    app = create_service_app(settings=config, metadata=metadata, title="t", description="t", routers=[])
    app.state.citizen_id_vault = VAULT
    return app


@pytest.fixture
async def app(database_url: str) -> FastAPI:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    return build_app(database_url)


@pytest.fixture
async def client(app: FastAPI, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app, mint) as http:
        http.headers.update(mint.headers(scopes=[f"{SERVICE}:read"], jurisdictions=["*"]))
        yield http


def sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.database.sessions
    return maker


async def emit(
    app: FastAPI,
    type_: str = "thing.changed",
    *,
    jurisdiction: str | None = PANJIN_COUNTY,
    data: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
    session: AsyncSession | None = None,
) -> uuid.UUID:
    """One event through the write path; in ``session`` (left open) or in a transaction of its own."""
    event = Event(
        type=type_,
        subject=f"/things/{uuid.uuid4()}",
        data=data or {},
        jurisdiction=jurisdiction,
        personal=personal,
    )

    async def write(s: AsyncSession) -> None:
        context = WriteContext.for_job(session=s, principal=WRITER, tables=tables, service=SERVICE)
        await context.record(
            action="change", entity="thing", entity_id="x", jurisdiction=jurisdiction, event=event
        )

    if session is not None:
        await write(session)
    else:
        async with sessions(app)() as s, s.begin():
            await write(s)
    return event.id


async def read_all(
    client: httpx.AsyncClient, after: str | None = None, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every event the feed serves now after ``after``, page by page, and the cursor after them."""
    items: list[dict[str, Any]] = []
    cursor = after
    while True:
        query = {"limit": 3, **params}
        if cursor is not None:
            query["after"] = cursor
        page = await client.get(f"/api/{SERVICE}/v1/events", params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if not body["items"] or body["next_cursor"] == cursor:
            return items, body["next_cursor"]
        cursor = body["next_cursor"]


async def read_until(
    client: httpx.AsyncClient,
    after: str | None,
    count: int,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> tuple[list[dict[str, Any]], str]:
    """Follow the cursor until ``count`` events came (any transaction still running in the
    cluster, other databases' too, delays the feed: lag, never loss), then once more."""
    items: list[dict[str, Any]] = []
    cursor = after
    deadline = asyncio.get_running_loop().time() + 90
    while len(items) < count and asyncio.get_running_loop().time() < deadline:
        more, cursor = await read_all(client, cursor, headers, **params)
        items += more
        if len(items) < count:
            await asyncio.sleep(0.1)
    more, cursor = await read_all(client, cursor, headers, **params)
    return items + more, cursor


# -- the feed -----------------------------------------------------------------------------


async def test_a_transaction_that_commits_late_is_not_skipped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, cursor = await read_all(client)
    early = sessions(app)()
    await early.begin()
    early_id = await emit(app, "early.written", session=early)  # takes the lower sequence, stays open
    later = [await emit(app, "later.written") for _ in range(3)]  # commit first
    seen, cursor = await read_all(client, cursor)
    # a naive `sequence > last` reader would now hold the later three and pass the early one for ever
    assert seen == []
    await early.commit()
    await early.close()
    seen, cursor = await read_until(client, cursor, 4)
    ids = [item["id"] for item in seen]
    assert sorted(ids) == sorted(str(i) for i in [early_id, *later])
    assert ids[0] == str(early_id)  # its transaction started first
    again, _ = await read_all(client, cursor)
    assert again == []


async def test_concurrent_writers_and_a_reader_see_every_event_once_in_order(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, cursor = await read_all(client)
    written: list[uuid.UUID] = []
    rolled_back: list[uuid.UUID] = []
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(6):
            async with sessions(app)() as s:
                await s.begin()
                event_id = await emit(app, f"w{n}.e{i}", session=s)
                await asyncio.sleep(((n * 7 + i * 3) % 5) / 100)  # commit in another order than begun
                if (n + i) % 5 == 0:
                    await s.rollback()
                    rolled_back.append(event_id)
                else:
                    await s.commit()
                    written.append(event_id)

    seen: list[dict[str, Any]] = []

    async def reader() -> None:
        nonlocal cursor
        while not done.is_set():
            items, cursor = await read_all(client, cursor)
            seen.extend(items)
            await asyncio.sleep(0.01)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(12)))
    done.set()
    await reading
    rest, _ = await read_until(client, cursor, len(written) - len(seen))
    seen.extend(rest)
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "an event was served twice"
    assert set(ids) == {str(i) for i in written}
    assert not set(ids) & {str(i) for i in rolled_back}
    sequences = [item["sequence"] for item in seen]
    assert sequences == sorted(sequences)


async def test_envelope_is_cloudevents_and_scope_hides_other_counties(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint
) -> None:
    number = citizen_id("19500101", region="211102")
    ours = await emit(
        app, "person.enrolled", data={"person_id": "p1"}, personal={"citizen_id": VAULT.protect(number)}
    )
    theirs = await emit(app, "person.enrolled", jurisdiction=ZHUMADIAN_COUNTY, data={"person_id": "p2"})
    nowhere = await emit(app, "platform.changed", jurisdiction=None)
    county = mint.headers(scopes=[f"{SERVICE}:read"], jurisdictions=["211100"])
    everyone, _ = await read_until(client, None, 3)
    assert {str(ours), str(theirs), str(nowhere)} <= {i["id"] for i in everyone}
    page = await client.get(f"/api/{SERVICE}/v1/events", headers=county)
    assert page.status_code == 200
    body = page.json()
    assert [i["id"] for i in body["items"]] == [str(ours)]
    event = body["items"][0]
    assert event["specversion"] == "1.0"
    assert event["source"] == f"/api/{SERVICE}/v1"
    assert event["type"] == f"civic.{SERVICE}.person.enrolled"
    assert event["jurisdiction"] == PANJIN_COUNTY
    assert event["datacontenttype"] == "application/json"
    assert event["time"].endswith("Z")
    assert isinstance(event["sequence"], str)
    assert event["data"] == {"person_id": "p1"}  # no number without pii
    assert number not in page.text
    with_pii = mint.headers(scopes=[f"{SERVICE}:read", f"{SERVICE}:pii"], jurisdictions=["211100"])
    page = await client.get(f"/api/{SERVICE}/v1/events", headers=with_pii)
    event = page.json()["items"][0]
    assert event["data"] == {"person_id": "p1", "citizen_id": number}
    assert number not in event["subject"]
    async with sessions(app)() as s:
        shown = (await s.execute(text(f"SELECT entity, entity_id FROM {SCHEMA}.personal_data_access"))).all()
    assert [tuple(r) for r in shown] == [("event", str(ours))]  # recorded, as every answer that reveals one
    async with sessions(app)() as s:
        stored = await s.scalar(text(f"SELECT data::text FROM {SCHEMA}.outbox WHERE id = :i"), {"i": ours})
    assert number not in str(stored)  # encrypted at rest


async def test_types_filter_cursor_errors_and_scope(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint
) -> None:
    _, cursor = await read_all(client)
    a = await emit(app, "a.done")
    await emit(app, "b.done")
    c = await emit(app, "c.done")
    items, _ = await read_until(client, cursor, 2, types=f"a.done,civic.{SERVICE}.c.done")
    assert [i["id"] for i in items] == [str(a), str(c)]
    for bad in ("x", "1-2", "0" * 19 + "-" + "０" * 19, "0" * 19 + "-" + "0" * 18 + "\n"):
        assert_problem(await client.get(f"/api/{SERVICE}/v1/events", params={"after": bad}), 422)
    assert_problem(await client.get(f"/api/{SERVICE}/v1/events", params={"types": "a b"}), 422)
    assert_problem(await client.get(f"/api/{SERVICE}/v1/events", params={"wait": 31}), 422)
    assert_problem(
        await client.get(
            f"/api/{SERVICE}/v1/events", headers=mint.headers(scopes=["other:read"], jurisdictions=["*"])
        ),
        403,
    )


async def a_held_read(client: httpx.AsyncClient) -> asyncio.Task[httpx.Response]:
    """A read of the feed after every event so far, held for want of events (30 s at most)."""
    _, cursor = await read_all(client)
    waiting = asyncio.create_task(
        client.get(f"/api/{SERVICE}/v1/events", params={"after": cursor, "wait": 30})
    )
    await asyncio.sleep(0.5)
    assert not waiting.done()
    return waiting


async def test_long_polling_answers_when_an_event_arrives(app: FastAPI, client: httpx.AsyncClient) -> None:
    waiting = await a_held_read(client)
    event_id = await emit(app, "late.arrival")
    answer = await asyncio.wait_for(waiting, timeout=15)
    assert [i["id"] for i in answer.json()["items"]] == [str(event_id)]


async def test_a_waiting_reader_is_woken_by_a_commit_of_this_process(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not by its next look: with looks a minute apart the event still comes as it commits."""
    monkeypatch.setattr(feed, "LOOK_SECONDS", 60.0)
    waiting = await a_held_read(client)
    async with sessions(app)() as s:  # a rolled-back write: nothing to find, nothing to wake for
        await s.begin()
        await emit(app, "never.happened", session=s)
        await s.rollback()
    event_id = await emit(app, "woken")
    answer = await asyncio.wait_for(waiting, timeout=15)  # half the 30 s it holds otherwise
    assert [i["id"] for i in answer.json()["items"]] == [str(event_id)]


async def test_an_event_written_through_another_replica_is_found_by_a_look(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica's commit rings nothing here: the reader's own looks find its event."""
    monkeypatch.setattr(feed, "LOOK_SECONDS", 0.2)
    waiting = await a_held_read(client)
    replica = async_sessionmaker(app.state.database.engine, expire_on_commit=False)  # no signal
    event = Event(type="elsewhere", subject="/things/x", data={}, jurisdiction=PANJIN_COUNTY)
    async with replica() as s, s.begin():
        context = WriteContext.for_job(session=s, principal=WRITER, tables=tables, service=SERVICE)
        await context.record(action="change", entity="thing", entity_id="x", event=event)
    answer = await asyncio.wait_for(waiting, timeout=15)
    assert [i["id"] for i in answer.json()["items"]] == [str(event.id)]


def test_a_commit_sets_the_signal_taken_before_it_and_not_the_next() -> None:
    commits = OutboxCommits()
    taken = commits.next()
    commits.ring()
    assert taken.is_set()
    assert not commits.next().is_set()


async def test_a_long_poll_ends_when_its_reader_goes_away(app: FastAPI, client: httpx.AsyncClient) -> None:
    """A reader that stops (a consumer whose replica shuts down) ends the hold at once: a server
    shutting down waits for its open requests, and would otherwise wait out the whole ``wait``."""
    _, cursor = await read_all(client)
    gone = asyncio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/api/{SERVICE}/v1/events",
        "raw_path": f"/api/{SERVICE}/v1/events".encode(),
        "root_path": "",
        "query_string": f"after={cursor}&wait=30".encode(),
        "headers": [(b"host", b"service.test"), (b"authorization", client.headers["authorization"].encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("service.test", 80),
    }
    holding = asyncio.create_task(app(scope, receive, send))
    await asyncio.sleep(0.6)
    assert not holding.done()  # no event: it holds
    gone.set()
    await asyncio.wait_for(holding, timeout=15)  # well before the 30 s it would otherwise hold


async def test_a_rolled_back_change_leaves_no_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, cursor = await read_all(client)
    async with sessions(app)() as s:
        await s.begin()
        await emit(app, "never.happened", session=s)
        await s.rollback()
    kept = await emit(app, "happened")
    items, _ = await read_until(client, cursor, 1)
    assert [i["id"] for i in items] == [str(kept)]


def test_cursor_text_sorts_as_the_position() -> None:
    positions = [Position(9, 100), Position(10, 2), Position(10, 11), Position(123456789, 1)]
    assert sorted(str(p) for p in positions) == [str(p) for p in sorted(positions)]
    assert Position.parse(str(positions[2])) == positions[2]


# -- webhooks -----------------------------------------------------------------------------


@dataclass
class Receiver:
    """A local webhook receiver: answers from ``script`` (then 204), keeps what arrived."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0
    on_request: Callable[[], None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
        if self.on_request is not None:
            self.on_request()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.script.pop(0) if self.script else 204
        headers = {"Location": "http://169.254.169.254/"} if status in (301, 302, 307) else {}
        return web.Response(status=status, headers=headers)

    def events(self) -> list[str]:
        return [json.loads(body)["id"] for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = web.Application()
    server.router.add_post("/hook", found.handle)
    runner = web.AppRunner(server)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    found.url = f"http://127.0.0.1:{port}/hook"
    yield found
    await runner.cleanup()


def client_headers(
    mint: TokenMint,
    client_id: str = "province",
    jurisdictions: tuple[str, ...] = ("211100",),
    pii: bool = False,
) -> dict[str, str]:
    scopes = [f"{SERVICE}:read"] + ([f"{SERVICE}:pii"] if pii else [])
    return mint.headers(
        scopes=scopes, jurisdictions=list(jurisdictions), client_id=client_id, subject=client_id
    )


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, types: list[str] | None = None
) -> dict[str, Any]:
    answer = await client.post(
        f"/api/{SERVICE}/v1/webhook-subscriptions",
        json={"url": url, "types": types or [], "description": "test"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["secret"].startswith("whsec_")
    return body


def relay_of(app: FastAPI, revocations: RevocationList | None = None, **changes: Any) -> Relay:
    settings = app.state.settings.model_copy(update=changes)
    return Relay(
        SERVICE,
        sessions(app),
        tables,
        settings,
        vault=VAULT,
        access_log=app.state.personal_data_access_table,
        jitter=lambda: 1.0,
        revocations=revocations,
    )


async def drain(relay: Relay, receiver: Receiver, count: int) -> None:
    """Relay rounds until ``count`` requests arrived (the feed may lag), then two more."""
    deadline = asyncio.get_running_loop().time() + 90
    while len(receiver.received) < count and asyncio.get_running_loop().time() < deadline:
        if not await relay.run_once():
            await asyncio.sleep(0.05)
    for _ in range(2):
        await relay.run_once()


async def test_deliveries_are_signed_scoped_and_verified_by_the_official_library(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint, pii=True)
    subscription = await subscribe(client, owner, receiver.url)
    number = citizen_id("19480202", region="211102")
    ours = await emit(
        app, "person.enrolled", data={"person_id": "p1"}, personal={"citizen_id": VAULT.protect(number)}
    )
    await emit(app, "person.enrolled", jurisdiction=ZHUMADIAN_COUNTY, data={"person_id": "p2"})
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    assert receiver.events() == [str(ours)]  # the other city's person never arrives
    headers, body = receiver.received[0]
    verified = Webhook(subscription["secret"]).verify(body, headers)
    assert verified["data"]["citizen_id"] == number
    async with sessions(app)() as s:
        shown = (await s.execute(text(f"SELECT actor, entity_id FROM {SCHEMA}.personal_data_access"))).all()
    assert [tuple(r) for r in shown] == [("province", str(ours))]
    assert headers["webhook-id"] == str(ours)
    assert headers["content-type"] == "application/cloudevents+json"
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"]).verify(body.replace(b"p1", b"p9"), headers)
    stale = dict(headers, **{"webhook-timestamp": str(int(dt.datetime.now(dt.UTC).timestamp()) - 600)})
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"]).verify(body, stale)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(body, headers)
    log = await client.get(
        f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=owner
    )
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log.json()["items"]] == [
        ("delivered", 1, 204)
    ]
    # another client sees nothing of it
    other = client_headers(mint, "someone-else")
    assert_problem(
        await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=other), 404
    )
    assert (await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions", headers=other)).json()["total"] == 0
    # an account (not an API client) may not subscribe
    account = mint.headers(scopes=[f"{SERVICE}:read"], jurisdictions=["211100"])
    assert_problem(
        await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions", json={"url": receiver.url}, headers=account
        ),
        403,
    )


async def test_without_pii_the_number_never_arrives(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint, "no-pii")
    subscription = await subscribe(client, owner, receiver.url)
    number = citizen_id("19480303", region="211102")
    await emit(
        app, "person.enrolled", data={"person_id": "p1"}, personal={"citizen_id": VAULT.protect(number)}
    )
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    headers, body = receiver.received[0]
    assert number.encode() not in body
    assert Webhook(subscription["secret"]).verify(body, headers)["data"] == {"person_id": "p1"}


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint)
    first = await subscribe(client, owner, receiver.url)
    rotated = await client.post(
        f"/api/{SERVICE}/v1/webhook-subscriptions/{first['id']}/rotate-secret", headers=owner
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["secret"] != first["secret"]
    assert (
        "secret"
        not in (
            await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{first['id']}", headers=owner)
        ).json()
    )
    await emit(app, "thing.changed")
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(first["secret"]).verify(body, headers)
    Webhook(second["secret"]).verify(body, headers)
    # after the grace period only the new secret signs
    async with sessions(app)() as s, s.begin():
        await s.execute(
            text(
                f"UPDATE {SCHEMA}.webhook_subscriptions SET previous_secret_until = now() - interval '1 second'"
            )
        )
        assert tables.webhook_subscriptions is not None
        row = (await s.execute(tables.webhook_subscriptions.select())).one()
    now = dt.datetime.now(dt.UTC)
    later = signed_headers(active_secrets(row, now), "msg", "{}", now)
    assert len(later["webhook-signature"].split(" ")) == 1
    Webhook(second["secret"]).verify("{}", later)
    with pytest.raises(WebhookVerificationError):
        Webhook(first["secret"]).verify("{}", later)


async def test_failures_retry_in_order_then_pause_and_a_manual_retry_delivers(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint)
    subscription = await subscribe(client, owner, receiver.url)
    first = await emit(app, "one")
    second = await emit(app, "two")
    receiver.script = [500, 302, 503]  # the first event fails twice (a redirect is a failure), then arrives
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 5)
        assert receiver.events() == [str(first)] * 4 + [str(second)]
        assert all(not h["webhook-signature"].startswith("v1a") for h, _ in receiver.received)
        # a receiver that keeps failing: the schedule runs out, the subscription is paused and says why
        receiver.received.clear()
        receiver.script = [500] * 4
        third = await emit(app, "three")
        fourth = await emit(app, "four")
        await drain(relay, receiver, 4)
        assert receiver.events() == [str(third)] * 4  # the fourth waits behind it
        read = (
            await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=owner)
        ).json()
        assert read["active"] is False
        assert "answered 500" in read["paused_reason"]
        log = (
            await client.get(
                f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=owner
            )
        ).json()["items"]
        failed = next(d for d in log if d["event_id"] == str(third))
        assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("failed", 4, 500)
        retry = await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries/{failed['id']}/retry",
            headers=owner,
        )
        assert retry.status_code == 200, retry.text
        resumed = await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/resume", headers=owner
        )
        assert resumed.json()["active"] is True
        receiver.received.clear()
        await drain(relay, receiver, 2)
        assert receiver.events() == [str(third), str(fourth)]
    finally:
        await relay.stop()


async def test_a_receiver_answering_410_pauses_the_subscription(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint)
    subscription = await subscribe(client, owner, receiver.url)
    await emit(app, "gone")
    receiver.script = [410]
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    read = (
        await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=owner)
    ).json()
    assert read["active"] is False
    assert "410" in read["paused_reason"]


async def test_a_slow_receiver_times_out(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint)
    subscription = await subscribe(client, owner, receiver.url)
    await emit(app, "slow")
    receiver.delay = 3
    relay = relay_of(app, webhooks_timeout_seconds=0.5, webhooks_retry_schedule_seconds=[60.0])
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    log = (
        await client.get(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=owner
        )
    ).json()["items"]
    assert log[0]["status"] == "pending"
    assert "no answer within 0.5 s" in log[0]["last_error"]
    assert log[0]["next_attempt_at"] is not None
    # the lag is a metric: the waiting delivery and its age
    assert REGISTRY.get_sample_value("civic_webhook_pending_deliveries", {"service": SERVICE}) == 1
    assert (REGISTRY.get_sample_value("civic_webhook_oldest_pending_seconds", {"service": SERVICE}) or 0) > 0


async def test_two_replicas_deliver_each_event_once(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    for n in range(3):
        await subscribe(client, client_headers(mint, f"client-{n}"), receiver.url)
    written = [await emit(app, f"e{i}") for i in range(20)]
    replicas = [relay_of(app), relay_of(app), relay_of(app)]
    for relay in replicas:
        await relay.start(loop=False)
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while len(receiver.received) < 60 and asyncio.get_running_loop().time() < deadline:
            await asyncio.gather(*(relay.run_once() for relay in replicas))
        for _ in range(3):
            await asyncio.gather(*(relay.run_once() for relay in replicas))
    finally:
        for relay in replicas:
            await relay.stop()
    arrivals = [(h["webhook-signature"], h["webhook-id"]) for h, _ in receiver.received]
    assert sorted(receiver.events()) == sorted(str(e) for e in written * 3)
    assert len(arrivals) == len(set(arrivals)) == 60


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        # IPv6 forms that carry a loopback or private IPv4 address
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:127.0.0.1]/hook",
        "http://[::ffff:7f00:1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b:1::7f00:1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[2002:a9fe:a9fe::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
        "http://[::]/hook",
        "http://[fc00::1]/hook",
        "http://[100::1]/hook",
        "http://0x7f000001/hook",
        "http://2130706433/hook",
        "http://127.1/hook",
        "http://198.18.0.1/hook",
        "http://192.0.0.170/hook",
        "http://240.0.0.1/hook",
        "http://255.255.255.255/hook",
        "http://127.0.0.1\t/hook",
        "http://[fe80::1%25lo]/hook",
        "http://localhost./hook",
        "http://93.184.215.14:0/hook",
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "http://user:pass@example.org/hook",
        "http:///hook",
    ],
)
async def test_private_and_odd_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=False)


async def test_the_setting_allows_private_targets_and_the_api_refuses_them_without(
    database_url: str, app: FastAPI, mint: TokenMint
) -> None:
    assert address_allowed("127.0.0.1", allow_private=True)
    assert not address_allowed("224.0.0.1", allow_private=True)
    assert address_allowed("93.184.216.34", allow_private=False)
    strict = build_app(database_url, webhooks_allow_private_targets=False)
    async with app_client(strict, mint) as http:
        answer = await http.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions",
            json={"url": "http://127.0.0.1:9/hook"},
            headers=client_headers(mint),
        )
        body = assert_problem(answer, 422)
        assert "private" in json.dumps(body)


def test_ipv6_forms_are_judged_by_the_ipv4_address_they_carry() -> None:
    # public IPv4 behind NAT64 or 6to4 stays reachable; the same forms around private ones do not
    assert address_allowed("64:ff9b::5db8:d70e", allow_private=False)
    assert address_allowed("2002:5db8:d70e::1", allow_private=False)
    assert address_allowed("::ffff:93.184.215.14", allow_private=False)
    assert address_allowed("2606:2800:220:1:248:1893:25c8:1946", allow_private=False)
    for carried in ("::127.0.0.1", "::ffff:0:10.0.0.1", "64:ff9b::c0a8:1", "2002:c0a8:1::1"):
        assert not address_allowed(carried, allow_private=False), carried
        assert address_allowed(carried, allow_private=True), carried
    assert not address_allowed("64:ff9b::e000:1", allow_private=True)  # multicast inside NAT64


@dataclass
class FakeDns:
    """Answers for some names (each call takes the next answer, the last one repeats); every
    other name goes to the real resolver. Counts the questions about each name."""

    answers: dict[str, list[list[str]]]
    asked: dict[str, int] = field(default_factory=dict)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, *args, **kwargs)
            count = self.asked.get(name, 0)
            self.asked[name] = count + 1
            listed = self.answers[name]
            addresses = listed[min(count, len(listed) - 1)]
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, int(port or 0), 0, 0) if ":" in a else (a, int(port or 0)),
                )
                for a in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def test_a_name_resolving_to_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeDns({"mixed.example": [["93.184.215.14", "10.0.0.7"]]}).install(monkeypatch)
    with pytest.raises(TargetRefused):
        await check_target("https://mixed.example/hook", allow_private=False)
    FakeDns({"public.example": [["93.184.215.14"]]}).install(monkeypatch)
    target = await resolve_target("https://public.example:8443/hook?a=1", allow_private=False)
    url, host, extensions = target.pinned(target.addresses[0])
    assert (url, host, extensions) == (
        "https://93.184.215.14:8443/hook?a=1",
        {"host": "public.example:8443"},
        {"sni_hostname": "public.example"},
    )


async def test_a_delivery_connects_to_the_address_that_was_checked(
    app: FastAPI,
    client: httpx.AsyncClient,
    mint: TokenMint,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name answers the checked address once, then another one. The delivery
    goes to the checked address (with the name in Host), and the name is asked once per batch."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/", 1)[0])
    dns = FakeDns({"rebind.example": [["127.0.0.1"], ["192.0.2.1"]]})
    dns.install(monkeypatch)
    owner = client_headers(mint, "rebinding")
    subscription = await subscribe(client, owner, f"http://rebind.example:{port}/hook")
    dns.asked.clear()  # the check when subscribing asked once; the relay starts from the first answer
    event_id = await emit(app, "thing.changed")
    relay = relay_of(app, webhooks_timeout_seconds=2.0, webhooks_retry_schedule_seconds=[60.0])
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    assert receiver.events() == [str(event_id)]
    headers, body = receiver.received[0]
    assert headers["host"] == f"rebind.example:{port}"
    Webhook(subscription["secret"]).verify(body, headers)
    assert dns.asked == {"rebind.example": 1}


async def test_unknown_event_types_are_refused_naming_the_allowed_ones(
    client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EVENT_TYPES, SERVICE, frozenset({"thing.changed", "person.enrolled"}))
    owner = client_headers(mint, "typed")
    answer = await client.post(
        f"/api/{SERVICE}/v1/webhook-subscriptions",
        json={"url": receiver.url, "types": ["thing.changed", "nope.x"]},
        headers=owner,
    )
    body = assert_problem(answer, 422)
    assert "nope.x" in body["detail"]
    assert body["errors"] == [
        {
            "field": "body.types.1",
            "message": "unknown event type 'nope.x'",
            "allowed": ["person.enrolled", "thing.changed"],
        }
    ]
    assert (await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions", headers=owner)).json()["total"] == 0
    made = await subscribe(client, owner, receiver.url, [f"civic.{SERVICE}.thing.changed", "person.enrolled"])
    assert made["types"] == [f"civic.{SERVICE}.person.enrolled", f"civic.{SERVICE}.thing.changed"]


def test_every_event_type_the_services_write_is_listed() -> None:
    root = Path(__file__).resolve().parents[2] / "services"
    literal = re.compile(r'type=f?"([a-z_]+)\.(\{[a-z_]+\}|[a-z_]+)"')
    for service, known in EVENT_TYPES.items():
        written: set[str] = set()
        for source in (root / service / service).rglob("*.py"):
            for noun, verb in literal.findall(source.read_text(encoding="utf-8")):
                if verb.startswith("{"):
                    assert any(t.startswith(noun + ".") for t in known), (service, noun)
                else:
                    written.add(f"{noun}.{verb}")
        assert written <= known, (service, written - known)
    assert {t.split(".")[1] for t in EVENT_TYPES["renewal"] if t.startswith("report.")} >= {
        "submitted",
        "accepted",
        "returned",
        "reopened",
    }
    assert {t for t in EVENT_TYPES["welfare"] if t.startswith("enrolment.")} == {
        "enrolment.started",
        "enrolment.changed",
        "enrolment.ended",
    }


async def test_rotate_secret_honours_the_idempotency_key_and_keeps_exactly_the_previous_secret(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    owner = client_headers(mint, "rotating")
    first = await subscribe(client, owner, receiver.url)
    other = await subscribe(client, owner, receiver.url)
    path = f"/api/{SERVICE}/v1/webhook-subscriptions/{first['id']}/rotate-secret"
    keyed = dict(owner, **{"Idempotency-Key": "rot-1"})
    answers = await asyncio.gather(*(client.post(path, headers=keyed) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.json()["secret"] for a in answers}) == 1  # one rotation, answered five times
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == [""] + ["true"] * 4
    second = answers[0].json()["secret"]
    # the same key with another body, or for another subscription: 422, nothing rotated
    assert_problem(await client.post(path, headers=keyed, json={"again": True}), 422)
    assert_problem(
        await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{other['id']}/rotate-secret", headers=keyed
        ),
        422,
    )

    async def secrets_now() -> list[str]:
        assert tables.webhook_subscriptions is not None
        async with sessions(app)() as s:
            row = (
                await s.execute(
                    tables.webhook_subscriptions.select().where(
                        tables.webhook_subscriptions.c.id == uuid.UUID(first["id"])
                    )
                )
            ).one()
        return active_secrets(row, dt.datetime.now(dt.UTC))

    assert await secrets_now() == [second, first["secret"]]  # the original signs during the grace
    third = (await client.post(path, headers=dict(owner, **{"Idempotency-Key": "rot-2"}))).json()["secret"]
    assert await secrets_now() == [third, second]  # exactly the previous one, not the original
    # rotations at the same time without a key form a chain: the row keeps the newest two answers
    many = await asyncio.gather(*(client.post(path, headers=owner) for _ in range(6)))
    issued = [a.json()["secret"] for a in many]
    assert len(set(issued)) == 6
    current, previous = await secrets_now()
    assert current in issued
    assert previous in issued
    # the receiver verifies with both
    await emit(app, "thing.changed")
    relay = relay_of(app)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 2)
    finally:
        await relay.stop()
    # the delivery of the rotated subscription (the other one's has one signature)
    headers, body = next((h, b) for h, b in receiver.received if " " in h["webhook-signature"])
    Webhook(current).verify(body, headers)
    Webhook(previous).verify(body, headers)


async def _next_second(after: float) -> None:
    """Wait until a token minted now has an ``iat`` at or after ``after`` (whole seconds)."""
    await asyncio.sleep(max(0.0, after - time.time()))


async def test_a_client_narrowed_or_deactivated_gets_its_subscription_paused_and_nothing_sent(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    """The gateway revokes a client's tokens when it is deactivated or its grants change; the
    relay must then stop using the grants kept with the subscription: pause it, withhold what
    is pending, send nothing (above all no citizen ID), until the client confirms its current
    grants with a token issued since."""
    subject = "client:watched"
    owner = mint.headers(
        scopes=[f"{SERVICE}:read", f"{SERVICE}:pii"],
        jurisdictions=["211100"],
        client_id="watched",
        subject=subject,
    )
    bystander = client_headers(mint, "bystander")
    subscription = await subscribe(client, owner, receiver.url)
    unaffected = await subscribe(client, bystander, receiver.url)
    revocations = RevocationList()
    revocations.replace({})
    relay = relay_of(app, revocations)
    await relay.start(loop=False)
    number = citizen_id("19480404", region="211102")
    try:
        queued = await emit(
            app, "person.enrolled", data={"person_id": "p1"}, personal={"citizen_id": VAULT.protect(number)}
        )
        await relay.queue()  # queued while the grants were current
        # the administrator narrows (or deactivates) the client: its tokens before the next second end
        revoked_at = float(int(time.time()) + 1)
        revocations.replace({subject_digest(subject): revoked_at})
        later = await emit(
            app, "person.enrolled", data={"person_id": "p2"}, personal={"citizen_id": VAULT.protect(number)}
        )
        await drain(relay, receiver, 2)  # the bystander's two
        assert sorted(receiver.events()) == sorted([str(queued), str(later)])
        assert all(
            json.loads(body)["data"].get("citizen_id") is None for _, body in receiver.received
        )  # the bystander has no pii; the watched client's deliveries never left
        assert all(Webhook(unaffected["secret"]).verify(body, headers) for headers, body in receiver.received)
        read = (
            await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=owner)
        ).json()
        assert read["active"] is False
        assert "watched" in read["paused_reason"]
        assert "grants" in read["paused_reason"]
        log = (
            await client.get(
                f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=owner
            )
        ).json()["items"]
        assert [(d["event_id"], d["status"], d["attempts"]) for d in log] == [(str(queued), "withheld", 0)]
        # nothing more is queued or sent while it stays paused
        await emit(app, "person.enrolled", data={"person_id": "p3"})
        receiver.received.clear()
        await drain(relay, receiver, 1)
        assert all(Webhook(unaffected["secret"]).verify(body, headers) for headers, body in receiver.received)
        # a resume with a token from before the change (the gateway's list makes the service
        # refuse it; this test's verifier does not) shows the old grants: the relay pauses again
        assert (
            await client.post(
                f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/resume", headers=owner
            )
        ).json()["active"] is True
        receiver.received.clear()
        for _ in range(3):
            await relay.run_once()
        assert receiver.received == []
        read = (
            await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=owner)
        ).json()
        assert read["active"] is False
        # the client, narrowed to no pii, confirms with a token issued since: deliveries resume
        # under the current grants (no number)
        await _next_second(revoked_at)
        narrowed = mint.headers(
            scopes=[f"{SERVICE}:read"], jurisdictions=["211100"], client_id="watched", subject=subject
        )
        resumed = await client.post(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/resume", headers=narrowed
        )
        assert resumed.json()["active"] is True
        receiver.received.clear()
        await emit(
            app, "person.enrolled", data={"person_id": "p4"}, personal={"citizen_id": VAULT.protect(number)}
        )
        # what happened since the subscription's position (p2, p3: never queued while paused)
        # and p4 reach the watched client under its confirmed grants, p4 the bystander
        await drain(relay, receiver, 4)
        mine = [
            json.loads(body)
            for headers, body in receiver.received
            if _verifies(subscription["secret"], body, headers)
        ]
        assert [event["data"]["person_id"] for event in mine] == ["p2", "p3", "p4"]
        assert all("citizen_id" not in event["data"] for event in mine)
        assert number.encode() not in b"".join(body for _, body in receiver.received)
        assert str(queued) not in [event["id"] for event in mine]  # withheld stays withheld
    finally:
        await relay.stop()


async def test_grants_not_checked_within_the_window_pause_the_subscription(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    """The gateway lists a revocation only for a while (a token's lifetime and a minute): a
    subscription whose grants were last checked longer ago than the window (no relay ran, the
    list could not be fetched) may have missed one; it is paused, nothing sent. One checked
    within the window is delivered and its check moves on."""
    lapsed = await subscribe(client, client_headers(mint, "lapsed"), receiver.url)
    recent = await subscribe(client, client_headers(mint, "recent"), receiver.url)
    async with sessions(app)() as s, s.begin():
        await s.execute(
            text(
                f"UPDATE {SCHEMA}.webhook_subscriptions SET grants_issued_at = now() - interval '2 hours', "
                "grants_checked_at = now() - make_interval(secs => :age) WHERE id = :id"
            ),
            [
                {"age": 3600, "id": uuid.UUID(lapsed["id"])},
                {"age": 200, "id": uuid.UUID(recent["id"])},
            ],
        )
    revocations = RevocationList()
    revocations.replace({})  # fetched now, nothing against either
    await emit(app, "thing.changed")
    relay = relay_of(app, revocations, webhooks_revocation_window_seconds=600)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    headers, body = receiver.received[0]
    assert len(receiver.received) == 1
    Webhook(recent["secret"]).verify(body, headers)
    read = (
        await client.get(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{lapsed['id']}", headers=client_headers(mint, "lapsed")
        )
    ).json()
    assert read["active"] is False
    assert "could not be checked" in read["paused_reason"]
    log = (
        await client.get(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{lapsed['id']}/deliveries",
            headers=client_headers(mint, "lapsed"),
        )
    ).json()["items"]
    assert [d["status"] for d in log] in ([], ["withheld"])
    async with sessions(app)() as s:
        age = await s.scalar(
            text(
                f"SELECT extract(epoch FROM now() - grants_checked_at) FROM {SCHEMA}.webhook_subscriptions "
                "WHERE id = :id"
            ),
            {"id": uuid.UUID(recent["id"])},
        )
    assert float(age) < 150  # checked again by this round's list


async def test_without_a_recent_revocation_list_deliveries_wait(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    await subscribe(client, client_headers(mint, "waiting"), receiver.url)
    event_id = await emit(app, "thing.changed")
    revocations = RevocationList()  # the gateway has not answered yet
    relay = relay_of(app, revocations)
    await relay.start(loop=False)
    try:
        for _ in range(3):
            assert await relay.run_once() == 0
        assert receiver.received == []
        revocations.replace({})
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    assert receiver.events() == [str(event_id)]


async def test_an_idle_relay_does_not_ask_the_gateway_for_revocations(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    """With no subscription active a round has nothing to queue or send: it does not fetch the
    revocation list (each replica of each service would otherwise ask the gateway every round);
    once one is active, rounds fetch it again and deliver."""
    fetches = 0

    async def fetch() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return {"not_before": {}}

    revocations = RevocationList(fetch, max_age_seconds=0.01)
    relay = relay_of(app, revocations)
    await relay.start(loop=False)
    try:
        await emit(app, "thing.changed")
        for _ in range(3):
            assert await relay.run_once() == 0
            await asyncio.sleep(0.02)
        assert fetches == 0
        await subscribe(client, client_headers(mint, "late"), receiver.url)
        event_id = await emit(app, "thing.changed")
        await drain(relay, receiver, 1)
        assert fetches > 0
    finally:
        await relay.stop()
    assert receiver.events() == [str(event_id)]


async def test_a_revocation_during_a_batch_stops_it_before_the_next_delivery(
    app: FastAPI, client: httpx.AsyncClient, mint: TokenMint, receiver: Receiver
) -> None:
    subject = "client:mid-batch"
    owner = mint.headers(
        scopes=[f"{SERVICE}:read", f"{SERVICE}:pii"],
        jurisdictions=["211100"],
        client_id="mid-batch",
        subject=subject,
    )
    subscription = await subscribe(client, owner, receiver.url)
    written = [await emit(app, "thing.changed") for _ in range(3)]
    revocations = RevocationList()
    revocations.replace({})
    # the administrator deactivates the client while the first delivery is being answered
    receiver.on_request = lambda: revocations.replace({subject_digest(subject): time.time() + 1})
    relay = relay_of(app, revocations)
    await relay.start(loop=False)
    try:
        await drain(relay, receiver, 1)
    finally:
        await relay.stop()
    assert receiver.events() == [str(written[0])]
    log = (
        await client.get(
            f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=owner
        )
    ).json()["items"]
    assert sorted((d["event_id"], d["status"]) for d in log) == sorted(
        [(str(written[0]), "delivered"), (str(written[1]), "withheld"), (str(written[2]), "withheld")]
    )
    read = (
        await client.get(f"/api/{SERVICE}/v1/webhook-subscriptions/{subscription['id']}", headers=owner)
    ).json()
    assert read["active"] is False


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


# -- NATS JetStream -----------------------------------------------------------------------

NATS_URL = "nats://127.0.0.1:4222"
TEST_STREAM = "CIVIC_EVENTS_TEST"


@pytest.fixture
async def jetstream() -> AsyncIterator[Any]:
    nats = pytest.importorskip("nats")
    try:
        connection = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:  # no server: the embedded default needs none
        pytest.skip(f"no NATS server with JetStream answers on {NATS_URL} ({type(exc).__name__})")
    js = connection.jetstream()
    with contextlib.suppress(Exception):
        await js.delete_stream(TEST_STREAM)  # the publisher must create it
    yield js
    with contextlib.suppress(Exception):
        await js.delete_stream(TEST_STREAM)
    await connection.close()


async def test_events_are_published_to_jetstream_once_each(
    app: FastAPI, client: httpx.AsyncClient, jetstream: Any
) -> None:
    written = [await emit(app, "thing.changed") for _ in range(3)] + [await emit(app, "other.done")]
    publisher = NatsPublisher(NATS_URL, stream=TEST_STREAM, subjects=(f"civic.{SERVICE}.>",))
    relay = Relay(SERVICE, sessions(app), tables, app.state.settings, nats=publisher)
    await relay.start(loop=False)
    try:
        deadline = asyncio.get_running_loop().time() + 90
        published = 0
        while published < len(written) and asyncio.get_running_loop().time() < deadline:
            published += await relay.publish()
            await asyncio.sleep(0.05)
        assert published == len(written)
        # a crash after the broker's acknowledgement and before the position was saved: the
        # relay publishes the same events again and the server drops the repeats (Nats-Msg-Id)
        async with sessions(app)() as s, s.begin():
            await s.execute(
                text(f"UPDATE {SCHEMA}.event_publications SET after_transaction_id = 0, after_sequence = 0")
            )
        assert await relay.publish() == len(written)
    finally:
        await relay.stop()
    info = await jetstream.stream_info(TEST_STREAM)
    assert info.state.messages == len(written)
    for number, event_id in enumerate(written, start=1):
        message = await jetstream.get_msg(TEST_STREAM, number)
        assert message.headers["Nats-Msg-Id"] == str(event_id)
        body = json.loads(message.data)
        assert body["id"] == str(event_id)
        assert message.subject == f"civic.{SERVICE}.{'other.done' if number == 4 else 'thing.changed'}"


async def test_a_long_transaction_elsewhere_does_not_hold_the_feed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A batch of another schema (another service, another database of the server) running for
    minutes must not stall this feed: only this schema's writers count."""
    _, cursor = await read_all(client)
    async with sessions(app)() as elsewhere:
        await elsewhere.begin()
        await elsewhere.execute(text("CREATE TEMPORARY TABLE batch (n int) ON COMMIT DROP"))
        await elsewhere.execute(text("INSERT INTO batch VALUES (1)"))  # holds a transaction id
        assert await elsewhere.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL"))
        written = await emit(app, "during.batch")
        seen, _ = await read_until(client, cursor, 1)
        assert [item["id"] for item in seen] == [str(written)]
        await elsewhere.rollback()
