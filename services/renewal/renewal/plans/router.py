"""HTTP for plans, tasks, statuses, progress reports, duties, bulletins and equipment."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from renewal.bulletins import build as bulletins
from renewal.equipment.rules import ThresholdsFile, assess
from renewal.plans.pack import Plan, Task
from renewal.plans.schemas import (
    AbsenceCreate,
    AbsenceRead,
    DutyCreate,
    DutyRead,
    EquipmentAnswer,
    EquipmentAssessment,
    PlanRead,
    PlanStatusRead,
    ReportCreate,
    ReportRead,
    ReportReview,
    SectionRead,
    TargetRead,
    TaskRead,
    TaskStatusName,
)
from renewal.reports import service as reports
from renewal.reports.models import LeaderAbsence, ReportingDuty
from renewal.status.service import away_leaders, leader_json, plan_status
from shared.auth import Principal, require_scope
from shared.concurrency import IfMatch, etag_for, require_if_match
from shared.db import SessionDep
from shared.errors import Conflict, InvalidInput, NotFound
from shared.examples import answer_example, parameter_example, request_example
from shared.idempotency import IdempotencyDep
from shared.months import MONTH_PATTERN, YearMonth, policy_today
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])
Reader = Annotated[Principal, Depends(require_scope("renewal:read"))]
Writer = Annotated[Principal, Depends(require_scope("renewal:write"))]
Admin = Annotated[Principal, Depends(require_scope("renewal:admin"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PlanId = Annotated[
    str, Path(max_length=100, openapi_examples=parameter_example("panjin-2024-equipment-renewal"))
]
TaskNumber = Annotated[int, Path(ge=1, openapi_examples=parameter_example(22))]
# renewal.md "Contract endpoints"
REPORT_EXAMPLE = {
    "period": "2025-01",
    "unit": "市农业农村局",
    "narrative": "1月报废老旧拖拉机126台、联合收割机31台，补贴资金已拨付。",
    "evidence_links": ["https://example.gov.cn/nync/2025-01-notice"],
}
EQUIPMENT_EXAMPLE = {"kind": "tractor", "in_service_since": "2008-05-01", "on": "2024-06-01"}
EQUIPMENT_ANSWER = {
    "kind": "tractor",
    "name": "拖拉机",
    "renew": True,
    "task": 22,
    "plan": "panjin-2024-equipment-renewal",
    "reason": "拖拉机 in service 16 full years; task 22: 报废 those of 15 years or more (15年以上)",
    "age_years": 16,
    "citation": "盘政发〔2024〕4号 二（三）22：加快15年以上的老旧拖拉机、12年以上的联合收割机、"
    "10年以上的悬挂式联合收割机等技术状况差、维修成本高的农业机械报废",
}


def get_plan(request: Request, plan_id: str) -> Plan:
    plans: dict[str, Plan] = request.app.state.plans
    plan = plans.get(plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}; known plans: {', '.join(sorted(plans))}.")
    return plan


def get_task(plan: Plan, number: int) -> Task:
    task = plan.task(number)
    if task is None:
        raise NotFound(f"Plan {plan.id} has no task {number} (tasks 1–{len(plan.spec.tasks)}).")
    return task


def plan_read(plan: Plan) -> PlanRead:
    return PlanRead(
        id=plan.id,
        title=plan.spec.title,
        document=plan.spec.document,
        jurisdiction=plan.spec.jurisdiction,
        issued_on=plan.spec.issued_on,
        horizon=plan.spec.horizon,
        task_count=len(plan.spec.tasks),
        sections=[SectionRead(code=s.code, title=s.title, parent=s.parent) for s in plan.spec.sections],
    )


def targets_of(plan: Plan, number: int) -> list[TargetRead]:
    return [
        TargetRead(
            indicator=i.id,
            indicator_name=i.name,
            unit_of_measure=i.unit,
            direction=i.direction,
            value=str(t.value),
            deadline=t.deadline,
            kind=t.kind,
            baseline_year=i.baseline.year if i.baseline else None,
            citation=i.citation,
        )
        for i in plan.spec.indicators
        if i.task == number
        for t in i.targets
    ]


def task_read(plan: Plan, task: Task, away: set[str]) -> TaskRead:
    section = next(s for s in plan.spec.sections if s.code == task.section)
    return TaskRead(
        number=task.number,
        text=task.text,
        section=task.section,
        section_title=section.title,
        lead_units=task.lead_units,
        cooperating_units=task.cooperating_units,
        implementing_jurisdictions=plan.spec.implementing_jurisdictions,
        note=task.note,
        responsible_leader=leader_json(plan, task.number, away),
        targets=targets_of(plan, task.number),
    )


@router.get("/plans", response_model=list[PlanRead], summary="Plans tracked by the service")
async def list_plans(request: Request, principal: Reader) -> list[PlanRead]:
    plans: dict[str, Plan] = request.app.state.plans
    return [plan_read(plan) for plan in plans.values()]


@router.get(
    "/plans/{plan_id}",
    response_model=PlanRead,
    summary="A plan with its sections",
    responses=problem_responses(404),
)
async def read_plan(plan_id: PlanId, request: Request, principal: Reader) -> PlanRead:
    return plan_read(get_plan(request, plan_id))


@router.get(
    "/plans/{plan_id}/tasks",
    response_model=Page[TaskRead],
    summary="Tasks, filtered",
    responses=problem_responses(404),
)
async def list_tasks(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    lead_unit: Annotated[
        str | None, Query(max_length=200, openapi_examples=parameter_example("市工业和信息化局"))
    ] = None,
    cooperating_unit: Annotated[str | None, Query(max_length=200)] = None,
    section: Annotated[str | None, Query(max_length=50)] = None,
    responsible_leader: Annotated[str | None, Query(max_length=50)] = None,
    status: TaskStatusName | None = None,
) -> Page[TaskRead]:
    plan = get_plan(request, plan_id)
    today = policy_today()
    away = await away_leaders(session, plan, today)
    statuses = (
        {
            t.number: t.status
            for t in (
                await plan_status(session, plan, today, request.app.state.settings.interpretations)
            ).tasks
        }
        if status
        else {}
    )
    lead = plan.units.resolve(lead_unit) if lead_unit else None
    cooperating = plan.units.resolve(cooperating_unit) if cooperating_unit else None
    items = []
    for task in plan.spec.tasks:
        read = task_read(plan, task, away)
        if lead_unit and lead not in {plan.units.resolve(u) for u in task.lead_units}:
            continue
        if cooperating_unit and cooperating not in {plan.units.resolve(u) for u in task.cooperating_units}:
            continue
        if section and task.section != section and not task.section.startswith(section + "("):
            continue
        if responsible_leader and (
            read.responsible_leader is None or read.responsible_leader.name != responsible_leader
        ):
            continue
        if status and statuses.get(task.number) != status:
            continue
        items.append(read)
    return Page.of(items[page.offset : page.offset + page.limit], len(items), page)


@router.get(
    "/plans/{plan_id}/tasks/{number}",
    response_model=TaskRead,
    summary="A task: units, responsible leader, targets, latest reports",
    responses=problem_responses(404),
)
async def read_task(
    plan_id: PlanId, number: TaskNumber, request: Request, session: SessionDep, principal: Reader
) -> TaskRead:
    plan = get_plan(request, plan_id)
    task = get_task(plan, number)
    read = task_read(plan, task, await away_leaders(session, plan, policy_today()))
    read.latest_reports = [
        ReportRead.model_validate(r) for r in await reports.latest_reports(session, plan, number)
    ]
    return read


@router.post(
    "/plans/{plan_id}/tasks/{number}/reports",
    status_code=201,
    response_model=ReportRead,
    summary="Submit a progress report (users of a lead or cooperating unit, or plan admins)",
    responses=problem_responses(403, 404, 409, 422),
    openapi_extra=request_example(REPORT_EXAMPLE),
)
async def submit_report(
    plan_id: PlanId,
    number: TaskNumber,
    data: ReportCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    plan = get_plan(request, plan_id)
    task = get_task(plan, number)
    if replay := await idempotency.replay():
        return replay
    report = await reports.submit(session, plan=plan, task=task, principal=principal, data=data)
    return await idempotency.respond(
        201, ReportRead.model_validate(report), headers={"ETag": etag_for(report.id, report.row_version)}
    )


@router.post(
    "/plans/{plan_id}/tasks/{number}/reports/{report_id}/review",
    response_model=ReportRead,
    summary="Accept (lock) or return a report (the task's lead unit)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def review_report(
    plan_id: PlanId,
    number: TaskNumber,
    report_id: uuid.UUID,
    data: ReportReview,
    request: Request,
    session: SessionDep,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ReportRead:
    plan = get_plan(request, plan_id)
    task = get_task(plan, number)
    report = await reports.get_report(session, plan, task, report_id)
    require_if_match(if_match, report.id, report.row_version)
    report = await reports.review(
        session, plan=plan, task=task, report=report, principal=principal, data=data
    )
    response.headers["ETag"] = etag_for(report.id, report.row_version)
    return ReportRead.model_validate(report)


@router.get(
    "/plans/{plan_id}/status",
    response_model=PlanStatusRead,
    summary="Every target's and task's status on a date",
    responses=problem_responses(404),
)
async def get_status(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    principal: Reader,
    on: Annotated[
        CalendarDate | None,
        Query(description="the day (default today)", openapi_examples=parameter_example("2025-01-15")),
    ] = None,
) -> dict[str, Any]:
    plan = get_plan(request, plan_id)
    state = await plan_status(session, plan, on or policy_today(), request.app.state.settings.interpretations)

    def target(t: Any) -> dict[str, Any]:
        return {
            "indicator": t.indicator,
            "deadline": t.deadline,
            "target": _s(t.target),
            "expected": _s(t.expected),
            "latest": _s(t.latest),
            "status": t.status,
            "reason": t.reason,
        }

    return {
        "plan": plan.id,
        "on": state.on,
        "tasks": [
            {
                "number": t.number,
                "status": t.status,
                "responsible_leader": t.leader,
                "targets": [target(x) for x in t.targets],
                "duties": [d.__dict__ for d in t.duties],
            }
            for t in state.tasks
        ],
        "plan_targets": [target(x) for x in state.plan_targets],
    }


def _s(value: object) -> str | None:
    return None if value is None else str(value)


@router.get(
    "/plans/{plan_id}/bulletins/{month}",
    summary="The monthly bulletin (月通报) as JSON, XLSX or CSV (Accept header or format=)",
    responses={
        200: {"content": {"application/json": {}, XLSX: {}, "text/csv": {}}, "description": "the bulletin"},
        **problem_responses(404, 406, 422),
    },
)
async def get_bulletin(
    plan_id: PlanId,
    month: Annotated[str, Path(pattern=MONTH_PATTERN, openapi_examples=parameter_example("2025-01"))],
    request: Request,
    session: SessionDep,
    principal: Reader,
    format: Annotated[str | None, Query(pattern="^(json|xlsx|csv)$")] = None,
) -> Response:
    plan = get_plan(request, plan_id)
    try:
        period = YearMonth.parse(month)
    except ValueError as exc:
        raise InvalidInput.field("path.month", str(exc)) from exc
    state = await plan_status(session, plan, period.last_day, request.app.state.settings.interpretations)
    bulletin = bulletins.build(plan, str(period), state)
    accept = request.headers.get("accept", "application/json")
    wanted = format or ("xlsx" if XLSX in accept else "csv" if "text/csv" in accept else "json")
    name = f"{plan.id}-{period}"
    if wanted == "xlsx":
        return Response(
            bulletins.to_xlsx(bulletin),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    if wanted == "csv":
        return Response(
            bulletins.to_csv(bulletin),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(bulletin)


@router.post(
    "/plans/{plan_id}/duties",
    status_code=201,
    response_model=DutyRead,
    summary="Set a reporting duty (task × unit × monthly or quarterly)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_duty(
    plan_id: PlanId, data: DutyCreate, request: Request, session: SessionDep, principal: Admin
) -> DutyRead:
    plan = get_plan(request, plan_id)
    task = get_task(plan, data.task_number)
    unit = plan.units.resolve(data.unit)
    if unit is None or unit not in reports.task_units(plan, task):
        raise InvalidInput.field(
            "body.unit", f"{data.unit} is not a lead or cooperating unit of task {task.number}"
        )
    exists = await session.scalar(
        select(ReportingDuty.id).where(
            ReportingDuty.plan_id == plan.id,
            ReportingDuty.task_number == task.number,
            ReportingDuty.unit == unit,
        )
    )
    if exists:
        raise Conflict(f"{unit} already has a reporting duty on task {task.number}.")
    duty = ReportingDuty(
        plan_id=plan.id,
        task_number=task.number,
        unit=unit,
        cadence=data.cadence,
        starts=data.starts,
        due_day=data.due_day,
        grace_days=data.grace_days,
        created_by=principal.actor,
    )
    session.add(duty)
    await session.flush()
    return DutyRead.model_validate(duty)


@router.get(
    "/plans/{plan_id}/duties",
    response_model=list[DutyRead],
    summary="Reporting duties of a plan",
    responses=problem_responses(404),
)
async def list_duties(
    plan_id: PlanId, request: Request, session: SessionDep, principal: Reader
) -> list[DutyRead]:
    plan = get_plan(request, plan_id)
    rows = await session.scalars(
        select(ReportingDuty)
        .where(ReportingDuty.plan_id == plan.id)
        .order_by(ReportingDuty.task_number, ReportingDuty.unit)
    )
    return [DutyRead.model_validate(r) for r in rows]


@router.post(
    "/plans/{plan_id}/leader-absences",
    status_code=201,
    response_model=AbsenceRead,
    summary="Record a leader as away (tasks then go to the stand-in)",
    responses=problem_responses(404, 422),
)
async def record_absence(
    plan_id: PlanId, data: AbsenceCreate, request: Request, session: SessionDep, principal: Admin
) -> AbsenceRead:
    plan = get_plan(request, plan_id)
    if plan.leaders is None or data.leader not in {leader.name for leader in plan.leaders.leaders}:
        raise InvalidInput.field(
            "body.leader", f"{data.leader} is not a leader of this plan's division of work"
        )
    if data.away_to < data.away_from:
        raise InvalidInput.field("body.away_to", "must not be before away_from")
    absence = LeaderAbsence(
        plan_id=plan.id,
        leader=data.leader,
        away_from=data.away_from,
        away_to=data.away_to,
        reason=data.reason,
        created_by=principal.actor,
    )
    session.add(absence)
    await session.flush()
    return AbsenceRead.model_validate(absence)


@router.post(
    "/equipment/assessments",
    response_model=EquipmentAnswer,
    tags=["equipment"],
    summary="Is this piece of equipment due for renewal, and under which task?",
    responses={**problem_responses(422), **answer_example(EQUIPMENT_ANSWER)},
    openapi_extra=request_example(EQUIPMENT_EXAMPLE),
)
async def assess_equipment(
    data: EquipmentAssessment, request: Request, principal: Reader
) -> dict[str, object]:
    thresholds: ThresholdsFile = request.app.state.equipment_thresholds
    return assess(
        thresholds,
        kind=data.kind,
        in_service_since=data.in_service_since,
        on=data.on,
        emission_standard=data.emission_standard,
    )
