"""HTTP for recalculation runs: request one (202), follow its progress, list them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response

from shared.access import JurisdictionFilter
from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import request_example
from shared.job_routes import accept_run, add_job_status_routes
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteDep
from welfare.access import Reader, Writer
from welfare.payroll.models import LedgerEntry
from welfare.recalculation import overpayments, service
from welfare.recalculation.models import OverpaymentDecision
from welfare.recalculation.schemas import (
    OverpaymentDecisionCreate,
    OverpaymentDecisionRead,
    OverpaymentRead,
    RecalculationCreate,
    RecalculationRead,
    UnpricedMonthRead,
)

router = APIRouter(prefix="/api/welfare/v1", tags=["recalculations"])


def runner(request: Request) -> service.RecalculationRunner:
    found: service.RecalculationRunner = request.app.state.recalculation_runner
    return found


@router.post(
    "/recalculations",
    status_code=202,
    response_model=RecalculationRead,
    summary="Recalculate every enrolment in a jurisdiction from a month and book arrears",
    description=(
        "Answers 202 with the queued run and its `Location`. While a run whose area overlaps "
        "this one (the same jurisdiction, one above or below it) is queued or running, the "
        "answer is 409 naming it in `Location` and `active_job`."
    ),
    responses=problem_responses(403, 409, 422),
    openapi_extra=request_example({"jurisdiction": "211100", "from_month": "2024-07"}),
)
async def request_recalculation(
    data: RecalculationCreate,
    request: Request,
    background: BackgroundTasks,
    principal: Writer,
    write: WriteDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await write.replay():
        return replay
    run = await service.record_run(
        write, jurisdiction=data.jurisdiction, from_month=data.from_month, trigger="request"
    )
    return await accept_run(write, background, runner(request), run, RecalculationRead)


add_job_status_routes(
    router,
    service.RECALCULATIONS,
    RecalculationRead,
    scope="welfare:read",
    read_name="read_recalculation",
    read_summary="Status, progress and counts of a recalculation",
    list_name="list_recalculations",
    list_summary="Recalculations in your area",
)


@router.get(
    "/recalculations/{run_id}/unpriced",
    response_model=Page[UnpricedMonthRead],
    summary="The enrolment-months a recalculation stopped because no standard prices them, with the reason",
    responses=problem_responses(404),
)
async def list_unpriced_months(
    run_id: uuid.UUID, session: SessionDep, principal: Reader, page: PageDep
) -> Page[UnpricedMonthRead]:
    rows, total = await service.unpriced_months(session, principal=principal, run_id=run_id, page=page)
    return Page.of([UnpricedMonthRead.model_validate(r) for r in rows], total, page)


def overpayment_read(entry: LedgerEntry, decision: OverpaymentDecision | None) -> OverpaymentRead:
    return OverpaymentRead(
        entry_id=entry.id,
        enrolment_id=entry.enrolment_id,
        jurisdiction=entry.jurisdiction,
        month=entry.month,
        amount=entry.amount,
        recalculation_id=entry.recalculation_id,
        booked_at=entry.created_at,
        review="decided" if decision else "pending",
        decision=OverpaymentDecisionRead.model_validate(decision) if decision else None,
    )


@router.get(
    "/overpayments",
    response_model=Page[OverpaymentRead],
    summary="Overpayments recalculations booked in your area, pending staff review or decided",
    responses=problem_responses(403, 422),
)
async def list_overpayments(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: JurisdictionFilter = None,
    status: Annotated[Literal["pending", "decided"] | None, Query()] = None,
) -> Page[OverpaymentRead]:
    rows, total = await overpayments.list_overpayments(
        session, principal=principal, page=page, jurisdiction=jurisdiction, status=status
    )
    return Page.of([overpayment_read(entry, decision) for entry, decision in rows], total, page)


@router.post(
    "/overpayments/{entry_id}/decision",
    status_code=201,
    response_model=OverpaymentRead,
    summary="Record staff's decision on an overpayment (recover or waive), once",
    description=(
        "Nothing deducts an overpayment from a later payment: this records the decision, with the "
        "reason and the document, and the offices carry it out. 409 when a decision is recorded already."
    ),
    responses=problem_responses(403, 404, 409, 422),
)
async def decide_overpayment(
    entry_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    data: OverpaymentDecisionCreate,
    principal: Writer,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    entry, decision = await overpayments.decide(write, entry_id=entry_id, data=data)
    return await write.respond(201, overpayment_read(entry, decision))
