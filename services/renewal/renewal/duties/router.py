"""HTTP for reporting duties."""

from __future__ import annotations

from fastapi import APIRouter, Response

from renewal.access import Admin, Reader
from renewal.duties import service
from renewal.duties.schemas import DutyCreate, DutyRead
from renewal.plans.dependencies import PlanDep
from shared.db import SessionDep
from shared.pagination import Items
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.post(
    "/plans/{plan_id}/duties",
    status_code=201,
    response_model=DutyRead,
    summary="Set a reporting duty (task × unit × monthly or quarterly)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_duty(principal: Admin, plan: PlanDep, data: DutyCreate, write: WriteDep) -> Response:
    if replay := await write.replay():
        return replay
    duty = await service.create_duty(write=write, plan=plan, data=data)
    return await write.respond(201, DutyRead.model_validate(duty))


@router.get(
    "/plans/{plan_id}/duties",
    response_model=Items[DutyRead],
    summary="Reporting duties of a plan",
    responses=problem_responses(404),
)
async def list_duties(principal: Reader, plan: PlanDep, session: SessionDep) -> Items[DutyRead]:
    return Items.of(
        [DutyRead.model_validate(d) for d in await service.list_duties(session=session, plan=plan)]
    )
