"""HTTP for a plan's status on a date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from renewal.access import Reader
from renewal.plans.dependencies import InterpretationsDep, PlanDep
from renewal.status import service
from renewal.status.schemas import PlanStatusRead
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.months import policy_today
from shared.problems import problem_responses
from shared.schemas import CalendarDate

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.get(
    "/plans/{plan_id}/status",
    response_model=PlanStatusRead,
    summary="Every target's and task's status on a date",
    responses=problem_responses(404, 422),
)
async def get_status(
    principal: Reader,
    plan: PlanDep,
    session: SessionDep,
    interpretations: InterpretationsDep,
    on: Annotated[
        CalendarDate | None,
        Query(description="the day (default today)", openapi_examples=parameter_example("2025-01-15")),
    ] = None,
) -> PlanStatusRead:
    day = on or policy_today()
    service.ensure_issued(plan=plan, on=day, asked_as="query.on")
    state = await service.plan_status(session=session, plan=plan, on=day, interpretations=interpretations)
    return service.plan_status_read(plan=plan, state=state)
