"""Monthly payroll: one ``regular`` ledger entry per active enrolment and month, written once.

A run is a job of the platform's one shape (``shared.jobs``) answered within its request.
It holds the ledger's booking locks of its whole area (``welfare.payroll.ledger``) from
before it reads the standards until its commit, so overlapping payrolls and
recalculations book one after the other: the same request sent many times at once gets
one 201 and then 200 with that run. A month is paid once it has begun (Asia/Shanghai). A
month already paid may be asked again: the new run pays the enrolments that joined, or
got a standard, after the earlier runs (the partial unique index on (enrolment, month)
of regular entries makes paying twice impossible); when there is nobody left to pay, the
answer is 200 with the latest run of that jurisdiction and month.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import load_in_scope
from shared.auth import Principal
from shared.errors import InvalidInput
from shared.jobs import job_error, lock_for_booking
from shared.jurisdictions import registry
from shared.months import YearMonth, policy_today
from shared.pagination import CursorParams, PageParams
from shared.writes import Event, WriteContext
from welfare.payroll import repository
from welfare.payroll.ledger import ledger_locks
from welfare.payroll.models import LedgerEntry, PayrollRun
from welfare.payroll.pricing import load_price_table, price_table
from welfare.standards.book import StandardsBook
from welfare.standards.pricing import BookPricing
from welfare.standards.service import current_book


async def generate(
    write: WriteContext,
    *,
    pack: StandardsBook,
    jurisdiction: str,
    month: YearMonth,
    lock_timeout_ms: int,
) -> tuple[PayrollRun, bool]:
    """The payroll run of (jurisdiction, month) that pays whoever is still unpaid; True
    when this call created it."""
    session = write.session
    today = policy_today()
    if month.first_day > today:
        raise InvalidInput.field(
            "body.month",
            f"{month} has not begun (today is {today.isoformat()} in Asia/Shanghai); "
            "a month is paid from its first day on",
        )
    scope = registry().subtree(jurisdiction)
    await lock_for_booking(
        session,
        ledger_locks(scope),
        timeout_ms=lock_timeout_ms,
        busy_detail=f"The ledger of {jurisdiction} is being booked by another payroll or recalculation; "
        "retry shortly.",
    )
    # read after the locks: a standard entered meanwhile is either seen here, or its
    # recalculation books after this commit and corrects what is paid here
    pricing = BookPricing(await current_book(session, pack))
    await load_price_table(session, price_table(pricing, scope, [month]))
    state = await repository.month_state(session, scope=scope, month=month.first_day)
    if state.unpaid == 0:
        latest = await repository.latest_run(session, jurisdiction=jurisdiction, month=month.first_day)
        if latest is not None:
            return latest, False
    started = dt.datetime.now(dt.UTC)
    run = PayrollRun(
        jurisdiction=jurisdiction,
        month=month.first_day,
        status="running",
        errors=[],
        requested_by=write.principal.actor,
        already_paid=state.already_paid,
        started_at=started,
    )
    await write.add(run)
    written = await repository.pay_unpaid(session, run_id=run.id, scope=scope, month=month.first_day)
    run.entries, run.total = await repository.run_totals(session, run.id)
    run.unpriced = state.unpriced
    run.status = "partial" if state.unpriced else "succeeded"
    if state.unpriced:
        run.errors = [
            job_error(
                f"{state.unpriced} active enrolments have no standard in force in {month} and were not paid",
                unpriced=state.unpriced,
            )
        ]
    run.finished_at = dt.datetime.now(dt.UTC)
    await write.flush()
    await write.record(
        action="generate",
        entity="payroll_run",
        entity_id=run.id,
        jurisdiction=jurisdiction,
        after={
            "month": str(month),
            "entries": run.entries,
            "total": str(run.total),
            "unpriced": run.unpriced,
            "already_paid": run.already_paid,
            "rows_inserted": written,
        },
        event=Event(
            type="payroll.completed",
            subject=f"/payrolls/{run.id}",
            jurisdiction=jurisdiction,
            data={
                "payroll_run_id": run.id,
                "month": str(month),
                "status": run.status,
                "entries": run.entries,
                "total": str(run.total),
                "unpriced": run.unpriced,
            },
        ),
    )
    return run, True


async def get_run(session: AsyncSession, *, principal: Principal, run_id: uuid.UUID) -> PayrollRun:
    run: PayrollRun = await load_in_scope(session, PayrollRun, run_id, principal, "payroll run")
    return run


async def list_ledger(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    where: repository.LedgerFilter,
) -> tuple[Sequence[LedgerEntry], int]:
    return await repository.ledger_in_scope(session, principal=principal, where=where, page=page)


async def page_ledger(
    session: AsyncSession,
    *,
    principal: Principal,
    cursor: CursorParams,
    where: repository.LedgerFilter,
) -> tuple[list[LedgerEntry], str | None]:
    return await repository.ledger_page_after(session, principal=principal, where=where, cursor=cursor)
