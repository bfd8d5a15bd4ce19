"""Monthly payroll: one ``regular`` ledger entry per active enrolment, written once.

Set-based: a single INSERT … SELECT over the jurisdiction's enrolments; the partial
unique index (enrolment, month) for regular entries makes a second run write nothing.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import record_audit
from shared.auth import Principal
from shared.jurisdictions import registry
from shared.months import YearMonth
from welfare.db import audit_log
from welfare.payroll.models import LedgerEntry, PayrollRun
from welfare.payroll.pricing import (
    ACTIVE_IN_MONTH_SQL,
    AMOUNT_DUE_SQL,
    UNIT_JOIN_SQL,
    Pricing,
    load_price_table,
    price_table,
)


async def generate(
    session: AsyncSession,
    *,
    principal: Principal,
    pricing: Pricing,
    jurisdiction: str,
    month: YearMonth,
) -> tuple[PayrollRun, bool]:
    """The payroll run of (jurisdiction, month); True when this call created it."""
    claim = (
        insert(PayrollRun)
        .values(jurisdiction=jurisdiction, month=month.first_day, created_by=principal.actor)
        .on_conflict_do_nothing(index_elements=["jurisdiction", "month"])
        .returning(PayrollRun.id)
    )
    run_id = (await session.execute(claim)).scalar_one_or_none()
    if run_id is None:
        existing = await session.scalar(
            select(PayrollRun).where(
                PayrollRun.jurisdiction == jurisdiction, PayrollRun.month == month.first_day
            )
        )
        assert existing is not None
        return existing, False
    scope = registry().subtree(jurisdiction)
    await load_price_table(session, price_table(pricing, scope, [month]))
    params = {"run": run_id, "scope": scope, "month": month.first_day}
    month_sql = ":month"
    inserted = await session.execute(
        text(
            "INSERT INTO ledger_entries (enrolment_id, jurisdiction, month, kind, amount, payroll_run_id) "
            f"SELECT e.id, e.jurisdiction, :month, 'regular', {AMOUNT_DUE_SQL}, :run "
            f"FROM enrolments e {UNIT_JOIN_SQL.format(month=month_sql)} "
            f"WHERE e.jurisdiction = ANY(:scope) AND {ACTIVE_IN_MONTH_SQL.format(month=month_sql)} "
            "ON CONFLICT (enrolment_id, month) WHERE kind = 'regular' DO NOTHING"
        ),
        params,
    )
    unpriced = await session.scalar(
        text(
            "SELECT count(*) FROM enrolments e WHERE e.jurisdiction = ANY(:scope) "
            f"AND {ACTIVE_IN_MONTH_SQL.format(month=month_sql)} AND NOT EXISTS ("
            "SELECT 1 FROM unit_amounts u WHERE u.jurisdiction = e.jurisdiction AND u.program = e.program "
            "AND u.tier = COALESCE(e.tier, 0))"
        ),
        params,
    )
    totals = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), Decimal("0.00"))).where(
                LedgerEntry.payroll_run_id == run_id
            )
        )
    ).one()
    run = await session.get(PayrollRun, run_id)
    assert run is not None
    run.entries, run.total, run.unpriced = int(totals[0]), totals[1], int(unpriced or 0)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="generate",
        entity="payroll_run",
        entity_id=str(run_id),
        jurisdiction=jurisdiction,
        after={
            "month": str(month),
            "entries": run.entries,
            "total": str(run.total),
            "unpriced": run.unpriced,
            "rows_inserted": getattr(inserted, "rowcount", None),
        },
    )
    return run, True
