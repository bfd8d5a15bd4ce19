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
from typing import Any

from sqlalchemy import select
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
from welfare.payroll.pricing import by_residence, load_price_table, price_table
from welfare.payroll.schemas import LedgerEntryRead, StandardUsed
from welfare.register.models import Enrolment
from welfare.standards.history import Residence, StandardHistories
from welfare.standards.locks import lock_standards
from welfare.standards.pricing import STALENESS_IRRELEVANT, StandardPricing
from welfare.standards.service import current_standards


async def generate(
    write: WriteContext,
    *,
    pack: StandardHistories,
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
    # a standard version of an overlapping area commits before this run reads the standards,
    # or after it: then it sees the months paid here and starts their recalculation
    await lock_standards(
        session,
        jurisdiction,
        timeout_ms=lock_timeout_ms,
        busy_detail=f"A standard version of {jurisdiction} or an area around it is being recorded; "
        "retry shortly.",
    )
    await lock_for_booking(
        session,
        ledger_locks(scope),
        timeout_ms=lock_timeout_ms,
        busy_detail=f"The ledger of {jurisdiction} is being booked by another payroll or recalculation; "
        "retry shortly.",
    )
    # read after the locks: a standard entered meanwhile is either seen here, or its
    # recalculation books after this commit and corrects what is paid here
    pricing = StandardPricing(await current_standards(session, pack))
    prices = price_table(pricing, scope, [month])
    residences = by_residence(prices)
    await load_price_table(session, prices)
    state = await repository.month_state(session, scope=scope, month=month.first_day, residences=residences)
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
    written = await repository.pay_unpaid(
        session, run_id=run.id, scope=scope, month=month.first_day, residences=residences
    )
    run.entries, run.total = await repository.run_totals(session, run.id)
    run.unpriced = state.unpriced
    run.status = "partial" if state.unpriced else "succeeded"
    if state.unpriced:
        named = []
        if state.without_residence:
            named = await repository.without_residence(
                session, scope=scope, month=month.first_day, limit=NAMED_IN_ERRORS
            )
        run.errors = unpriced_errors(state, month, named)
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


NAMED_IN_ERRORS = 20
"""Enrolments without a residence named in a payroll run's errors (the count says how many)."""


def unpriced_errors(
    state: repository.MonthState, month: YearMonth, named: Sequence[uuid.UUID] = ()
) -> list[dict[str, Any]]:
    """Why active enrolments were not paid: no standard in force, or (where the city sets urban
    and rural standards apart) no residence recorded for their household in the month, naming
    the first of those enrolments. Nobody is paid at a guessed standard."""
    errors = []
    without_standard = state.unpriced - state.without_residence
    if without_standard:
        errors.append(
            job_error(
                f"{without_standard} active enrolments have no standard in force in {month} "
                "and were not paid",
                unpriced=without_standard,
            )
        )
    if state.without_residence:
        more = state.without_residence - len(named)
        listed = ", ".join(str(i) for i in named) + (f" and {more} more" if more > 0 else "")
        errors.append(
            job_error(
                f"{state.without_residence} active enrolments were not paid for {month}: their standard is "
                "set apart for urban (城市) and rural (农村) residents and their household has no residence "
                "recorded for the month (record it with PATCH /households/{id}, field residence; then "
                f"ask for the month again). Enrolments: {listed}",
                unpriced=state.without_residence,
                field="household.residence",
            )
        )
    return errors


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


async def ledger_reads(
    session: AsyncSession, *, pack: StandardHistories, entries: Sequence[LedgerEntry]
) -> list[LedgerEntryRead]:
    """The entries with the standard each month is priced with (program, amount, residence,
    version and article)."""
    if not entries:
        return []
    standards = await current_standards(session, pack)
    programs = {
        row.id: (row.program, row.tier)
        for row in await session.execute(
            select(Enrolment.id, Enrolment.program, Enrolment.tier).where(
                Enrolment.id.in_({e.enrolment_id for e in entries})
            )
        )
    }
    reads = []
    for entry in entries:
        read = LedgerEntryRead.model_validate(entry)
        program, tier = programs[entry.enrolment_id]
        read.standard = standard_used(standards, entry, program, tier)
        reads.append(read)
    return reads


def standard_used(
    standards: StandardHistories, entry: LedgerEntry, program: str, tier: int | None
) -> StandardUsed | None:
    residence: Residence | None = (
        "urban" if entry.residence == "urban" else "rural" if entry.residence else None
    )
    found = standards.standards_on(entry.jurisdiction, entry.month, STALENESS_IRRELEVANT, residence)
    value = found.values.get(program)  # type: ignore[call-overload]
    if value is None:
        return None
    amount = value.tiers.get(tier) if value.tiers and tier is not None else value.amount
    if amount is None:
        return None
    return StandardUsed(
        program=program,
        amount=amount,
        residence=value.residence,
        version=value.version_id,
        jurisdiction=value.jurisdiction,
        document=value.citation.document,
        article=value.citation.article,
        text=value.citation.text,
    )
