"""HTTP for payroll runs and the ledger."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from shared.access import load_in_scope, paginate, within_scope
from shared.auth import Principal, ensure_jurisdiction, require_scope
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.jurisdictions import JurisdictionCode
from shared.months import MONTH_PATTERN, YearMonth
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from welfare.payroll import service
from welfare.payroll.models import LedgerEntry, PayrollRun
from welfare.payroll.schemas import LedgerEntryRead, PayrollCreate, PayrollRunRead
from welfare.standards.pricing import BookPricing
from welfare.standards.service import current_book

router = APIRouter(prefix="/api/welfare/v1", tags=["payroll"])
Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]
Writer = Annotated[Principal, Depends(require_scope("welfare:write"))]


@router.post(
    "/payrolls",
    status_code=201,
    response_model=PayrollRunRead,
    summary="Generate the payroll of a jurisdiction (and its subtree) for a month; once only",
    responses={
        200: {"description": "Already generated: the existing run", "model": PayrollRunRead},
        **problem_responses(403, 422),
    },
)
async def generate_payroll(
    data: PayrollCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await idempotency.replay():
        return replay
    book = await current_book(session, request.app.state.standards_pack)
    run, created = await service.generate(
        session,
        principal=principal,
        pricing=BookPricing(book),
        jurisdiction=data.jurisdiction,
        month=data.month,
    )
    return await idempotency.respond(201 if created else 200, PayrollRunRead.model_validate(run))


@router.get(
    "/payrolls/{run_id}",
    response_model=PayrollRunRead,
    summary="Read a payroll run",
    responses=problem_responses(404),
)
async def read_payroll(run_id: uuid.UUID, session: SessionDep, principal: Reader) -> PayrollRunRead:
    run = await load_in_scope(session, PayrollRun, run_id, principal, "payroll run")
    return PayrollRunRead.model_validate(run)


@router.get("/ledger", response_model=Page[LedgerEntryRead], summary="Ledger entries in your area")
async def list_ledger(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: Annotated[JurisdictionCode | None, Query()] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")] = None,
    enrolment_id: uuid.UUID | None = None,
    kind: Literal["regular", "arrears", "correction"] | None = None,
    recalculation_id: uuid.UUID | None = None,
) -> Page[LedgerEntryRead]:
    query = within_scope(select(LedgerEntry), LedgerEntry.jurisdiction, principal)
    if jurisdiction is not None:
        ensure_jurisdiction(principal, jurisdiction)
        query = query.where(LedgerEntry.jurisdiction == jurisdiction)
    if month is not None:
        query = query.where(LedgerEntry.month == YearMonth.parse(month).first_day)
    if enrolment_id is not None:
        query = query.where(LedgerEntry.enrolment_id == enrolment_id)
    if kind is not None:
        query = query.where(LedgerEntry.kind == kind)
    if recalculation_id is not None:
        query = query.where(LedgerEntry.recalculation_id == recalculation_id)
    rows, total = await paginate(session, query, page, LedgerEntry.id)
    return Page.of([LedgerEntryRead.model_validate(r) for r in rows], total, page)
