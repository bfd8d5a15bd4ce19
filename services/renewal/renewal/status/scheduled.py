"""The events no write causes, for the scheduler (:mod:`shared.events.scheduler`): a task's
target at risk or overdue (from the status on the day), a month's bulletin published (once the
month has ended). Data: ids, the plan's jurisdiction, the citation; no personal data."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.interpretations import RenewalInterpretations
from renewal.plans.pack import Plan, PlanPack
from renewal.status.service import STATUS_DAYS_AHEAD, plan_status
from renewal.status.targets import TargetStatus
from shared.events.scheduler import Check, Due
from shared.months import YearMonth
from shared.writes import Event

PREFIX = "/api/renewal/v1"
FLAGGED = {"overdue": "task.overdue", "at risk": "task.at_risk"}


def _in_force(plan: Plan, on: dt.date) -> bool:
    """The plan has a status on ``on`` (issued by then, not far beyond its horizon)."""
    issued = plan.spec.issued_on
    last = plan.spec.horizon + dt.timedelta(days=STATUS_DAYS_AHEAD)
    return (issued is None or issued <= on) and on <= last


async def task_events(
    session: AsyncSession, plan: Plan, today: dt.date, interpretations: RenewalInterpretations
) -> list[Due]:
    """One ``task.overdue`` per task and passed deadline with a target not achieved, one
    ``task.at_risk`` per task and deadline with a target behind its expected line."""
    if not _in_force(plan, today):
        return []
    state = await plan_status(session=session, plan=plan, on=today, interpretations=interpretations)
    dues = []
    for task_state in state.tasks:
        task = plan.task(task_state.number)
        if task is None:
            continue
        grouped: dict[tuple[str, dt.date | None], list[TargetStatus]] = defaultdict(list)
        for target in task_state.targets:
            if target.status in FLAGGED:
                grouped[(FLAGGED[target.status], target.deadline)].append(target)
        for (kind, deadline), targets in sorted(
            grouped.items(), key=lambda item: (item[0][0], str(item[0][1]))
        ):
            dues.append(
                Due(
                    key=f"renewal:{kind}:{plan.id}:{task.number}:{deadline or 'undated'}",
                    event=Event(
                        type=kind,
                        subject=f"{PREFIX}/plans/{plan.id}/tasks/{task.number}",
                        jurisdiction=plan.spec.jurisdiction,
                        data={
                            "plan": plan.id,
                            "task": task.number,
                            "deadline": deadline,
                            "on": today,
                            "indicators": [
                                {"indicator": t.indicator, "status": t.status, "reason": t.reason}
                                for t in targets
                            ],
                            "status": f"{PREFIX}/plans/{plan.id}/status?on={today.isoformat()}",
                            "citation": task.citation,
                        },
                    ),
                )
            )
    return dues


def bulletin_event(plan: Plan, today: dt.date) -> list[Due]:
    """The bulletin of the month that ended last (once the plan was issued by its end and it
    began before the plan's horizon): earlier months are not announced again."""
    month = YearMonth.of(today).plus(-1)
    issued = plan.spec.issued_on
    if (issued is not None and month.last_day < issued) or month.first_day > plan.spec.horizon:
        return []
    citation = plan.spec.review_cadence.citation if plan.spec.review_cadence else plan.spec.document
    path = f"{PREFIX}/plans/{plan.id}/bulletins/{month}"
    return [
        Due(
            key=f"renewal:bulletin.published:{plan.id}:{month}",
            event=Event(
                type="bulletin.published",
                subject=path,
                jurisdiction=plan.spec.jurisdiction,
                data={"plan": plan.id, "month": str(month), "bulletin": path, "citation": citation},
            ),
        )
    ]


def scheduled_checks(app: FastAPI) -> Sequence[Check]:
    """The checks of the loaded plans (``app.state.plans``, the settings' interpretations)."""

    async def tasks(session: AsyncSession, today: dt.date) -> list[Due]:
        plans: PlanPack = app.state.plans
        interpretations: RenewalInterpretations = app.state.settings.interpretations
        dues = []
        for plan in plans.values():
            dues += await task_events(session, plan, today, interpretations)
        return dues

    async def bulletins(session: AsyncSession, today: dt.date) -> list[Due]:
        plans: PlanPack = app.state.plans
        return [due for plan in plans.values() for due in bulletin_event(plan, today)]

    return [tasks, bulletins]
