"""Recalculation (重新核算) with arrears (补发): the headline job of 盘政办发〔2024〕4号 section 二.

For every enrolment in scope and every month from ``from_month`` that has ledger
entries, the amount due is computed again and, where the entries of that month add up
to another amount, an ``arrears`` entry books the difference.

A run is a background job of the platform's one shape (``shared.jobs``): an API request
whose area overlaps an active run answers 409 naming it, a run started by a new standard
version queues behind it, one replica at a time runs it under a lease, and another
replica resumes it when that lease expires. Booking is serialized in SQL: each bucket of
enrolments is one INSERT … SELECT in its own transaction holding the ledger's booking
locks of that bucket (``welfare.payroll.ledger``), which a city-wide run and a county run
share, so "due − already booked" is always computed after any other booking of the same
entries committed: any number of concurrent, repeated or queued runs books exactly what
is due. ``workers`` connections book buckets side by side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import Database
from shared.jobs import (
    JobKind,
    Lease,
    LeaseLost,
    Outcome,
    ServiceJobs,
    admit,
    job_error,
    lock_for_booking,
    run_in_scope,
    settle_batch,
)
from shared.jurisdictions import registry
from shared.months import YearMonth
from shared.pagination import PageParams
from shared.settings import JobSettings
from shared.writes import Event, WriteContext
from welfare.db import platform_tables
from welfare.payroll.ledger import BUCKETS, ledger_locks
from welfare.payroll.pricing import Pricing, UnitAmount, by_residence, load_price_table, price_table
from welfare.recalculation import repository
from welfare.recalculation.models import RecalculationRun, UnpricedMonth

RECALCULATIONS = JobKind(
    name="welfare.recalculation",
    model=RecalculationRun,
    path="/api/welfare/v1/recalculations/{id}",
    what="recalculation",
)


async def request_run(
    session: AsyncSession,
    *,
    principal: Principal,
    jurisdiction: str,
    from_month: YearMonth,
    trigger: str,
    standard_version_id: uuid.UUID | None = None,
) -> RecalculationRun:
    """:func:`record_run` for a caller that holds a session, not a write context."""
    write = WriteContext.for_job(
        session=session, principal=principal, tables=platform_tables, service="welfare"
    )
    return await record_run(
        write,
        jurisdiction=jurisdiction,
        from_month=from_month,
        trigger=trigger,
        standard_version_id=standard_version_id,
    )


async def record_run(
    write: WriteContext,
    *,
    jurisdiction: str,
    from_month: YearMonth,
    trigger: str,
    standard_version_id: uuid.UUID | None = None,
) -> RecalculationRun:
    """Record a run (queued). ``trigger="request"`` (the API) is refused with 409 while an
    overlapping run is active; any other trigger (the service itself) queues behind it."""
    session = write.session
    await admit(session, RECALCULATIONS, jurisdiction=jurisdiction, queue=trigger != "request")
    scope = registry().subtree(jurisdiction)
    run = RecalculationRun(
        jurisdiction=jurisdiction,
        from_month=from_month.first_day,
        trigger=trigger,
        standard_version_id=standard_version_id,
        status="queued",
        total=await repository.enrolments_paid_since(session, scope=scope, from_month=from_month.first_day),
        done=0,
        attempts=0,
        errors=[],
        recalculated=0,
        changed=0,
        arrears_entries=0,
        arrears_total=Decimal("0.00"),
        overpayments=0,
        overpayment_total=Decimal("0.00"),
        unpriced=0,
        completed_batches=[],
        requested_by=write.principal.actor,
    )
    await write.add(run)
    await write.record(
        action="request",
        entity="recalculation_run",
        entity_id=run.id,
        jurisdiction=jurisdiction,
        after={"from_month": str(from_month), "trigger": trigger, "total": run.total},
        event=None,
    )
    return run


async def get_run(session: AsyncSession, *, principal: Principal, run_id: uuid.UUID) -> RecalculationRun:
    run: RecalculationRun = await run_in_scope(session, RECALCULATIONS, principal=principal, run_id=run_id)
    return run


async def unpriced_months(
    session: AsyncSession, *, principal: Principal, run_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[UnpricedMonth], int]:
    """The enrolment-months a run in the caller's area stopped (404 outside it)."""
    await get_run(session, principal=principal, run_id=run_id)
    return await repository.unpriced_months(session, run_id=run_id, page=page)


def completed_event(run: RecalculationRun) -> Event:
    """``recalculation.completed`` with its arrears totals (in the run's finishing transaction)."""
    return Event(
        type="recalculation.completed",
        subject=f"/recalculations/{run.id}",
        jurisdiction=run.jurisdiction,
        data={
            "recalculation_id": run.id,
            "status": "partial" if run.unpriced else "succeeded",
            "from_month": str(YearMonth.of(run.from_month)),
            "trigger": run.trigger,
            "standard_version_id": run.standard_version_id,
            "enrolments": run.total,
            "recalculated": run.recalculated,
            "changed": run.changed,
            "arrears_entries": run.arrears_entries,
            "arrears_total": str(run.arrears_total),
            "unpriced": run.unpriced,
        },
    )


class RecalculationRunner(ServiceJobs):
    """Runs recalculations in this process under leases (``shared.jobs.ServiceJobs``)."""

    kind = RECALCULATIONS
    tables = platform_tables
    service = "welfare"
    actor = "welfare-recalculation"

    def __init__(
        self,
        database: Database,
        load_pricing: Callable[[], Awaitable[Pricing]],
        *,
        workers: int,
        work_mem: str,
        jobs: JobSettings,
        owner: str,
    ) -> None:
        super().__init__(database, work_mem=work_mem, jobs=jobs, owner=owner)
        self.load_pricing = load_pricing
        self.workers = workers

    async def execute(self, lease: Lease) -> Outcome:
        async with self.database.sessions() as session:
            run = await repository.run(session, lease.job_id)
            if run is None:
                raise LeaseLost(str(lease.job_id))
            scope = registry().subtree(run.jurisdiction)
            from_month, done_batches = run.from_month, set(run.completed_batches)
            last = await repository.last_paid_month(session, scope=scope, from_month=from_month)
        months = []
        if last is not None:
            month = YearMonth.of(from_month)
            while month.first_day <= last:
                months.append(month)
                month = month.next()
        until = months[-1].first_day if months else from_month - dt.timedelta(days=1)
        prices = price_table(await self.load_pricing(), scope, months)
        pending = [batch for batch in range(BUCKETS) if batch not in done_batches]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for batch in pending:
            queue.put_nowait(batch)

        async def worker() -> None:
            while not queue.empty():
                await self._run_batch(lease, queue.get_nowait(), scope, from_month, until, prices)

        try:
            async with asyncio.TaskGroup() as group:  # one worker failing stops the others
                for _ in range(max(1, min(self.workers, len(pending)))):
                    group.create_task(worker())
        except* LeaseLost as lost:
            raise LeaseLost(str(lease.job_id)) from lost
        except* Exception as failed:
            raise failed.exceptions[0] from failed
        async with self.database.sessions() as session:
            finished = await self.finish(
                session, lease, await repository.finish_progress(session, lease=lease), completed_event
            )
        if finished.unpriced:
            return Outcome(
                status="partial",
                errors=[
                    job_error(
                        f"{finished.unpriced} enrolment-months have no standard in force and were not "
                        f"recalculated (nothing was booked for them): listed at "
                        f"{RECALCULATIONS.location(finished.id)}/unpriced",
                        unpriced=finished.unpriced,
                    )
                ],
            )
        return Outcome()

    async def _run_batch(
        self,
        lease: Lease,
        batch: int,
        scope: list[str],
        from_month: dt.date,
        until: dt.date,
        prices: list[UnitAmount],
    ) -> None:
        async with self.database.sessions() as session:
            await self.limit(session)
            # the planner under-estimates the joins of a fresh temp table; hash joins are right here
            await session.execute(text("SET LOCAL enable_nestloop = off"))
            await load_price_table(session, prices)
            # from here to the commit no other run books these enrolments' entries
            await lock_for_booking(session, ledger_locks(scope, [batch]))
            counts = await repository.book_batch(
                session,
                run_id=lease.job_id,
                scope=scope,
                from_month=from_month,
                until=until,
                batch=batch,
                residences=by_residence(prices),
            )
            # committed, or rolled back when the bucket is another replica's now or was booked before
            await settle_batch(
                session,
                lease,
                await repository.record_batch(session, lease=lease, batch=batch, counts=counts),
            )
