"""Jobs: the one shape of every run of the platform that works on a whole area.

A job is a row (declare a model with :class:`JobRecord`, or :class:`BackgroundJob` for a
job that runs after its request was answered): the area it covers (a jurisdiction and
its subtree), its status (``queued`` → ``running`` → ``succeeded`` | ``partial`` |
``failed``; ``partial`` means it finished but left some items out, said in ``errors``),
progress (``done`` of ``total``) beside counts of its own, the errors met on the way, and
who asked for it. The rules, the same for every service:

- **One active run per area.** An API request for a run whose area overlaps an active
  (queued or running) run of the same kind is refused with 409 problem+json naming the
  active run (``Location`` header and ``active_job`` in the body). A run the service
  starts by itself (a new standard version, say) is never refused: it queues behind the
  active ones. Admissions of a kind take one transaction-level advisory lock, so requests
  arriving together are decided one after the other (:func:`admit`).
- **Order.** A queued job starts when no overlapping job of its kind is running and none
  queued before it is still waiting.
- **Lease.** A replica runs a job only while it holds the job's lease (owner + expiry),
  renewed by a heartbeat (:class:`JobRunner`). A job whose lease expired, because its
  process died, is taken over and resumed by one replica, the next that polls; nothing
  marks a job failed because it was found ``running`` at start-up, since another replica
  may be running it. Each part of a job commits only while its runner still holds the
  lease (:meth:`Lease.holds`), so a replica that lost its lease rolls its part back.
- **Booking in SQL.** Writes that compute "due − already booked" take transaction-level
  advisory locks (``pg_advisory_xact_lock``, released at commit or rollback: they work
  behind PgBouncer in transaction mode and across replicas) on (namespace, jurisdiction,
  bucket) keys in sorted order (:func:`booking_keys`, :func:`lock_for_booking`). A
  city-wide run and a county run take the same keys for the county's records, so
  whatever runs at the same time computes after the other has committed and books only
  the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from fastapi import Query
from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    Integer,
    String,
    all_,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from shared.access import load_in_scope, paginate, within_scope
from shared.auth import Principal
from shared.db import Database, lock_key
from shared.errors import Conflict, DatabaseUnavailable
from shared.jurisdictions import registry
from shared.logs import mask_citizen_ids
from shared.pagination import PageParams
from shared.records import PlatformTables
from shared.schemas import ResponseModel
from shared.settings import JobSettings
from shared.writes import Event, WriteContext, system_principal

logger = logging.getLogger("shared.jobs")

JobStatus = Literal["queued", "running", "succeeded", "partial", "failed"]
FinalStatus = Literal["succeeded", "partial"]
ACTIVE_STATUSES: tuple[str, ...] = ("queued", "running")
STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "partial", "failed")
LOCK_NOT_AVAILABLE = "55P03"

StatusFilter = Annotated[
    list[JobStatus] | None,
    Query(description=f"only runs with these statuses (active: {', '.join(ACTIVE_STATUSES)})"),
]
"""The ``status`` query parameter of a list of runs."""


# ---------------------------------------------------------------------------- the row


class JobRecord:
    """Columns every job row has (a declarative mixin; add :func:`job_constraints` and an
    index that starts with ``jurisdiction`` to the model's ``__table_args__``)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    errors: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BackgroundJob(JobRecord):
    """A job run after its request was answered: progress, and the lease of its runner."""

    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def job_constraints() -> tuple[CheckConstraint, ...]:
    """For the model's ``__table_args__``."""
    listed = ", ".join(f"'{status}'" for status in STATUSES)
    return (CheckConstraint(f"status IN ({listed})", name="known_status"),)


def job_error(message: str, *, attempt: int | None = None, **details: Any) -> dict[str, Any]:
    """An entry of a job's ``errors`` (citizen ID numbers masked)."""
    entry: dict[str, Any] = {
        "message": mask_citizen_ids(message)[:2000],
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    if attempt is not None:
        entry["attempt"] = attempt
    return entry | details


class JobErrorRead(ResponseModel):
    message: str
    at: dt.datetime | None = None
    attempt: int | None = None


class JobRead(ResponseModel):
    """The fields every job answers with; a job's read model adds its own counts."""

    id: uuid.UUID
    jurisdiction: str
    status: JobStatus
    errors: list[JobErrorRead]
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class BackgroundJobRead(JobRead):
    total: int
    done: int
    attempts: int


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its model, the name its locks derive from, where a run is read."""

    name: str
    model: type[Any]
    path: str
    """The run's address, with ``{id}``: ``/api/welfare/v1/recalculations/{id}``."""
    what: str = "run"

    def location(self, job_id: object) -> str:
        return self.path.format(id=job_id)


async def run_in_scope(
    session: AsyncSession, kind: JobKind, *, principal: Principal, run_id: uuid.UUID
) -> Any:
    """A run of ``kind`` in the caller's area (404 outside it, as for a run that does not exist)."""
    return await load_in_scope(session, kind.model, run_id, principal, kind.what)


async def runs_in_scope(
    session: AsyncSession,
    kind: JobKind,
    *,
    principal: Principal,
    page: PageParams,
    statuses: Sequence[str] = (),
) -> tuple[Sequence[Any], int]:
    """The runs of ``kind`` in the caller's area, newest first (``statuses``: only those)."""
    model = kind.model
    query = within_scope(select(model), model.jurisdiction, principal)
    if statuses:
        query = query.where(model.status.in_(statuses))
    return await paginate(session, query, page, model.created_at.desc(), model.id)


# ---------------------------------------------------------------------------- admission


class ActiveJobConflict(Conflict):
    """409: a run of the same kind whose area overlaps the requested one is queued or running."""

    def __init__(self, kind: JobKind, job: Any) -> None:
        location = kind.location(job.id)
        super().__init__(
            f"A {kind.what} of {job.jurisdiction} that overlaps this one is {job.status}: {location}. "
            "Ask again when it has finished.",
            headers={"Location": location},
            extra={
                "active_job": {
                    "id": str(job.id),
                    "jurisdiction": job.jurisdiction,
                    "status": job.status,
                    "location": location,
                }
            },
        )


class Busy(Conflict):
    """409 with Retry-After: the records of the area are being booked by another run."""

    def __init__(self, detail: str, retry_after_seconds: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


def overlapping_jurisdictions(jurisdiction: str) -> list[str]:
    """Codes whose subtree overlaps ``jurisdiction``'s: its ancestors, itself, its subtree."""
    tree = registry()
    return sorted(set(tree.ancestors_and_self(jurisdiction)) | set(tree.subtree(jurisdiction)))


async def lock_admissions(session: AsyncSession, kind: JobKind) -> None:
    """The kind's admission lock, until the transaction ends (admissions and claims take it)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"{kind.name}:admission")}
    )


async def admit(session: AsyncSession, kind: JobKind, *, jurisdiction: str, queue: bool) -> None:
    """Decide whether a run of ``jurisdiction`` may be recorded in this transaction.

    Takes the kind's admission lock until the transaction ends, so the run recorded next
    is seen by every later admission and claim. ``queue=False`` (an API request) refuses
    with :class:`ActiveJobConflict` when an overlapping run is active; ``queue=True`` (a run
    the service starts by itself) always admits: the run waits its turn.
    """
    await lock_admissions(session, kind)
    if queue:
        return
    active = await active_overlapping(session, kind, jurisdiction=jurisdiction)
    if active is not None:
        raise ActiveJobConflict(kind, active)


async def active_overlapping(session: AsyncSession, kind: JobKind, *, jurisdiction: str) -> Any | None:
    """The earliest queued or running run of ``kind`` whose area overlaps ``jurisdiction``'s."""
    model = kind.model
    return await session.scalar(
        select(model)
        .where(
            model.status.in_(ACTIVE_STATUSES),
            model.jurisdiction.in_(overlapping_jurisdictions(jurisdiction)),
        )
        .order_by(model.status.desc(), model.created_at, model.id)  # a running one first
        .limit(1)
    )


# ---------------------------------------------------------------------------- booking locks


def booking_keys(namespace: str, jurisdictions: Iterable[str], buckets: Iterable[int]) -> list[int]:
    """Lock keys for (jurisdiction, bucket) pairs, sorted: every transaction takes its keys
    in this one global order, so two transactions never wait for each other in a cycle."""
    bucket_list = list(buckets)
    pairs = [(code, bucket) for code in jurisdictions for bucket in bucket_list]
    return sorted({lock_key(f"{namespace}:{code}:{bucket}") for code, bucket in pairs})


def _sqlstate(error: DBAPIError) -> str | None:
    found = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return found if isinstance(found, str) else None


async def lock_for_booking(
    session: AsyncSession,
    keys: Sequence[int],
    *,
    timeout_ms: int | None = None,
    busy_detail: str = "Another run is booking the records of this area; retry shortly.",
) -> None:
    """Take the transaction-level advisory locks ``keys`` in their order; held until commit.

    With ``timeout_ms`` (runs answered within their request) a wait longer than that
    raises :class:`Busy` (409, Retry-After) instead of running into the statement timeout.
    """
    if timeout_ms is not None:
        await session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    try:
        # a function scan yields the array's elements in order: the locks are taken in it
        await session.execute(
            text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": list(keys)},
        )
    except DBAPIError as exc:
        if _sqlstate(exc) == LOCK_NOT_AVAILABLE:
            raise Busy(busy_detail) from exc
        raise
    if timeout_ms is not None:
        await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))


# ---------------------------------------------------------------------------- leases and the runner


class LeaseLost(Exception):
    """This replica no longer holds the job's lease: another one took the job over."""


@dataclass(frozen=True)
class Lease:
    """A replica's hold on a running job; ``attempt`` counts the claims of the job so far."""

    kind: JobKind
    job_id: uuid.UUID
    owner: str
    attempt: int

    def holds(self) -> ColumnElement[bool]:
        """A WHERE clause true only while this lease still holds the job: put it on the
        UPDATE that records a part as done, and raise :class:`LeaseLost` when it matches no
        row (the part then rolls back)."""
        model = self.kind.model
        return and_(model.id == self.job_id, model.lease_owner == self.owner, model.status == "running")


BatchRecorded = Literal["recorded", "recorded_before", "lease_lost"]


async def record_batch(
    session: AsyncSession, *, lease: Lease, batch: int | None, values: Mapping[str, Any]
) -> BatchRecorded:
    """Add a written batch's counts to its job (``values``: the job's columns and their new
    values, as ``done=Model.done + n``), in the batch's transaction, only while ``lease`` holds
    the job and the batch is not among its ``completed_batches`` yet (``batch`` None: a part
    that is not numbered, added whenever the lease holds).

    Otherwise the caller rolls the batch back: ``recorded_before`` (an earlier attempt of the
    job committed it) or ``lease_lost`` (another replica runs the job now: raise
    :class:`LeaseLost`). Nothing is counted twice, and no batch is written by two replicas."""
    model = lease.kind.model
    condition = [lease.holds()]
    changes = dict(values)
    if batch is not None:
        condition.append(literal(batch) != all_(model.completed_batches))
        changes["completed_batches"] = func.array_append(model.completed_batches, batch)
    recorded = (
        await session.execute(update(model).where(*condition).values(**changes).returning(model.id))
    ).first()
    if recorded is not None:
        return "recorded"
    held = await session.scalar(select(model.id).where(lease.holds()))
    return "recorded_before" if held is not None else "lease_lost"


async def settle_batch(session: AsyncSession, lease: Lease, recorded: BatchRecorded) -> None:
    """End a batch's transaction by what :func:`record_batch` answered: commit it when recorded;
    roll it back when an earlier attempt recorded it, or when the lease is lost (then raise
    :class:`LeaseLost`: the job is another replica's now)."""
    if recorded == "recorded":
        await session.commit()
        return
    await session.rollback()
    if recorded == "lease_lost":
        raise LeaseLost(str(lease.job_id))


@dataclass
class Outcome:
    """What a job's work reports when it ends: ``partial`` when it left items out."""

    status: FinalStatus = "succeeded"
    errors: list[dict[str, Any]] = field(default_factory=list)


Work = Callable[[Lease], Coroutine[Any, Any, Outcome]]


def replica_name(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Runs the jobs of one kind in this process, under leases, and polls for work.

    ``start(job_id)`` tries to run a job now (call it after the request that recorded
    the job has committed); :meth:`open` starts polling, which also picks up queued jobs
    whose turn has come and jobs whose lease expired; :meth:`close` stops and releases
    this replica's leases so another replica resumes its jobs at once.
    """

    def __init__(
        self,
        database: Database,
        kind: JobKind,
        work: Work,
        *,
        settings: JobSettings,
        owner: str,
        failed: Callable[[AsyncSession, Lease], Awaitable[None]] | None = None,
    ) -> None:
        self.database = database
        self.kind = kind
        self.work = work
        self.settings = settings
        self.owner = owner
        self.failed = failed
        """Called in the transaction that fails a job after its last attempt (what the job held
        while it worked goes with it)."""
        self.tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def _lease_interval(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.lease_seconds)

    async def open(self) -> None:
        self._poller = asyncio.create_task(self._poll_forever())

    async def close(self) -> None:
        self._closing = True
        tasks = [t for t in (self._poller, *self.tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        model = self.kind.model
        with contextlib.suppress(Exception):
            async with self.database.sessions() as session:
                await session.execute(
                    update(model)
                    .where(model.lease_owner == self.owner, model.status == "running")
                    .values(lease_expires_at=func.now())
                )
                await session.commit()

    async def start(self, job_id: uuid.UUID) -> None:
        """Try to run the job in this process (it may be another replica's, or not its turn)."""
        if self._closing:
            return
        self.tasks = {known: task for known, task in self.tasks.items() if not task.done()}
        task = self.tasks.get(job_id)
        if task is not None and not task.done():
            return
        self.tasks[job_id] = asyncio.create_task(self._attempt(job_id))

    async def poll_once(self) -> None:
        model = self.kind.model
        expired = or_(model.lease_expires_at.is_(None), model.lease_expires_at < func.statement_timestamp())
        async with self.database.sessions() as session:
            ids = (
                await session.scalars(
                    select(model.id)
                    .where(or_(model.status == "queued", and_(model.status == "running", expired)))
                    .order_by(model.created_at, model.id)
                    .limit(100)
                )
            ).all()
        for job_id in ids:
            await self.start(job_id)

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll_once()
            except DatabaseUnavailable:  # said once per poll, without a trace: it is back soon
                logger.warning("polling for %s jobs: the database is unavailable", self.kind.name)
            except Exception:
                logger.warning("polling for %s jobs failed", self.kind.name, exc_info=True)
            await asyncio.sleep(self.settings.poll_seconds)

    async def claim(self, job_id: uuid.UUID) -> Lease | None:
        """Take the job's lease if it is queued and its turn has come, or running with its
        lease expired; None when another replica holds it, or it must wait, or it ended."""
        model = self.kind.model
        async with self.database.sessions() as session:
            await lock_admissions(session, self.kind)
            jurisdiction = await session.scalar(select(model.jurisdiction).where(model.id == job_id))
            if jurisdiction is None:
                return None
            other = aliased(model)
            in_the_way = exists().where(
                other.id != model.id,
                other.jurisdiction.in_(overlapping_jurisdictions(jurisdiction)),
                or_(
                    other.status == "running",
                    and_(
                        model.status == "queued",
                        other.status == "queued",
                        tuple_(other.created_at, other.id) < tuple_(model.created_at, model.id),
                    ),
                ),
            )
            # the server's clock when the claim is made (a transaction may have waited for the lock)
            now = func.statement_timestamp()
            expired = or_(model.lease_expires_at.is_(None), model.lease_expires_at < now)
            claimed = (
                await session.execute(
                    update(model)
                    .where(
                        model.id == job_id,
                        or_(model.status == "queued", and_(model.status == "running", expired)),
                        ~in_the_way,
                    )
                    .values(
                        status="running",
                        lease_owner=self.owner,
                        lease_expires_at=now + self._lease_interval,
                        attempts=model.attempts + 1,
                        started_at=func.coalesce(model.started_at, now),
                    )
                    .returning(model.attempts)
                )
            ).first()
            await session.commit()
        if claimed is None:
            return None
        return Lease(self.kind, job_id, self.owner, int(claimed.attempts))

    async def _attempt(self, job_id: uuid.UUID) -> None:
        try:
            lease = await self.claim(job_id)
        except DatabaseUnavailable:
            logger.warning("could not claim %s %s: the database is unavailable", self.kind.what, job_id)
            return
        except Exception:
            logger.warning("could not claim %s %s", self.kind.what, job_id, exc_info=True)
            return
        if lease is None:
            return
        logger.info("running %s", self.kind.what, extra={"job_id": str(job_id), "attempt": lease.attempt})
        work = asyncio.create_task(self.work(lease))
        heartbeat = asyncio.create_task(self._heartbeat(lease))
        try:
            await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # the heartbeat ended: the lease is lost
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                logger.warning("lost the lease of %s %s", self.kind.what, job_id)
                return
            try:
                outcome = work.result()
            except LeaseLost:
                logger.warning("lost the lease of %s %s", self.kind.what, job_id)
                return
            except Exception as exc:
                logger.exception("%s %s failed", self.kind.what, job_id)
                await self._failed(lease, exc)
                return
            await self._finish(lease, outcome)
        finally:
            for task in (work, heartbeat):
                task.cancel()
            await asyncio.gather(work, heartbeat, return_exceptions=True)
        if not self._closing:
            # this run's end may be the turn of a queued one
            with contextlib.suppress(Exception):
                await self.poll_once()

    async def _heartbeat(self, lease: Lease) -> None:
        """Renew the lease until it is lost (then return); errors are retried next beat."""
        model = self.kind.model
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                async with self.database.sessions() as session:
                    renewed = (
                        await session.execute(
                            update(model)
                            .where(lease.holds())
                            .values(lease_expires_at=func.statement_timestamp() + self._lease_interval)
                            .returning(model.id)
                        )
                    ).first()
                    await session.commit()
            except Exception:
                logger.warning("could not renew a lease", extra={"job_id": str(lease.job_id)}, exc_info=True)
                continue
            if renewed is None:
                return

    async def _finish(self, lease: Lease, outcome: Outcome) -> None:
        model = self.kind.model
        async with self.database.sessions() as session:
            await session.execute(
                update(model)
                .where(lease.holds())
                .values(
                    status=outcome.status,
                    finished_at=func.now(),
                    lease_expires_at=None,
                    errors=model.errors.op("||")(bindparam("new_errors", outcome.errors, type_=JSONB)),
                )
            )
            await session.commit()

    async def _failed(self, lease: Lease, error: Exception) -> None:
        """Record the error; release the job for another attempt, or fail it after the last."""
        model = self.kind.model
        entry = job_error(f"{type(error).__name__}: {error}", attempt=lease.attempt)
        final = lease.attempt >= self.settings.max_attempts
        values: dict[str, Any] = {
            "errors": model.errors.op("||")(bindparam("new_errors", [entry], type_=JSONB)),
            "lease_expires_at": func.now(),
        }
        if final:
            values |= {"status": "failed", "finished_at": func.now(), "lease_expires_at": None}
        with contextlib.suppress(Exception):
            async with self.database.sessions() as session:
                held = (
                    await session.execute(
                        update(model).where(lease.holds()).values(**values).returning(model.id)
                    )
                ).first()
                if final and held is not None and self.failed is not None:
                    await self.failed(session, lease)
                await session.commit()


# ---------------------------------------------------------------------------- a service's runner

RunT = TypeVar("RunT")


async def limit_transaction(session: AsyncSession, *, work_mem: str, statement_timeout_ms: int) -> None:
    """``work_mem`` and the statement timeout of a job's big statements, for this transaction only."""
    await session.execute(text("SELECT set_config('work_mem', :value, true)"), {"value": work_mem})
    timeout = str(int(statement_timeout_ms))
    await session.execute(text("SELECT set_config('statement_timeout', :value, true)"), {"value": timeout})


class ServiceJobs:
    """A service's runner of one kind of job: a subclass names its ``kind``, the ``tables`` and
    ``service`` its completion event is written to and the ``actor`` it is written as, writes
    :meth:`execute` (the work under a lease), opens each transaction of big statements with
    :meth:`limit`, and ends the work with :meth:`finish`."""

    kind: ClassVar[JobKind]
    tables: ClassVar[PlatformTables]
    service: ClassVar[str]
    actor: ClassVar[str]

    def __init__(self, database: Database, *, work_mem: str, jobs: JobSettings, owner: str) -> None:
        self.database = database
        self.work_mem = work_mem
        self.statement_timeout_ms = jobs.statement_timeout_ms
        self.jobs = JobRunner(
            database, self.kind, self.execute, settings=jobs, owner=owner, failed=self.failed
        )

    async def open(self) -> None:
        """Start polling: resumes runs whose lease expired and starts queued runs in turn."""
        await self.jobs.open()

    async def start(self, run_id: uuid.UUID) -> None:
        """Run it here now if it is its turn (called once the request recording it committed)."""
        await self.jobs.start(run_id)

    async def stop(self) -> None:
        await self.jobs.close()

    async def execute(self, lease: Lease) -> Outcome:
        raise NotImplementedError

    async def failed(self, session: AsyncSession, lease: Lease) -> None:
        """In the transaction that fails the job after its last attempt: drop what the work kept
        while it ran (nothing by default)."""

    async def limit(self, session: AsyncSession) -> None:
        await limit_transaction(
            session, work_mem=self.work_mem, statement_timeout_ms=self.statement_timeout_ms
        )

    async def finish(
        self, session: AsyncSession, lease: Lease, finished: RunT | None, event: Callable[[RunT], Event]
    ) -> RunT:
        """End the work in ``session``: the completion event in the transaction that records the
        run ``finished`` (None when the lease no longer held it: :class:`LeaseLost` after the
        commit)."""
        if finished is not None:
            write = WriteContext.for_job(
                session=session,
                principal=system_principal(self.actor),
                tables=self.tables,
                service=self.service,
            )
            await write.emit(event(finished))
        await session.commit()
        if finished is None:
            raise LeaseLost(str(lease.job_id))
        return finished
