"""Finding the plan or task a request names: another city's plan is not found, like an
unknown one (renewal.access)."""

from __future__ import annotations

from renewal.access import sees_plan
from renewal.plans.pack import Plan, PlanPack, Task
from shared.auth import Principal
from shared.errors import NotFound


def visible_plans(*, plans: PlanPack, principal: Principal) -> list[Plan]:
    return [plan for plan in plans.values() if sees_plan(principal, plan)]


def find_plan(*, plans: PlanPack, plan_id: str, principal: Principal) -> Plan:
    """The plan, when the caller sees it; another city's plan is not found, like an unknown one."""
    plan = plans.get(plan_id)
    if plan is None or not sees_plan(principal, plan):
        known = ", ".join(sorted(p.id for p in visible_plans(plans=plans, principal=principal)))
        raise NotFound(f"No plan {plan_id}; known plans: {known or 'none'}.")
    return plan


def find_task(*, plan: Plan, number: int) -> Task:
    task = plan.task(number)
    if task is None:
        raise NotFound(f"Plan {plan.id} has no task {number} (tasks 1–{len(plan.spec.tasks)}).")
    return task
