"""Path parameters shared by the routers under ``/plans/{plan_id}``, and the dependencies
that load the plan (checked against the caller: another city's plan is not found) and the
task a request names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from renewal.interpretations import RenewalInterpretations
from renewal.plans import lookup
from renewal.plans.pack import Plan, PlanPack, Task
from shared.auth import CurrentPrincipal
from shared.examples import parameter_example

PlanId = Annotated[
    str, Path(max_length=100, openapi_examples=parameter_example("panjin-2024-equipment-renewal"))
]
TaskNumber = Annotated[int, Path(ge=1, openapi_examples=parameter_example(22))]


async def plan_pack(request: Request) -> PlanPack:
    plans: PlanPack = request.app.state.plans
    return plans


async def interpretations(request: Request) -> RenewalInterpretations:
    chosen: RenewalInterpretations = request.app.state.settings.interpretations
    return chosen


PlansDep = Annotated[PlanPack, Depends(plan_pack)]
InterpretationsDep = Annotated[RenewalInterpretations, Depends(interpretations)]


async def plan_in_scope(plan_id: PlanId, plans: PlansDep, principal: CurrentPrincipal) -> Plan:
    return lookup.find_plan(plans=plans, plan_id=plan_id, principal=principal)


PlanDep = Annotated[Plan, Depends(plan_in_scope)]


async def task_of_plan(plan: PlanDep, number: TaskNumber) -> Task:
    return lookup.find_task(plan=plan, number=number)


TaskDep = Annotated[Task, Depends(task_of_plan)]
