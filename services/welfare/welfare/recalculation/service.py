"""Recalculation (重新核算) with arrears (补发): the headline job of 盘政办发〔2024〕4号 section 二.

For every enrolment in scope and every month from ``from_month`` that has ledger
entries, the amount due is computed again and, where the entries of that month add
up to another amount, an ``arrears`` entry books the difference. Because it books
``due − already booked``, running it again books nothing: the job is idempotent and
a run interrupted by a restart is simply resumed.

Set-based: the enrolments are split into ``BATCHES`` hash partitions; each is one
INSERT … SELECT in its own transaction (which also records the batch as done), and
``workers`` connections process partitions side by side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import record_audit
from shared.auth import Principal
from shared.db import Database
from shared.jurisdictions import registry
from shared.months import YearMonth
from welfare.db import audit_log
from welfare.payroll.models import LedgerEntry
from welfare.payroll.pricing import (
    AMOUNT_DUE_SQL,
    UNIT_JOIN_SQL,
    Pricing,
    UnitAmount,
    load_price_table,
    price_table,
)
from welfare.recalculation.models import RecalculationRun

logger = logging.getLogger(__name__)
BATCHES = 4
ACTIVE_STATUSES = ("queued", "running")

BATCH_SQL = f"""
WITH paid AS (
    SELECT enrolment_id, month, sum(amount) AS booked,
           min(id) FILTER (WHERE kind = 'regular') AS regular_id
    FROM ledger_entries
    WHERE jurisdiction = ANY(:scope) AND month >= :from_month
      AND abs(hashtext(enrolment_id::text)) % :batches = :batch
    GROUP BY enrolment_id, month
),
due AS (
    SELECT p.enrolment_id, e.jurisdiction, p.month, p.booked, p.regular_id,
           {AMOUNT_DUE_SQL} AS amount
    FROM paid p
    JOIN enrolments e ON e.id = p.enrolment_id
    {UNIT_JOIN_SQL.format(month="p.month")}
),
booked AS (
    INSERT INTO ledger_entries
        (enrolment_id, jurisdiction, month, kind, amount, corrects_entry_id, recalculation_id)
    SELECT enrolment_id, jurisdiction, month, 'arrears', amount - booked, regular_id, :run
    FROM due WHERE amount <> booked
    RETURNING enrolment_id, amount
)
SELECT (SELECT count(DISTINCT enrolment_id) FROM due) AS recalculated,
       (SELECT count(DISTINCT enrolment_id) FROM booked) AS changed,
       (SELECT count(*) FROM booked) AS entries,
       (SELECT coalesce(sum(amount), 0) FROM booked) AS total,
       (SELECT count(*) FROM paid p WHERE NOT EXISTS (
            SELECT 1 FROM due d WHERE d.enrolment_id = p.enrolment_id AND d.month = p.month)) AS unpriced
"""


async def request_run(
    session: AsyncSession,
    *,
    principal: Principal,
    jurisdiction: str,
    from_month: YearMonth,
    trigger: str,
    standard_version_id: uuid.UUID | None = None,
) -> RecalculationRun:
    scope = registry().subtree(jurisdiction)
    total = await session.scalar(
        select(func.count(func.distinct(LedgerEntry.enrolment_id))).where(
            LedgerEntry.jurisdiction.in_(scope), LedgerEntry.month >= from_month.first_day
        )
    )
    run = RecalculationRun(
        jurisdiction=jurisdiction,
        from_month=from_month.first_day,
        trigger=trigger,
        standard_version_id=standard_version_id,
        status="queued",
        total=int(total or 0),
        done=0,
        recalculated=0,
        changed=0,
        arrears_entries=0,
        arrears_total=Decimal("0.00"),
        completed_batches=[],
        requested_by=principal.actor,
    )
    session.add(run)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="request",
        entity="recalculation_run",
        entity_id=str(run.id),
        jurisdiction=jurisdiction,
        after={"from_month": str(from_month), "trigger": trigger, "total": run.total},
    )
    return run


class RecalculationRunner:
    """Executes runs in the service process; resumes unfinished ones at start-up."""

    def __init__(
        self,
        database: Database,
        load_pricing: Callable[[], Awaitable[Pricing]],
        *,
        workers: int,
        work_mem: str,
    ) -> None:
        self.database = database
        self.load_pricing = load_pricing
        self.workers = workers
        self.work_mem = work_mem
        self.tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def start(self, run_id: uuid.UUID) -> None:
        """Execute the run in this process (an async callable, so background tasks await it
        on the event loop rather than in a worker thread)."""
        if run_id in self.tasks and not self.tasks[run_id].done():
            return
        self.tasks[run_id] = asyncio.create_task(self.execute(run_id))

    async def resume_unfinished(self) -> None:
        async with self.database.sessions() as session:
            ids = (
                await session.scalars(
                    select(RecalculationRun.id).where(RecalculationRun.status.in_(ACTIVE_STATUSES))
                )
            ).all()
        for run_id in ids:
            logger.info("resuming recalculation", extra={"run_id": str(run_id)})
            await self.start(run_id)

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def execute(self, run_id: uuid.UUID) -> None:
        lock_key = f"welfare.recalculation:{run_id}"
        async with self.database.engine.connect() as lock_connection:
            got = await lock_connection.scalar(
                text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": lock_key}
            )
            if not got:
                return  # another process is working on this run
            try:
                await self._execute_locked(run_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("recalculation failed", extra={"run_id": str(run_id)})
                async with self.database.sessions() as session:
                    await session.execute(
                        update(RecalculationRun)
                        .where(RecalculationRun.id == run_id)
                        .values(
                            status="failed",
                            error=f"{type(exc).__name__}: {exc}"[:2000],
                            finished_at=func.now(),
                        )
                    )
                    await session.commit()
            finally:
                await lock_connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": lock_key}
                )
                await lock_connection.commit()

    async def _execute_locked(self, run_id: uuid.UUID) -> None:
        async with self.database.sessions() as session:
            run = await session.get(RecalculationRun, run_id)
            if run is None or run.status not in ACTIVE_STATUSES:
                return
            run.status = "running"
            run.started_at = run.started_at or dt.datetime.now(dt.UTC)
            scope = registry().subtree(run.jurisdiction)
            last = await session.scalar(
                select(func.max(LedgerEntry.month)).where(
                    LedgerEntry.jurisdiction.in_(scope), LedgerEntry.month >= run.from_month
                )
            )
            pending = [b for b in range(BATCHES) if b not in set(run.completed_batches)]
            from_month = run.from_month
            await session.commit()
        months = []
        if last is not None:
            month = YearMonth.of(from_month)
            while month.first_day <= last:
                months.append(month)
                month = month.next()
        prices = price_table(await self.load_pricing(), scope, months)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for batch in pending:
            queue.put_nowait(batch)

        async def worker() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                await self._run_batch(run_id, batch, scope, from_month, prices)

        await asyncio.gather(*(worker() for _ in range(max(1, min(self.workers, len(pending))))))
        async with self.database.sessions() as session:
            await session.execute(
                update(RecalculationRun)
                .where(RecalculationRun.id == run_id)
                .values(status="succeeded", finished_at=func.now(), done=RecalculationRun.total)
            )
            await session.commit()

    async def _run_batch(
        self,
        run_id: uuid.UUID,
        batch: int,
        scope: list[str],
        from_month: dt.date,
        prices: list[UnitAmount],
    ) -> None:
        async with self.database.sessions() as session:
            await session.execute(text(f"SET LOCAL work_mem = '{self.work_mem}'"))
            # the planner under-estimates the joins of a fresh temp table; hash joins are right here
            await session.execute(text("SET LOCAL enable_nestloop = off"))
            await load_price_table(session, prices)
            counts = (
                await session.execute(
                    text(BATCH_SQL),
                    {
                        "scope": scope,
                        "from_month": from_month,
                        "batches": BATCHES,
                        "batch": batch,
                        "run": run_id,
                    },
                )
            ).one()
            await session.execute(
                update(RecalculationRun)
                .where(RecalculationRun.id == run_id)
                .values(
                    done=RecalculationRun.done + counts.recalculated,
                    recalculated=RecalculationRun.recalculated + counts.recalculated,
                    changed=RecalculationRun.changed + counts.changed,
                    arrears_entries=RecalculationRun.arrears_entries + counts.entries,
                    arrears_total=RecalculationRun.arrears_total + counts.total,
                    unpriced=RecalculationRun.unpriced + counts.unpriced,
                    completed_batches=func.array_append(RecalculationRun.completed_batches, batch),
                )
            )
            await session.commit()
