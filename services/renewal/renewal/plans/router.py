"""HTTP for plans and their tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from renewal.access import Reader
from renewal.plans import lookup, service
from renewal.plans.dependencies import InterpretationsDep, PlanDep, PlansDep, TaskDep
from renewal.plans.schemas import PlanRead, TaskRead
from renewal.status.schemas import TaskStatusName
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.months import policy_today
from shared.pagination import Items, Page, PageDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.get("/plans", response_model=Items[PlanRead], summary="Plans tracked by the service")
async def list_plans(principal: Reader, plans: PlansDep) -> Items[PlanRead]:
    return Items.of(
        [service.plan_read(plan) for plan in lookup.visible_plans(plans=plans, principal=principal)]
    )


@router.get(
    "/plans/{plan_id}",
    response_model=PlanRead,
    summary="A plan with its sections",
    responses=problem_responses(404),
)
async def read_plan(principal: Reader, plan: PlanDep) -> PlanRead:
    return service.plan_read(plan)


@router.get(
    "/plans/{plan_id}/tasks",
    response_model=Page[TaskRead],
    summary="Tasks, filtered",
    responses=problem_responses(404),
)
async def list_tasks(
    principal: Reader,
    plan: PlanDep,
    session: SessionDep,
    interpretations: InterpretationsDep,
    page: PageDep,
    lead_unit: Annotated[
        str | None, Query(max_length=200, openapi_examples=parameter_example("市工业和信息化局"))
    ] = None,
    cooperating_unit: Annotated[str | None, Query(max_length=200)] = None,
    section: Annotated[str | None, Query(max_length=50)] = None,
    responsible_leader: Annotated[str | None, Query(max_length=50)] = None,
    status: TaskStatusName | None = None,
) -> Page[TaskRead]:
    filters = service.TaskFilter(
        lead_unit=lead_unit,
        cooperating_unit=cooperating_unit,
        section=section,
        responsible_leader=responsible_leader,
        status=status,
    )
    items = await service.list_tasks(
        session=session, plan=plan, filters=filters, on=policy_today(), interpretations=interpretations
    )
    return Page.of(items[page.offset : page.offset + page.limit], len(items), page)


@router.get(
    "/plans/{plan_id}/tasks/{number}",
    response_model=TaskRead,
    summary="A task: units, responsible leader, targets, latest reports",
    responses=problem_responses(404),
)
async def read_task(principal: Reader, plan: PlanDep, task: TaskDep, session: SessionDep) -> TaskRead:
    return await service.read_task(session=session, plan=plan, task=task, on=policy_today())
