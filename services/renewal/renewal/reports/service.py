"""Submitting and reviewing progress reports: who may, and how revisions work.

Functions take keyword arguments and never commit; every write goes through the platform's
write path (``shared.writes``): audit row, outbox event, compare-and-set, 409 on collisions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.access import is_plan_admin, units_spoken_for
from renewal.plans.pack import Plan, Task
from renewal.reports import repository
from renewal.reports.models import ProgressReport
from renewal.reports.repository import ReportSeries
from renewal.reports.schemas import ReportCreate, ReportReview
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.writes import Event, WriteContext

REVIEWED_STATUS = {"accept": "accepted", "return": "returned", "reopen": "submitted"}
REVIEW_EVENTS = {"accept": "accepted", "return": "returned", "reopen": "reopened"}


def reporting_unit(*, plan: Plan, task: Task, principal: Principal, asked: str | None) -> str:
    """The unit a report is filed for: the one asked for (a unit of the task the caller
    speaks for, or any unit of the task for a plan administrator), else the caller's own
    unit of the task."""
    allowed = plan.units_of(task)
    if asked is not None:
        unit = plan.units.resolve(asked)
        if unit is None or unit not in allowed:
            raise InvalidInput.field(
                "body.unit", f"{asked} is not a lead or cooperating unit of task {task.number}"
            )
        if unit not in units_spoken_for(principal, plan) and not is_plan_admin(principal, plan):
            raise Forbidden(f"You do not report for {unit}.")
        return unit
    mine = units_spoken_for(principal, plan) & allowed
    if not mine:
        raise Forbidden(
            f"Only users of a lead or cooperating unit of task {task.number} (or plan admins) report on it."
        )
    if len(mine) > 1:
        raise InvalidInput.field(
            "body.unit", f"you belong to several units of this task: {', '.join(sorted(mine))}"
        )
    return mine.pop()


def report_path(plan: Plan, report: ProgressReport) -> str:
    return f"/api/renewal/v1/plans/{plan.id}/tasks/{report.task_number}/reports/{report.id}"


def report_event(plan: Plan, report: ProgressReport, verb: str) -> Event:
    """report.submitted / accepted / returned / reopened (integration.md, change events)."""
    return Event(
        type=f"report.{verb}",
        subject=report_path(plan, report),
        jurisdiction=plan.spec.jurisdiction,
        data={
            "plan": plan.id,
            "task": report.task_number,
            "unit": report.unit,
            "period": report.period,
            "version": report.revision,
            "review_status": report.review_status,
        },
    )


def ensure_indicators_of_task(
    plan: Plan, task: Task, values: Mapping[str, object], *, plan_wide_allowed: bool
) -> None:
    """A report gives values only for its own task's indicators: a unit of one task does not
    mark another task's targets achieved. The plan-wide targets (一 of the Panjin plan, the
    Zhumadian indicators) belong to no task: the plan's administrators report them, in a
    report on any task. 422 naming the indicator."""
    owner = {indicator.id: indicator.task for indicator in plan.spec.indicators}
    for indicator in values:
        if indicator not in owner:
            raise InvalidInput.field(f"body.indicator_values.{indicator}", "not an indicator of this plan")
        if owner[indicator] is None and plan_wide_allowed:
            continue
        if owner[indicator] is None:
            raise InvalidInput.field(
                f"body.indicator_values.{indicator}",
                f"{indicator} is an indicator of the plan as a whole: its administrators report it",
            )
        if owner[indicator] != task.number:
            whose = f"task {owner[indicator]}" if owner[indicator] is not None else "the plan as a whole"
            raise InvalidInput.field(
                f"body.indicator_values.{indicator}",
                f"{indicator} is an indicator of {whose}, not of task {task.number}; report it there",
            )


async def submit(*, write: WriteContext, plan: Plan, task: Task, data: ReportCreate) -> ProgressReport:
    """A new revision of the unit's report for the period (revisions are never overwritten);
    refused while the latest revision is accepted (locked)."""
    unit = reporting_unit(plan=plan, task=task, principal=write.principal, asked=data.unit)
    ensure_indicators_of_task(
        plan, task, data.indicator_values, plan_wide_allowed=is_plan_admin(write.principal, plan)
    )
    series = ReportSeries(plan_id=plan.id, task_number=task.number, unit=unit, period=data.period)
    await repository.lock_series(write.session, series)
    latest = await repository.latest_revision(write.session, series)
    if latest is not None and latest.review_status == "accepted":
        raise Conflict(
            "The report for this period was accepted and is locked; ask the lead unit to reopen it."
        )
    report = ProgressReport(
        plan_id=plan.id,
        task_number=task.number,
        unit=unit,
        period=data.period,
        revision=(latest.revision + 1) if latest else 1,
        narrative=data.narrative,
        indicator_values=dict(data.indicator_values),
        evidence_links=list(data.evidence_links),
        submitted_by=write.principal.actor,
        review_status="submitted",
    )
    await write.add(report, conflict=f"Version {report.revision} of this report was filed at the same time.")
    await write.record(
        action="submit",
        entity="progress_report",
        entity_id=report.id,
        jurisdiction=plan.spec.jurisdiction,
        after={"task": task.number, "unit": unit, "period": data.period, "version": report.revision},
        event=report_event(plan, report, "submitted"),
    )
    return report


async def get_report(
    *, session: AsyncSession, plan: Plan, task: Task, report_id: uuid.UUID
) -> ProgressReport:
    report = await repository.get(session, report_id)
    if report is None or report.plan_id != plan.id or report.task_number != task.number:
        raise NotFound(f"No report {report_id} on task {task.number}.")
    return report


async def review(
    *, write: WriteContext, plan: Plan, task: Task, report_id: uuid.UUID, data: ReportReview
) -> ProgressReport:
    """Accept (lock), return or reopen a report, by the task's lead unit or a plan administrator.

    ``If-Match`` must name the report's current version, and the UPDATE is a compare-and-set
    on it: of concurrent reviews holding the same ETag one changes the report, the others 412.
    """
    report = await get_report(session=write.session, plan=plan, task=task, report_id=report_id)
    leads = plan.units_of(task, lead_only=True)
    if not (units_spoken_for(write.principal, plan) & leads) and not is_plan_admin(write.principal, plan):
        raise Forbidden("Only the lead unit of the task reviews its reports.")
    write.expect_current(report)
    if data.decision in ("return", "reopen") and not data.reason:
        raise InvalidInput.field("body.reason", f"to {data.decision} a report needs the reason")
    before = report.review_status
    if data.decision == "accept" and before == "accepted":
        raise Conflict("The report is accepted already.")
    if data.decision == "reopen" and before != "accepted":
        raise Conflict("Only an accepted (locked) report can be reopened.")
    if data.decision == "return" and before == "accepted":
        raise Conflict("The report is accepted and locked; reopen it first (the reopening is recorded).")
    report.review_status = REVIEWED_STATUS[data.decision]
    report.reviewed_by = write.principal.actor
    report.reviewed_at = dt.datetime.now(dt.UTC)
    report.review_reason = data.reason
    await write.flush()
    await write.record(
        action=data.decision,
        entity="progress_report",
        entity_id=report.id,
        jurisdiction=plan.spec.jurisdiction,
        before={"review_status": before},
        after={"review_status": report.review_status, "reason": data.reason},
        event=report_event(plan, report, REVIEW_EVENTS[data.decision]),
    )
    return report
