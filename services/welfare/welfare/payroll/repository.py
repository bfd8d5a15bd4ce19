"""Every query of the payroll and the ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import filtered_to, paginate
from shared.auth import Principal
from shared.pagination import CursorParams, PageParams, keyset
from welfare.payroll.models import LedgerEntry, PayrollRun
from welfare.payroll.pricing import (
    ACTIVE_IN_MONTH_SQL,
    AMOUNT_DUE_SQL,
    RESIDENCE_USED_SQL,
    SPLIT_STANDARD_SQL,
    unit_join_sql,
)

MONTH = ":month"


@dataclass(frozen=True)
class MonthState:
    """The active enrolments of an area in a month, by what the payroll can do for them."""

    unpaid: int
    """priced and without a regular entry: the next run pays them"""
    already_paid: int
    unpriced: int
    """without a regular entry and without a standard for them in force: not paid"""
    without_residence: int = 0
    """of ``unpriced``: the city sets urban and rural standards apart and the household has no
    residence recorded for the month"""


async def month_state(
    session: AsyncSession, *, scope: list[str], month: dt.date, residences: bool
) -> MonthState:
    """Needs the ``unit_amounts`` table of the month (``load_price_table``); ``residences``:
    whether any of its units depends on the residence."""
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE NOT paid AND priced) AS unpaid, "
                "count(*) FILTER (WHERE paid) AS already_paid, "
                "count(*) FILTER (WHERE NOT paid AND NOT priced) AS unpriced, "
                "count(*) FILTER (WHERE NOT paid AND NOT priced AND split) AS without_residence "
                "FROM (SELECT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.enrolment_id = e.id "
                "AND l.month = :month AND l.kind = 'regular') AS paid, "
                "u.amount IS NOT NULL AS priced, "
                f"{SPLIT_STANDARD_SQL.format(month=MONTH)} AS split "
                f"FROM enrolments e {unit_join_sql(MONTH, residences=residences, outer=True)} "
                "WHERE e.jurisdiction = ANY(:scope) "
                f"AND {ACTIVE_IN_MONTH_SQL.format(month=MONTH)}"
                ") AS enrolment"
            ),
            {"scope": scope, "month": month},
        )
    ).one()
    return MonthState(int(row.unpaid), int(row.already_paid), int(row.unpriced), int(row.without_residence))


async def without_residence(
    session: AsyncSession, *, scope: list[str], month: dt.date, limit: int
) -> list[uuid.UUID]:
    """Up to ``limit`` active enrolments of ``scope`` not paid for ``month`` because their
    standard is split and their household has no residence for it (needs ``unit_amounts``)."""
    rows = await session.scalars(
        text(
            "SELECT e.id FROM enrolments e "
            f"{unit_join_sql(MONTH, residences=True, outer=True)} "
            "WHERE e.jurisdiction = ANY(:scope) "
            f"AND {ACTIVE_IN_MONTH_SQL.format(month=MONTH)} AND u.amount IS NULL "
            f"AND {SPLIT_STANDARD_SQL.format(month=MONTH)} "
            "AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.enrolment_id = e.id "
            "AND l.month = :month AND l.kind = 'regular') "
            "ORDER BY e.id LIMIT :limit"
        ),
        {"scope": scope, "month": month, "limit": limit},
    )
    return list(rows)


async def latest_run(session: AsyncSession, *, jurisdiction: str, month: dt.date) -> PayrollRun | None:
    return await session.scalar(
        select(PayrollRun)
        .where(PayrollRun.jurisdiction == jurisdiction, PayrollRun.month == month)
        .order_by(PayrollRun.created_at.desc(), PayrollRun.id.desc())
        .limit(1)
    )


async def pay_unpaid(
    session: AsyncSession, *, run_id: uuid.UUID, scope: list[str], month: dt.date, residences: bool
) -> int:
    """One ``regular`` entry per active, priced enrolment of ``scope`` not yet paid for ``month``
    (needs ``unit_amounts``), with the residence whose standard priced it; the number written."""
    inserted = await session.execute(
        text(
            "INSERT INTO ledger_entries "
            "(enrolment_id, jurisdiction, month, kind, amount, payroll_run_id, residence) "
            f"SELECT e.id, e.jurisdiction, :month, 'regular', {AMOUNT_DUE_SQL}, :run, {RESIDENCE_USED_SQL} "
            f"FROM enrolments e {unit_join_sql(MONTH, residences=residences)} "
            f"WHERE e.jurisdiction = ANY(:scope) AND {ACTIVE_IN_MONTH_SQL.format(month=MONTH)} "
            "ON CONFLICT (enrolment_id, month) WHERE kind = 'regular' DO NOTHING"
        ),
        {"run": run_id, "scope": scope, "month": month},
    )
    return int(getattr(inserted, "rowcount", 0) or 0)


async def run_totals(session: AsyncSession, run_id: uuid.UUID) -> tuple[int, Decimal]:
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), Decimal("0.00"))).where(
                LedgerEntry.payroll_run_id == run_id
            )
        )
    ).one()
    return int(count), total


@dataclass(frozen=True)
class LedgerFilter:
    jurisdiction: str | None = None
    month: dt.date | None = None
    enrolment_id: uuid.UUID | None = None
    kind: str | None = None
    recalculation_id: uuid.UUID | None = None


def _ledger_query(principal: Principal, where: LedgerFilter) -> Select[LedgerEntry]:
    query = filtered_to(select(LedgerEntry), LedgerEntry.jurisdiction, principal, where.jurisdiction)
    if where.month is not None:
        query = query.where(LedgerEntry.month == where.month)
    if where.enrolment_id is not None:
        query = query.where(LedgerEntry.enrolment_id == where.enrolment_id)
    if where.kind is not None:
        query = query.where(LedgerEntry.kind == where.kind)
    if where.recalculation_id is not None:
        query = query.where(LedgerEntry.recalculation_id == where.recalculation_id)
    return query


async def ledger_in_scope(
    session: AsyncSession, *, principal: Principal, where: LedgerFilter, page: PageParams
) -> tuple[Sequence[LedgerEntry], int]:
    return await paginate(session, _ledger_query(principal, where), page, LedgerEntry.id)


async def ledger_page_after(
    session: AsyncSession, *, principal: Principal, where: LedgerFilter, cursor: CursorParams
) -> tuple[list[LedgerEntry], str | None]:
    """A keyset page of the ledger in entry order, and the cursor of the next one."""
    rows, next_cursor = await keyset(session, _ledger_query(principal, where), cursor, LedgerEntry.id)
    return [row[0] for row in rows], next_cursor
