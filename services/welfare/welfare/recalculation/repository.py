"""Every query of the recalculation: its runs, what it covers, and the booking of arrears."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.access import paginate
from shared.jobs import BatchRecorded, Lease
from shared.pagination import PageParams
from welfare.payroll.ledger import BUCKET_SQL
from welfare.payroll.models import LedgerEntry
from welfare.payroll.pricing import (
    AMOUNT_DUE_SQL,
    RESIDENCE_USED_SQL,
    SPLIT_STANDARD_SQL,
    unit_join_sql,
)
from welfare.recalculation.models import RecalculationRun, UnpricedMonth

# One hash bucket of the enrolments of the scope: the amount due in every month from
# ``from_month`` that has entries (at the standard of the household's residence in that month
# where the city sets urban and rural standards apart), against the sum of those entries; the
# difference is booked as ``arrears`` referencing the month's regular entry (or, for months moved
# from another enrolment of the allowance, the regular entry they were paid by). A month the
# enrolment is not in force in (after its end month, or suspended) is due nothing: what was
# booked for it is an ``overpayment`` pending staff review, and no arrears are ever booked for it.
BATCH_SQL = """
WITH paid AS (
    SELECT enrolment_id, month, sum(amount) AS booked,
           coalesce(min(id) FILTER (WHERE kind = 'regular'), min(corrects_entry_id)) AS regular_id
    FROM ledger_entries
    WHERE jurisdiction = ANY(:scope) AND month >= :from_month AND month <= :until
      AND {bucket} = :batch
    GROUP BY enrolment_id, month
),
suspended AS (
    SELECT DISTINCT p.enrolment_id, p.month
    FROM paid p JOIN enrolment_suspensions s ON s.enrolment_id = p.enrolment_id
     AND s.from_month <= p.month AND (s.resumed_month IS NULL OR s.resumed_month > p.month)
),
due AS (
    SELECT p.enrolment_id, e.jurisdiction, p.month, p.booked, p.regular_id, true AS in_force,
           {amount_due} AS amount, {residence_used} AS residence
    FROM paid p
    JOIN enrolments e ON e.id = p.enrolment_id
    {unit_join}
    WHERE e.start_month <= p.month AND (e.end_month IS NULL OR e.end_month >= p.month)
      AND (p.enrolment_id, p.month) NOT IN (SELECT enrolment_id, month FROM suspended)
    UNION ALL
    SELECT p.enrolment_id, e.jurisdiction, p.month, p.booked, p.regular_id, false, 0, NULL
    FROM paid p
    JOIN enrolments e ON e.id = p.enrolment_id
    WHERE e.start_month > p.month OR e.end_month < p.month
       OR (p.enrolment_id, p.month) IN (SELECT enrolment_id, month FROM suspended)
),
booked AS (
    INSERT INTO ledger_entries
        (enrolment_id, jurisdiction, month, kind, amount, corrects_entry_id, recalculation_id, review,
         residence)
    SELECT enrolment_id, jurisdiction, month,
           CASE WHEN amount > booked THEN 'arrears' ELSE 'overpayment' END, amount - booked, regular_id, :run,
           CASE WHEN amount > booked THEN NULL ELSE 'pending' END, residence
    FROM due WHERE amount <> booked AND (in_force OR amount < booked)
    RETURNING enrolment_id, kind, amount
),
stopped AS (
    INSERT INTO recalculation_unpriced (recalculation_id, enrolment_id, jurisdiction, program, month, reason)
    SELECT :run, p.enrolment_id, e.jurisdiction, e.program, p.month,
           CASE WHEN {split_standard}
           THEN 'the ' || e.program || ' standard of ' || e.jurisdiction || ' on '
                || to_char(p.month, 'YYYY-MM-DD') || ' is set apart for urban and rural residents and '
                || 'the household has no residence recorded for the month (field residence of the '
                || 'household): the month was not recalculated and nothing was booked'
           ELSE 'no ' || e.program || ' standard prices ' || e.jurisdiction
                || ' on ' || to_char(p.month, 'YYYY-MM-DD')
                || ' (none is in force): the month was not recalculated and nothing was booked'
           END
    FROM paid p JOIN enrolments e ON e.id = p.enrolment_id
    WHERE NOT EXISTS (SELECT 1 FROM due d WHERE d.enrolment_id = p.enrolment_id AND d.month = p.month)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(DISTINCT enrolment_id) FROM due) AS recalculated,
       (SELECT count(DISTINCT enrolment_id) FROM booked) AS changed,
       (SELECT count(*) FROM booked WHERE kind = 'arrears') AS entries,
       (SELECT coalesce(sum(amount), 0) FROM booked WHERE kind = 'arrears') AS total,
       (SELECT count(*) FROM booked WHERE kind = 'overpayment') AS overpayments,
       (SELECT coalesce(sum(amount), 0) FROM booked WHERE kind = 'overpayment') AS overpayment_total,
       (SELECT count(*) FROM stopped) AS unpriced
"""


def batch_sql(*, residences: bool) -> str:
    """:data:`BATCH_SQL` for a price table whose units do (or do not) depend on the residence."""
    return BATCH_SQL.format(
        bucket=BUCKET_SQL.format(column="enrolment_id"),
        amount_due=AMOUNT_DUE_SQL,
        residence_used=RESIDENCE_USED_SQL,
        unit_join=unit_join_sql("p.month", residences=residences),
        split_standard=SPLIT_STANDARD_SQL.format(month="p.month"),
    )


async def enrolments_paid_since(session: AsyncSession, *, scope: list[str], from_month: dt.date) -> int:
    """Enrolments of ``scope`` with ledger entries from ``from_month`` on: a run's total."""
    count = await session.scalar(
        select(func.count(func.distinct(LedgerEntry.enrolment_id))).where(
            LedgerEntry.jurisdiction.in_(scope), LedgerEntry.month >= from_month
        )
    )
    return int(count or 0)


async def last_paid_month(session: AsyncSession, *, scope: list[str], from_month: dt.date) -> dt.date | None:
    found: dt.date | None = await session.scalar(
        select(func.max(LedgerEntry.month)).where(
            LedgerEntry.jurisdiction.in_(scope), LedgerEntry.month >= from_month
        )
    )
    return found


async def run(session: AsyncSession, run_id: uuid.UUID) -> RecalculationRun | None:
    return await session.get(RecalculationRun, run_id)


async def book_batch(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    scope: list[str],
    from_month: dt.date,
    until: dt.date,
    batch: int,
    residences: bool,
) -> Any:
    """Book the arrears of one bucket from ``from_month`` to ``until`` (the months the run priced:
    a month a payroll paid after the run began is left to the run its change started); the
    caller holds the bucket's booking locks. Returns the counts."""
    return (
        await session.execute(
            text(batch_sql(residences=residences)),
            {"scope": scope, "from_month": from_month, "until": until, "batch": batch, "run": run_id},
        )
    ).one()


async def record_batch(session: AsyncSession, *, lease: Lease, batch: int, counts: Any) -> BatchRecorded:
    """Add a booked bucket's counts to the run (:func:`shared.jobs.record_batch`: only while
    ``lease`` holds it and the bucket was not recorded yet)."""
    return await jobs.record_batch(
        session,
        lease=lease,
        batch=batch,
        values={
            "done": RecalculationRun.done + counts.recalculated,
            "recalculated": RecalculationRun.recalculated + counts.recalculated,
            "changed": RecalculationRun.changed + counts.changed,
            "arrears_entries": RecalculationRun.arrears_entries + counts.entries,
            "arrears_total": RecalculationRun.arrears_total + counts.total,
            "overpayments": RecalculationRun.overpayments + counts.overpayments,
            "overpayment_total": RecalculationRun.overpayment_total + counts.overpayment_total,
            "unpriced": RecalculationRun.unpriced + counts.unpriced,
        },
    )


async def finish_progress(session: AsyncSession, *, lease: Lease) -> RecalculationRun | None:
    """Every bucket booked: ``done`` is the total; the run as it stands."""
    return await session.scalar(
        update(RecalculationRun)
        .where(lease.holds())
        .values(done=RecalculationRun.total)
        .returning(RecalculationRun)
    )


async def unpriced_months(
    session: AsyncSession, *, run_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[UnpricedMonth], int]:
    query = select(UnpricedMonth).where(UnpricedMonth.recalculation_id == run_id)
    return await paginate(session, query, page, UnpricedMonth.month, UnpricedMonth.enrolment_id)
