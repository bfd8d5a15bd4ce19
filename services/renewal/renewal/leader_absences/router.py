"""HTTP for leaders recorded as away."""

from __future__ import annotations

from fastapi import APIRouter, Response

from renewal.access import Admin, Reader
from renewal.leader_absences import service
from renewal.leader_absences.schemas import AbsenceCreate, AbsenceRead
from renewal.plans.dependencies import PlanDep
from shared.db import SessionDep
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.post(
    "/plans/{plan_id}/leader-absences",
    status_code=201,
    response_model=AbsenceRead,
    summary="Record a leader as away (tasks then go to the stand-in)",
    responses=problem_responses(403, 404, 409, 422),
)
async def record_absence(principal: Admin, plan: PlanDep, data: AbsenceCreate, write: WriteDep) -> Response:
    if replay := await write.replay():
        return replay
    absence = await service.record_absence(write=write, plan=plan, data=data)
    return await write.respond(201, AbsenceRead.model_validate(absence))


@router.get(
    "/plans/{plan_id}/leader-absences",
    response_model=Page[AbsenceRead],
    summary="Leaders recorded as away, by the day they leave",
    responses=problem_responses(404),
)
async def list_absences(
    principal: Reader, plan: PlanDep, session: SessionDep, page: PageDep
) -> Page[AbsenceRead]:
    rows, total = await service.list_absences(session=session, plan=plan, page=page)
    return Page.of([AbsenceRead.model_validate(r) for r in rows], total, page)
