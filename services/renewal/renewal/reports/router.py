"""HTTP for progress reports: submit, read, review."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from renewal.access import Reader, Writer
from renewal.plans.dependencies import PlanDep, TaskDep
from renewal.reports import service
from renewal.reports.schemas import ReportCreate, ReportRead, ReportReview
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.examples import request_example
from shared.problems import problem_responses
from shared.writes import UpdateDep, WriteDep

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])
# renewal.md "Contract endpoints"
REPORT_EXAMPLE = {
    "period": "2025-01",
    "unit": "市农业农村局",
    "narrative": "1月报废老旧拖拉机126台、联合收割机31台，补贴资金已拨付。",
    "evidence_links": ["https://example.gov.cn/nync/2025-01-notice"],
}


@router.post(
    "/plans/{plan_id}/tasks/{number}/reports",
    status_code=201,
    response_model=ReportRead,
    summary="Submit a progress report (users of a lead or cooperating unit, or plan admins)",
    responses=problem_responses(403, 404, 409, 422),
    openapi_extra=request_example(REPORT_EXAMPLE),
)
async def submit_report(
    principal: Writer,
    plan: PlanDep,
    task: TaskDep,
    data: ReportCreate,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    report = await service.submit(write=write, plan=plan, task=task, data=data)
    return await write.respond(
        201, ReportRead.model_validate(report), record=report, location=service.report_path(plan, report)
    )


@router.get(
    "/plans/{plan_id}/tasks/{number}/reports/{report_id}",
    response_model=ReportRead,
    summary="A progress report, with its ETag (the version to review)",
    responses=problem_responses(404),
)
async def read_report(
    principal: Reader,
    plan: PlanDep,
    task: TaskDep,
    report_id: uuid.UUID,
    session: SessionDep,
    response: Response,
) -> ReportRead:
    report = await service.get_report(session=session, plan=plan, task=task, report_id=report_id)
    set_etag(response, report.id, report.version)
    return ReportRead.model_validate(report)


@router.post(
    "/plans/{plan_id}/tasks/{number}/reports/{report_id}/review",
    response_model=ReportRead,
    summary="Accept (lock) or return a report (the task's lead unit)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def review_report(
    principal: Writer,
    plan: PlanDep,
    task: TaskDep,
    report_id: uuid.UUID,
    data: ReportReview,
    write: UpdateDep,
) -> Response:
    if replay := await write.replay():
        return replay
    report = await service.review(write=write, plan=plan, task=task, report_id=report_id, data=data)
    return await write.respond(200, ReportRead.model_validate(report), record=report)
