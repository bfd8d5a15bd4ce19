"""HTTP for payroll runs and the ledger."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from shared.access import JurisdictionFilter
from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.months import MONTH_PATTERN, YearMonth
from shared.pagination import CursorDep, CursorPage, Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteDep
from welfare.access import Reader, Writer
from welfare.payroll import service
from welfare.payroll.repository import LedgerFilter
from welfare.payroll.schemas import LedgerEntryRead, PayrollCreate, PayrollRunRead

BASE = "/api/welfare/v1"
router = APIRouter(prefix=BASE, tags=["payroll"])


@router.post(
    "/payrolls",
    status_code=201,
    response_model=PayrollRunRead,
    summary="Pay a jurisdiction (and its subtree) for a month that has begun",
    description=(
        "Writes one regular ledger entry per active enrolment not yet paid for the month. "
        "201 with the new run; 200 with the latest run when nobody is left to pay (so the same "
        "request sent many times at once gets one 201). A month already paid may be asked "
        "again: enrolments that joined since are paid by a new run. 422 for a month that has "
        "not begun (Asia/Shanghai); 409 with Retry-After when another run keeps the area's "
        "ledger busy for too long."
    ),
    responses={
        200: {"description": "Nobody left to pay: the latest run", "model": PayrollRunRead},
        **problem_responses(403, 409, 422),
    },
)
async def generate_payroll(
    data: PayrollCreate, request: Request, principal: Writer, write: WriteDep
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await write.replay():
        return replay
    run, created = await service.generate(
        write,
        pack=request.app.state.standards_pack,
        jurisdiction=data.jurisdiction,
        month=data.month,
        lock_timeout_ms=request.app.state.settings.jobs.lock_timeout_ms,
    )
    return await write.respond(
        201 if created else 200, PayrollRunRead.model_validate(run), location=f"{BASE}/payrolls/{run.id}"
    )


@router.get(
    "/payrolls/{run_id}",
    response_model=PayrollRunRead,
    summary="Read a payroll run",
    responses=problem_responses(404),
)
async def read_payroll(run_id: uuid.UUID, session: SessionDep, principal: Reader) -> PayrollRunRead:
    return PayrollRunRead.model_validate(await service.get_run(session, principal=principal, run_id=run_id))


async def ledger_filter(
    jurisdiction: JurisdictionFilter = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")] = None,
    enrolment_id: uuid.UUID | None = None,
    kind: Literal["regular", "arrears", "correction", "overpayment"] | None = None,
    recalculation_id: uuid.UUID | None = None,
) -> LedgerFilter:
    return LedgerFilter(
        jurisdiction=jurisdiction,
        month=YearMonth.parse(month).first_day if month is not None else None,
        enrolment_id=enrolment_id,
        kind=kind,
        recalculation_id=recalculation_id,
    )


LedgerFilterDep = Annotated[LedgerFilter, Depends(ledger_filter)]


@router.get("/ledger", response_model=Page[LedgerEntryRead], summary="Ledger entries in your area")
async def list_ledger(
    session: SessionDep, request: Request, principal: Reader, page: PageDep, where: LedgerFilterDep
) -> Page[LedgerEntryRead]:
    rows, total = await service.list_ledger(session, principal=principal, page=page, where=where)
    pack = request.app.state.standards_pack
    return Page.of(await service.ledger_reads(session, pack=pack, entries=rows), total, page)


@router.get(
    "/ledger/by-cursor",
    response_model=CursorPage[LedgerEntryRead],
    summary="Ledger entries in your area in keyset pages, in entry order (no total)",
)
async def page_ledger(
    session: SessionDep, request: Request, principal: Reader, cursor: CursorDep, where: LedgerFilterDep
) -> CursorPage[LedgerEntryRead]:
    rows, next_cursor = await service.page_ledger(session, principal=principal, cursor=cursor, where=where)
    items = await service.ledger_reads(session, pack=request.app.state.standards_pack, entries=rows)
    return CursorPage(items=items, next_cursor=next_cursor)
