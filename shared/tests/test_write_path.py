"""The one write path (shared.writes) on an app built like every service's, against a real
PostgreSQL: concurrent twins, stale If-Match, collisions, replays, audit and outbox rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Form, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import String, UniqueConstraint, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platformctl.testing import assert_problem
from shared.db import SessionDep, Versioned, service_metadata
from shared.errors import InvalidInput
from shared.records import PlatformTables
from shared.service_app import create_service_app
from shared.settings import ServiceSettings, async_database_url
from shared.testing import TokenMint, app_client
from shared.writes import Event, UpdateDep, WriteDep

SCHEMA = "write_path_test"
metadata = service_metadata(SCHEMA)
tables = PlatformTables.declare(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Ledger(Versioned, Base):
    __tablename__ = "ledgers"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200))


class LedgerIn(BaseModel):
    code: str
    note: str


class NoteIn(BaseModel):
    note: str


def build_app(database_url: str) -> FastAPI:
    router = APIRouter()

    @router.post("/ledgers", status_code=201)
    async def create(data: LedgerIn, write: WriteDep) -> Response:
        if replay := await write.replay():
            return replay
        if data.code.startswith("bad"):
            raise InvalidInput.field("body.code", "bad")
        ledger = Ledger(code=data.code, note=data.note)
        await write.add(ledger, conflict=f"Ledger {data.code} already exists.")
        await write.record(
            action="create",
            entity="ledger",
            entity_id=ledger.id,
            jurisdiction="211102",
            after={"code": ledger.code},
            event=Event(type="ledger.created", subject=f"/ledgers/{ledger.id}", data={"id": ledger.id}),
        )
        return await write.respond(
            201, {"id": str(ledger.id), "note": ledger.note}, record=ledger, location=f"/ledgers/{ledger.id}"
        )

    @router.post("/ledgers-without-message", status_code=201)
    async def create_unnamed(data: LedgerIn, session: SessionDep) -> dict[str, str]:
        # a write that forgot the write path: the safety net still answers 409, not 500
        session.add(Ledger(code=data.code, note=data.note))
        return {"code": data.code}

    @router.patch("/ledgers/{ledger_id}")
    async def update(ledger_id: uuid.UUID, data: NoteIn, write: UpdateDep) -> Response:
        ledger = await write.session.get(Ledger, ledger_id)
        assert ledger is not None
        write.expect_current(ledger)
        before = {"note": ledger.note}
        ledger.note = data.note
        # hold the transaction open a moment so concurrent twins overlap
        await write.session.execute(text("SELECT pg_sleep(0.05)"))
        await write.flush()
        await write.record(
            action="update",
            entity="ledger",
            entity_id=ledger.id,
            before=before,
            after={"note": data.note},
            event=None,
        )
        return await write.respond(200, {"id": str(ledger.id), "note": ledger.note}, record=ledger)

    @router.post("/ledgers/{code}/refusals", status_code=409)
    async def refuse(code: str, write: WriteDep) -> Response:
        await write.record_apart(action="told-registered-elsewhere", entity="ledger", entity_id=code)
        raise InvalidInput.field("body", "refused")

    settings = ServiceSettings(service_name="writetest", database_url=database_url, log_json=False)
    return create_service_app(
        settings=settings, metadata=metadata, title="writetest", description="writetest", routers=[router]
    )


@pytest.fixture
async def client(database_url: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    headers = mint.headers(scopes=["x:write"], jurisdictions=["211100"])
    async with app_client(build_app(database_url), mint) as http:
        http.headers.update(headers)
        yield http


async def count(client: httpx.AsyncClient, table: str, where: str = "true") -> int:
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    async with app.state.database.sessions() as session:
        return int(await session.scalar(text(f'SELECT count(*) FROM "{SCHEMA}".{table} WHERE {where}')) or 0)


async def test_concurrent_updates_with_one_if_match_make_one_change(client: httpx.AsyncClient) -> None:
    created = await client.post("/ledgers", json={"code": "A1", "note": "first"})
    assert created.status_code == 201
    ledger_id, etag = created.json()["id"], created.headers["ETag"]
    answers = await asyncio.gather(
        *(
            client.patch(f"/ledgers/{ledger_id}", json={"note": f"n{i}"}, headers={"If-Match": etag})
            for i in range(8)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * 7, statuses
    for answer in answers:
        if answer.status_code == 412:
            assert_problem(answer, 412)
    winner = next(a for a in answers if a.status_code == 200)
    assert winner.headers["ETag"] == f'"{ledger_id}-v2"'
    assert await count(client, "audit_log", "action = 'update'") == 1


async def test_updates_need_the_current_etag(client: httpx.AsyncClient) -> None:
    ledger_id = (await client.post("/ledgers", json={"code": "B1", "note": "x"})).json()["id"]
    assert_problem(await client.patch(f"/ledgers/{ledger_id}", json={"note": "y"}), 428)
    stale = f'"{ledger_id}-v9"'
    assert_problem(
        await client.patch(f"/ledgers/{ledger_id}", json={"note": "y"}, headers={"If-Match": stale}), 412
    )


async def test_concurrent_twins_without_a_key_make_one_record_and_409s(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        *(client.post("/ledgers", json={"code": "C1", "note": "twin"}) for _ in range(8))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 7, statuses
    assert all(
        assert_problem(a, 409)["detail"] == "Ledger C1 already exists."
        for a in answers
        if a.status_code == 409
    )
    assert await count(client, "ledgers", "code = 'C1'") == 1
    assert await count(client, "outbox", "type = 'civic.writetest.ledger.created'") == 1


async def test_a_write_outside_the_path_still_answers_409(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        *(client.post("/ledgers-without-message", json={"code": "D1", "note": "n"}) for _ in range(4))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409], statuses
    body = assert_problem(next(a for a in answers if a.status_code == 409), 409)
    assert "D1" not in body["detail"]  # names the constraint, never the values


async def test_a_replay_repeats_status_body_and_headers(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    answers = await asyncio.gather(
        *(client.post("/ledgers", json={"code": "E1", "note": "n"}, headers=headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    assert len({a.headers["ETag"] for a in answers}) == 1
    assert len({a.headers["Location"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    assert await count(client, "ledgers", "code = 'E1'") == 1
    other = await client.post("/ledgers", json={"code": "E2", "note": "n"}, headers=headers)
    assert_problem(other, 422)


async def test_a_refused_request_changes_nothing_but_its_apart_record(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-bad"}
    assert_problem(await client.post("/ledgers", json={"code": "bad1", "note": "n"}, headers=headers), 422)
    assert await count(client, "idempotency_keys") == 0  # the claim rolled back with the request
    assert await count(client, "audit_log") == 0
    assert_problem(await client.post("/ledgers/Z9/refusals"), 422)
    assert await count(client, "audit_log", "action = 'told-registered-elsewhere'") == 1


async def test_outbox_rows_carry_the_transaction_they_were_written_in(client: httpx.AsyncClient) -> None:
    await client.post("/ledgers", json={"code": "F1", "note": "n"})
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    assert tables.outbox is not None
    async with app.state.database.sessions() as session:
        row = (await session.execute(select(tables.outbox))).one()
        later = await session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
        assert 0 < row.transaction_id < (later or 0)
        assert await session.scalar(select(func.count()).select_from(tables.audit_log)) == 1


async def test_an_upload_with_a_key_replays_and_refuses_another_file(
    database_url: str, mint: TokenMint
) -> None:
    router = APIRouter()

    @router.post("/uploads", status_code=201)
    async def upload(write: WriteDep, file: UploadFile, note: Annotated[str, Form()]) -> Response:
        if replay := await write.replay():
            return replay
        content = await file.read()
        return await write.respond(201, {"size": len(content), "note": note})

    settings = ServiceSettings(service_name="writetest", database_url=database_url, log_json=False)
    app = create_service_app(
        settings=settings, metadata=metadata, title="upload", description="upload", routers=[router]
    )
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    async with app_client(app, mint) as client:
        client.headers.update(mint.headers(scopes=["x:write"]))
        client.headers["Idempotency-Key"] = "upload-1"
        first = await client.post("/uploads", files={"file": ("a.pdf", b"%PDF-1")}, data={"note": "n"})
        again = await client.post("/uploads", files={"file": ("a.pdf", b"%PDF-1")}, data={"note": "n"})
        other = await client.post("/uploads", files={"file": ("a.pdf", b"%PDF-2")}, data={"note": "n"})
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(other, 422)


async def test_a_key_used_again_on_another_operation_never_overwrites_the_first_answer(
    client: httpx.AsyncClient,
) -> None:
    """A PATCH that carries the Idempotency-Key of an earlier POST (a client reusing its key)
    must not replace what the POST's retries are answered with."""
    key = {"Idempotency-Key": "reused-on-patch"}
    created = await client.post("/ledgers", json={"code": "K1", "note": "first"}, headers=key)
    assert created.status_code == 201, created.text
    changed = await client.patch(
        f"/ledgers/{created.json()['id']}",
        json={"note": "changed"},
        headers={**key, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    retried = await client.post("/ledgers", json={"code": "K1", "note": "first"}, headers=key)
    assert retried.status_code == 201
    assert retried.json() == created.json()
    assert retried.headers["ETag"] == created.headers["ETag"]
