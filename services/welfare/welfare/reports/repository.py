"""The queries of the county progress report: one pass over enrolments, one over the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.months import POLICY_TZ

ENROLMENTS_SQL = """
SELECT jurisdiction, program,
       count(*) FILTER (WHERE status = 'active' AND start_month <= :month
                        AND (end_month IS NULL OR end_month >= :month)) AS active,
       count(*) FILTER (WHERE start_month = :month) AS started,
       count(*) FILTER (WHERE end_month = :month) AS ended
FROM enrolments
WHERE jurisdiction = ANY(:scope)
GROUP BY jurisdiction, program
"""

# regular payments for the month; arrears and overpayments booked during the month (by the
# day they were booked, Asia/Shanghai), whatever months they are for
LEDGER_SQL = """
SELECT l.jurisdiction, e.program,
       count(*) FILTER (WHERE l.kind = 'regular' AND l.month = :month) AS paid,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'regular' AND l.month = :month), 0) AS paid_total,
       count(*) FILTER (WHERE l.kind = 'arrears' AND l.created_at >= :start
                        AND l.created_at < :end) AS arrears,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'arrears' AND l.created_at >= :start
                                      AND l.created_at < :end), 0) AS arrears_total,
       count(*) FILTER (WHERE l.kind = 'overpayment' AND l.created_at >= :start
                        AND l.created_at < :end) AS overpayments,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'overpayment' AND l.created_at >= :start
                                      AND l.created_at < :end), 0) AS overpayment_total
FROM ledger_entries l JOIN enrolments e ON e.id = l.enrolment_id
WHERE l.jurisdiction = ANY(:scope)
  AND ((l.kind = 'regular' AND l.month = :month) OR (l.created_at >= :start AND l.created_at < :end))
GROUP BY l.jurisdiction, e.program
"""


async def month_figures(
    session: AsyncSession, *, scope: list[str], first_day: dt.date, next_first_day: dt.date
) -> tuple[Sequence[Any], Sequence[Any]]:
    start = dt.datetime.combine(first_day, dt.time(), POLICY_TZ)
    end = dt.datetime.combine(next_first_day, dt.time(), POLICY_TZ)
    enrolments = (await session.execute(text(ENROLMENTS_SQL), {"scope": scope, "month": first_day})).all()
    ledger = (
        await session.execute(
            text(LEDGER_SQL), {"scope": scope, "month": first_day, "start": start, "end": end}
        )
    ).all()
    return enrolments, ledger
