"""The platform's job shape (shared.jobs) against a real PostgreSQL, in-process.

A scratch schema holds a job table and a tiny ledger of items, each due an amount. The
tests interleave transactions deterministically (a second transaction is seen waiting in
``pg_stat_activity`` before the first commits), so nothing depends on timing:

- booking locks: a city-wide and a county booking of the same items wait for each other
  and book once; two counties do not wait; a synchronous run that waits too long gets 409;
- admission: an overlapping request gets 409 naming the active run, a run the service
  starts itself is queued, a run of another county is admitted;
- claims and leases: one replica wins a claim; overlapping runs go one at a time in order;
  a live lease is respected, an expired one is taken over; a replica that lost its lease
  cannot record a part; the runner keeps its lease with heartbeats, stops when it loses it,
  retries a failing job and then marks it failed;
- a service's runner (ServiceJobs): its big statements run under the job settings' limits
  for their transaction only, its completion event is written in the finishing transaction,
  and a runner that lost the lease writes no event; the runs a caller lists and reads are
  those of its area;
- a kind's status routes (shared.job_routes) answer at the kind's address, with the
  operations named as the service names them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import Numeric, String, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.auth import Principal
from shared.db import Database, service_metadata
from shared.errors import NotFound
from shared.job_routes import add_job_status_routes
from shared.jobs import (
    ActiveJobConflict,
    BackgroundJob,
    BackgroundJobRead,
    Busy,
    JobKind,
    JobRunner,
    Lease,
    LeaseLost,
    Outcome,
    ServiceJobs,
    admit,
    booking_keys,
    job_constraints,
    lock_for_booking,
    run_in_scope,
    runs_in_scope,
)
from shared.jurisdictions import registry
from shared.pagination import PageParams
from shared.records import PlatformTables
from shared.service_app import operation_id
from shared.settings import JobSettings, ServiceSettings
from shared.writes import Event

SCHEMA = "jobs_test"
CITY, COUNTY, OTHER_COUNTY = "211100", "211103", "211102"
metadata = service_metadata(SCHEMA)
TABLES = PlatformTables.declare(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    __mapper_args__ = {"eager_defaults": True}


class Run(BackgroundJob, Base):
    __tablename__ = "runs"
    __table_args__ = job_constraints()


class Entry(Base):
    __tablename__ = "entries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    item: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))


KIND = JobKind(name="test.run", model=Run, path="/api/test/v1/runs/{id}", what="test run")
DUE = {
    ("item-a", COUNTY): Decimal("100.00"),
    ("item-b", COUNTY): Decimal("40.00"),
    ("item-c", OTHER_COUNTY): Decimal("7.00"),
}


@pytest.fixture(scope="module")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(
        ServiceSettings(service_name="jobs-test", database_url=database_url, log_json=False), SCHEMA
    )
    async with db.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
    yield db
    async with db.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{SCHEMA}" CASCADE'))
    await db.dispose()


@pytest.fixture
async def clean(database: Database) -> Database:
    async with database.sessions() as session:
        await session.execute(text("TRUNCATE runs, entries, outbox"))
        await session.commit()
    return database


async def waiting_on_advisory_lock(database: Database, pid: int) -> None:
    """Return once backend ``pid`` waits for an advisory lock (fails after 10 s)."""
    for _ in range(1000):
        async with database.sessions() as session:
            event = await session.scalar(
                text("SELECT wait_event FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        if event == "advisory":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for an advisory lock")


async def booked_of(session: AsyncSession, item: str) -> Decimal:
    found = await session.scalar(select(func.coalesce(func.sum(Entry.amount), 0)).where(Entry.item == item))
    return Decimal(found or 0)


async def book(session: AsyncSession, area: list[str], *, locked: bool = True) -> int:
    """A "due − already booked" run over the items of ``area``; entries written."""
    if locked:
        await lock_for_booking(session, booking_keys("test.ledger", area, [0]))
    written = 0
    for (item, jurisdiction), due in DUE.items():
        if jurisdiction in area and (booked := await booked_of(session, item)) != due:
            session.add(Entry(item=item, jurisdiction=jurisdiction, amount=due - booked))
            written += 1
    await session.flush()
    return written


async def totals(database: Database) -> dict[str, Decimal]:
    async with database.sessions() as session:
        rows = await session.execute(select(Entry.item, func.sum(Entry.amount)).group_by(Entry.item))
        return {item: Decimal(total) for item, total in rows}


def scope(code: str) -> list[str]:
    return registry().subtree(code)


async def county_reads_then_city_books(database: Database, *, locked: bool) -> int:
    """The county reads what is booked; the city books; then the county writes and commits.
    Returns what the city wrote."""
    async with database.sessions() as county, database.sessions() as city:
        if locked:
            await lock_for_booking(county, booking_keys("test.ledger", scope(COUNTY), [0]))
        already = {item: await booked_of(county, item) for item in ("item-a", "item-b")}
        city_pid = int(await city.scalar(text("SELECT pg_backend_pid()")) or 0)
        city_run = asyncio.create_task(book(city, scope(CITY), locked=locked))
        if locked:
            await waiting_on_advisory_lock(database, city_pid)  # the city waits for the county
        else:
            await city_run  # nothing makes the city wait: it reads before the county writes
            await city.commit()
        for item, amount in already.items():
            county.add(Entry(item=item, jurisdiction=COUNTY, amount=DUE[(item, COUNTY)] - amount))
        await county.commit()
        written = await city_run
        await city.commit()
        return written


async def test_a_city_run_waits_for_a_county_run_of_the_same_items_and_books_the_difference(
    clean: Database,
) -> None:
    assert await county_reads_then_city_books(clean, locked=True) == 1  # only 211102's item was left
    assert await totals(clean) == {
        "item-a": Decimal("100.00"),
        "item-b": Decimal("40.00"),
        "item-c": Decimal("7.00"),
    }


async def test_without_the_locks_the_same_runs_book_twice(clean: Database) -> None:
    """The finding the locks fix, reproduced: both compute "due − booked" before either commits."""
    assert await county_reads_then_city_books(clean, locked=False) == 3
    assert await totals(clean) == {
        "item-a": Decimal("200.00"),
        "item-b": Decimal("80.00"),
        "item-c": Decimal("7.00"),
    }


async def test_two_counties_do_not_wait_for_each_other(clean: Database) -> None:
    database = clean
    async with database.sessions() as first, database.sessions() as second:
        assert await book(first, scope(COUNTY)) == 2
        # the first still holds its locks: the other county books without waiting
        assert await asyncio.wait_for(book(second, scope(OTHER_COUNTY)), timeout=30) == 1
        await second.commit()
        await first.commit()


async def test_many_overlapping_runs_at_once_book_exactly_what_is_due(clean: Database) -> None:
    database = clean
    scopes = [scope(random.choice([CITY, COUNTY, OTHER_COUNTY])) for _ in range(16)]

    async def one(area: list[str]) -> None:
        async with database.sessions() as session:
            await book(session, area)
            await session.commit()

    await asyncio.gather(*(one(area) for area in scopes))
    covered = {code for area in scopes for code in area}
    assert await totals(database) == {item: due for (item, code), due in DUE.items() if code in covered}


async def test_a_run_answered_within_its_request_gets_409_when_the_area_stays_busy(clean: Database) -> None:
    database = clean
    async with database.sessions() as holder, database.sessions() as waiter:
        await lock_for_booking(holder, booking_keys("test.ledger", scope(COUNTY), [0]))
        with pytest.raises(Busy) as refused:
            await lock_for_booking(
                waiter, booking_keys("test.ledger", scope(CITY), [0]), timeout_ms=100, busy_detail="busy here"
            )
        assert (refused.value.status, refused.value.detail) == (409, "busy here")
        assert int(refused.value.headers["Retry-After"]) > 0


async def record(session: AsyncSession, jurisdiction: str, *, queue: bool) -> Run:
    await admit(session, KIND, jurisdiction=jurisdiction, queue=queue)
    run = Run(
        jurisdiction=jurisdiction,
        status="queued",
        requested_by="tester",
        errors=[],
        total=0,
        done=0,
        attempts=0,
    )
    session.add(run)
    await session.flush()
    return run


async def test_admission_refuses_an_overlapping_request_and_queues_an_internal_run(clean: Database) -> None:
    database = clean
    async with database.sessions() as first, database.sessions() as second:
        county_run = await record(first, COUNTY, queue=False)
        second_pid = await second.scalar(text("SELECT pg_backend_pid()"))
        city_request = asyncio.create_task(record(second, CITY, queue=False))
        await waiting_on_advisory_lock(database, int(second_pid or 0))  # decided one after the other
        await first.commit()
        with pytest.raises(ActiveJobConflict) as refused:
            await city_request
        await second.rollback()
    problem = refused.value
    assert problem.status == 409
    assert problem.headers["Location"] == f"/api/test/v1/runs/{county_run.id}"
    assert problem.extra["active_job"] == {
        "id": str(county_run.id),
        "jurisdiction": COUNTY,
        "status": "queued",
        "location": f"/api/test/v1/runs/{county_run.id}",
    }
    async with database.sessions() as session:
        elsewhere = await record(session, OTHER_COUNTY, queue=False)  # does not overlap 211103
        internal = await record(session, CITY, queue=True)  # never refused: it waits its turn
        await session.commit()
    assert internal.status == elsewhere.status == "queued"


def runner(
    database: Database, owner: str, work: Callable[[Lease], Any] | None = None, **settings: Any
) -> JobRunner:
    async def nothing(lease: Lease) -> Outcome:
        return Outcome()

    defaults: dict[str, Any] = {
        "lease_seconds": 30,
        "heartbeat_seconds": 1,
        "poll_seconds": 60,
        "max_attempts": 3,
    }
    return JobRunner(
        database, KIND, work or nothing, settings=JobSettings(**(defaults | settings)), owner=owner
    )


async def queued(database: Database, jurisdiction: str) -> uuid.UUID:
    async with database.sessions() as session:
        run = await record(session, jurisdiction, queue=True)
        await session.commit()
        return run.id


async def job(database: Database, job_id: uuid.UUID) -> Run:
    async with database.sessions() as session:
        found = await session.get(Run, job_id)
        assert found is not None
        return found


async def test_one_replica_wins_a_claim(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    replicas = [runner(clean, f"replica-{n}") for n in range(6)]
    leases = await asyncio.gather(*(r.claim(job_id) for r in replicas))
    won = [lease for lease in leases if lease is not None]
    assert len(won) == 1
    assert (await job(clean, job_id)).lease_owner == won[0].owner
    assert won[0].attempt == 1


async def test_overlapping_runs_go_one_at_a_time_in_the_order_they_were_recorded(clean: Database) -> None:
    city_run, county_run, other_run = [await queued(clean, code) for code in (CITY, COUNTY, OTHER_COUNTY)]
    replica = runner(clean, "replica")
    assert await replica.claim(county_run) is None  # the city's run was recorded first
    city_lease = await replica.claim(city_run)
    assert city_lease is not None
    assert await replica.claim(county_run) is None  # the city's run is running
    assert await replica.claim(other_run) is None  # the city's run covers 211102 too
    await replica._finish(city_lease, Outcome())
    assert await replica.claim(county_run) is not None
    assert await replica.claim(other_run) is not None  # 211102 and 211103 do not overlap


async def test_a_live_lease_is_respected_and_an_expired_one_is_taken_over(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    first, second = runner(clean, "first"), runner(clean, "second")
    lease = await first.claim(job_id)
    assert lease is not None
    assert await second.claim(job_id) is None
    async with clean.sessions() as session:  # the first replica died: nobody renews its lease
        await session.execute(
            update(Run).where(Run.id == job_id).values(lease_expires_at=text("now() - interval '1 second'"))
        )
        await session.commit()
    taken = await second.claim(job_id)
    assert taken is not None
    assert taken.attempt == 2
    # the first replica, if it still runs, can no longer record a part of the job
    async with clean.sessions() as session:
        recorded = (
            await session.execute(update(Run).where(lease.holds()).values(done=1).returning(Run.id))
        ).first()
    assert recorded is None
    async with clean.sessions() as session:
        recorded = (
            await session.execute(update(Run).where(taken.holds()).values(done=1).returning(Run.id))
        ).first()
        await session.commit()
    assert recorded is not None


async def test_heartbeats_keep_a_long_job_with_its_replica(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    ran: list[str] = []

    async def slow(lease: Lease) -> Outcome:
        ran.append(lease.owner)
        await asyncio.sleep(2.5)  # longer than the lease: only heartbeats keep it
        return Outcome(status="partial", errors=[{"message": "2 items left out"}])

    first = runner(clean, "first", slow, lease_seconds=1.5, heartbeat_seconds=0.2, poll_seconds=0.1)
    second = runner(clean, "second", slow, lease_seconds=1.5, heartbeat_seconds=0.2, poll_seconds=0.1)
    await first.start(job_id)
    await asyncio.sleep(0.3)
    await second.open()  # a second replica polls the whole time
    try:
        await asyncio.wait_for(first.tasks[job_id], timeout=30)
    finally:
        await second.close()
        await first.close()
    finished = await job(clean, job_id)
    assert ran == ["first"]
    assert (finished.status, finished.attempts, finished.lease_owner) == ("partial", 1, "first")
    assert finished.errors == [{"message": "2 items left out"}]
    assert finished.finished_at is not None
    assert finished.lease_expires_at is None


async def test_a_replica_that_loses_its_lease_stops_its_work(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    stopped = asyncio.Event()

    async def endless(lease: Lease) -> Outcome:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return Outcome()

    replica = runner(clean, "replica", endless, lease_seconds=2, heartbeat_seconds=0.1)
    await replica.start(job_id)
    for _ in range(500):
        if (await job(clean, job_id)).status == "running":
            break
        await asyncio.sleep(0.01)
    async with clean.sessions() as session:  # another replica took it over meanwhile
        await session.execute(update(Run).where(Run.id == job_id).values(lease_owner="another"))
        await session.commit()
    await asyncio.wait_for(stopped.wait(), timeout=30)
    await replica.close()
    assert ((await job(clean, job_id)).status, (await job(clean, job_id)).lease_owner) == (
        "running",
        "another",
    )


async def test_a_failing_job_is_retried_then_marked_failed(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    attempts: list[int] = []

    async def failing(lease: Lease) -> Outcome:
        attempts.append(lease.attempt)
        raise RuntimeError("the standard of 211103 cannot be read: 211103199001011234")

    replica = runner(clean, "replica", failing, poll_seconds=0.05, max_attempts=3)
    await replica.open()
    try:
        for _ in range(1000):
            if (await job(clean, job_id)).status == "failed":
                break
            await asyncio.sleep(0.02)
    finally:
        await replica.close()
    failed = await job(clean, job_id)
    assert (failed.status, failed.attempts, attempts) == ("failed", 3, [1, 2, 3])
    assert [e["attempt"] for e in failed.errors] == [1, 2, 3]
    assert all("2111**********1234" in e["message"] for e in failed.errors)  # citizen IDs masked
    assert failed.finished_at is not None


async def test_closing_releases_the_lease_for_the_next_replica(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)

    async def endless(lease: Lease) -> Outcome:
        await asyncio.sleep(3600)
        return Outcome()

    replica = runner(clean, "replica", endless)
    await replica.start(job_id)
    for _ in range(500):
        if (await job(clean, job_id)).status == "running":
            break
        await asyncio.sleep(0.01)
    await replica.close()  # a deploy stops the process
    resumed = await runner(clean, "next").claim(job_id)
    assert resumed is not None
    assert resumed.attempt == 2


def test_booking_keys_are_stable_sorted_and_shared_by_overlapping_areas() -> None:
    county = booking_keys("welfare.ledger", scope(COUNTY), range(4))
    city = booking_keys("welfare.ledger", scope(CITY), range(4))
    assert county == sorted(county)
    assert city == sorted(city)
    assert set(county) < set(city)
    assert not set(county) & set(booking_keys("welfare.ledger", scope(OTHER_COUNTY), range(4)))
    assert not set(county) & set(booking_keys("eldercare.snapshots", scope(COUNTY), range(4)))
    assert len(county) == 4


async def test_an_expired_lease_is_seen_in_the_database_clock(clean: Database, database_url: str) -> None:
    """Leases compare with the server's clock, not the replicas' (which may differ)."""
    job_id = await queued(clean, COUNTY)
    lease = await runner(clean, "replica", lease_seconds=5).claim(job_id)
    assert lease is not None
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        left = await connection.fetchval(
            f"SELECT lease_expires_at - now() FROM {SCHEMA}.runs WHERE id = $1", job_id
        )
    finally:
        await connection.close()
    assert dt.timedelta(seconds=0) < left <= dt.timedelta(seconds=5)


class CountingJobs(ServiceJobs):
    """A service's runner: notes the limits its statements run under, then finishes the run."""

    kind = KIND
    tables = TABLES
    service = "jobs-test"
    actor = "jobs-test-runner"

    def __init__(self, database: Database, owner: str) -> None:
        settings = JobSettings(
            lease_seconds=30, heartbeat_seconds=1, poll_seconds=60, statement_timeout_ms=4321
        )
        super().__init__(database, work_mem="7MB", jobs=settings, owner=owner)
        self.limits: list[tuple[str | None, str | None]] = []

    async def execute(self, lease: Lease) -> Outcome:
        async with self.database.sessions() as session:
            await self.limit(session)
            self.limits.append(await self._settings(session))
            finished = await session.scalar(update(Run).where(lease.holds()).values(done=7).returning(Run))
            await self.finish(session, lease, finished, completed)
            self.limits.append(await self._settings(session))  # the next transaction: defaults again
        return Outcome()

    @staticmethod
    async def _settings(session: AsyncSession) -> tuple[str | None, str | None]:
        work_mem = await session.scalar(text("SELECT current_setting('work_mem')"))
        return work_mem, await session.scalar(text("SELECT current_setting('statement_timeout')"))


def completed(run: Run) -> Event:
    return Event(
        type="run.completed",
        subject=f"/runs/{run.id}",
        jurisdiction=run.jurisdiction,
        data={"done": run.done},
    )


async def events(database: Database) -> list[tuple[str, str | None, dict[str, Any]]]:
    outbox = TABLES.outbox
    assert outbox is not None
    async with database.sessions() as session:
        rows = await session.execute(select(outbox.c.type, outbox.c.actor, outbox.c.data))
        return [(row.type, row.actor, row.data) for row in rows]


async def test_a_service_runner_limits_its_statements_and_finishes_with_its_event(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    jobs = CountingJobs(clean, "replica")
    lease = await jobs.jobs.claim(job_id)
    assert lease is not None
    assert await jobs.execute(lease) == Outcome()
    assert jobs.limits[0] == ("7MB", "4321ms")
    assert jobs.limits[1] != ("7MB", "4321ms")  # set for the finishing transaction only
    assert await events(clean) == [("civic.jobs-test.run.completed", "system:jobs-test-runner", {"done": 7})]


async def test_a_service_runner_that_lost_its_lease_writes_no_event(clean: Database) -> None:
    job_id = await queued(clean, COUNTY)
    jobs = CountingJobs(clean, "replica")
    lease = await jobs.jobs.claim(job_id)
    assert lease is not None
    async with clean.sessions() as session:  # another replica took it over meanwhile
        await session.execute(update(Run).where(Run.id == job_id).values(lease_owner="another"))
        await session.commit()
    with pytest.raises(LeaseLost):
        await jobs.execute(lease)
    assert await events(clean) == []
    assert (await job(clean, job_id)).done == 0


async def test_the_runs_a_caller_lists_are_those_of_its_area(clean: Database) -> None:
    county, other = await queued(clean, COUNTY), await queued(clean, OTHER_COUNTY)
    city = await queued(clean, CITY)
    reader = Principal(subject="reader", roles=frozenset(), scopes=frozenset(), jurisdictions=(COUNTY,))
    page = PageParams(limit=10, offset=0)
    async with clean.sessions() as session:
        rows, total = await runs_in_scope(session, KIND, principal=reader, page=page)
        assert ([row.id for row in rows], total) == ([county], 1)
        city_reader = Principal(subject="city", roles=frozenset(), scopes=frozenset(), jurisdictions=(CITY,))
        rows, total = await runs_in_scope(session, KIND, principal=city_reader, page=page)
        assert ([row.id for row in rows], total) == ([city, other, county], 3)  # newest first
        rows, total = await runs_in_scope(
            session, KIND, principal=city_reader, page=page, statuses=["running"]
        )
        assert (list(rows), total) == ([], 0)


async def test_a_run_outside_the_callers_area_is_not_found(clean: Database) -> None:
    county, other = await queued(clean, COUNTY), await queued(clean, OTHER_COUNTY)
    reader = Principal(subject="reader", roles=frozenset(), scopes=frozenset(), jurisdictions=(COUNTY,))
    async with clean.sessions() as session:
        assert (await run_in_scope(session, KIND, principal=reader, run_id=county)).id == county
        with pytest.raises(NotFound):
            await run_in_scope(session, KIND, principal=reader, run_id=other)


def status_routes(kind: JobKind) -> APIRouter:
    router = APIRouter(prefix="/api/test/v1", tags=["runs"])
    add_job_status_routes(
        router,
        kind,
        BackgroundJobRead,
        scope="test:read",
        read_name="read_test_run",
        read_summary="A test run",
        list_name="list_test_runs",
        list_summary="Test runs in your area",
    )
    return router


def test_the_status_routes_answer_at_the_kinds_address() -> None:
    app = FastAPI(generate_unique_id_function=operation_id)
    app.include_router(status_routes(KIND))
    paths = app.openapi()["paths"]
    assert sorted(paths) == ["/api/test/v1/runs", "/api/test/v1/runs/{run_id}"]
    one, listed = paths["/api/test/v1/runs/{run_id}"]["get"], paths["/api/test/v1/runs"]["get"]
    assert (one["operationId"], one["summary"]) == ("runs-read_test_run", "A test run")
    assert (listed["operationId"], listed["summary"]) == ("runs-list_test_runs", "Test runs in your area")
    assert sorted(p["name"] for p in listed["parameters"]) == ["limit", "offset", "status"]
    assert "404" in one["responses"]


def test_the_status_routes_refuse_a_kind_read_elsewhere() -> None:
    elsewhere = JobKind(name="test.run", model=Run, path="/api/other/v1/runs/{id}")
    with pytest.raises(ValueError, match="not an address below /api/test/v1"):
        status_routes(elsewhere)
