"""HTTP for recalculation runs: request one (202), follow its progress, list them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from sqlalchemy import select

from shared.access import load_in_scope, paginate, within_scope
from shared.auth import Principal, ensure_jurisdiction, require_scope
from shared.db import SessionDep
from shared.examples import request_example
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from welfare.recalculation import service
from welfare.recalculation.models import RecalculationRun
from welfare.recalculation.schemas import RecalculationCreate, RecalculationRead

router = APIRouter(prefix="/api/welfare/v1", tags=["recalculations"])
Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]
Writer = Annotated[Principal, Depends(require_scope("welfare:write"))]


def runner(request: Request) -> service.RecalculationRunner:
    found: service.RecalculationRunner = request.app.state.recalculation_runner
    return found


@router.post(
    "/recalculations",
    status_code=202,
    response_model=RecalculationRead,
    summary="Recalculate every enrolment in a jurisdiction from a month and book arrears",
    responses=problem_responses(403, 422),
    openapi_extra=request_example({"jurisdiction": "211100", "from_month": "2024-07"}),
)
async def request_recalculation(
    data: RecalculationCreate,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await idempotency.replay():
        return replay
    run = await service.request_run(
        session,
        principal=principal,
        jurisdiction=data.jurisdiction,
        from_month=data.from_month,
        trigger="request",
    )
    background.add_task(runner(request).start, run.id)  # after the commit and the answer
    return await idempotency.respond(
        202,
        RecalculationRead.model_validate(run),
        headers={"Location": f"/api/welfare/v1/recalculations/{run.id}"},
    )


@router.get(
    "/recalculations/{run_id}",
    response_model=RecalculationRead,
    summary="Status, progress and counts of a recalculation",
    responses=problem_responses(404),
)
async def read_recalculation(run_id: uuid.UUID, session: SessionDep, principal: Reader) -> RecalculationRead:
    run = await load_in_scope(session, RecalculationRun, run_id, principal, "recalculation")
    return RecalculationRead.model_validate(run)


@router.get("/recalculations", response_model=Page[RecalculationRead], summary="Recalculations in your area")
async def list_recalculations(
    session: SessionDep, principal: Reader, page: PageDep
) -> Page[RecalculationRead]:
    query = within_scope(select(RecalculationRun), RecalculationRun.jurisdiction, principal)
    rows, total = await paginate(session, query, page, RecalculationRun.created_at.desc())
    return Page.of([RecalculationRead.model_validate(r) for r in rows], total, page)
