"""HTTP for rectification reports and their status (overdue flagged)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from appraisal.access import Reader, Writer
from appraisal.rectification import service
from appraisal.rectification.schemas import RectificationCreate, RectificationRead, RectificationStatus
from appraisal.years.dependencies import SubjectDep, YearDep
from shared.db import SessionDep
from shared.months import policy_today
from shared.pagination import Items
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/appraisal/v1", tags=["rectification"])


@router.post(
    "/years/{year}/subjects/{subject}/rectification",
    status_code=201,
    response_model=RectificationRead,
    summary="Submit the written rectification report (due one month after publication)",
    responses=problem_responses(403, 404, 409, 422),
)
async def submit_rectification(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: RectificationCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    report = await service.submit(
        write=write,
        context=context,
        subject=subject,
        data=data,
        today=policy_today(),
    )
    return await write.respond(201, service.report_read(context, subject, report))


@router.get(
    "/years/{year}/subjects/{subject}/rectification",
    response_model=RectificationRead,
    summary="A subject's rectification report on its latest publication",
    responses=problem_responses(404, 409),
)
async def read_rectification(
    principal: Reader, context: YearDep, subject: SubjectDep, session: SessionDep
) -> RectificationRead:
    report = await service.report(session=session, subject=subject)
    return service.report_read(context, subject, report)


@router.get(
    "/years/{year}/rectifications",
    response_model=Items[RectificationStatus],
    summary="Every published subject's rectification report: submitted, late, pending or overdue",
    responses=problem_responses(404, 409),
)
async def list_rectifications(
    principal: Reader, context: YearDep, session: SessionDep
) -> Items[RectificationStatus]:
    return Items.of(
        await service.statuses(session=session, context=context, principal=principal, today=policy_today())
    )
