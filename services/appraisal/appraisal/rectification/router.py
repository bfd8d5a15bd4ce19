"""HTTP for rectification reports and their status (overdue flagged)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appraisal.access import Reader, Writer
from appraisal.rectification import service
from appraisal.rectification.schemas import RectificationCreate, RectificationRead, RectificationStatus
from appraisal.years import repository, roles
from appraisal.years.params import SchemeQuery, SubjectPath, YearPath, year_context
from appraisal.years.service import find_subject
from shared.db import SessionDep
from shared.errors import NotFound
from shared.idempotency import IdempotencyDep
from shared.months import policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["rectification"])


@router.post(
    "/years/{year}/subjects/{subject}/rectification",
    status_code=201,
    response_model=RectificationRead,
    summary="Submit the written rectification report (due one month after publication)",
    responses=problem_responses(403, 404, 409, 422),
)
async def submit_rectification(
    year: YearPath,
    subject: SubjectPath,
    data: RectificationCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    if replay := await idempotency.replay():
        return replay
    report = await service.submit(
        session, context=context, subject=found, data=data, principal=principal, today=policy_today()
    )
    return await idempotency.respond(201, service.report_read(context, found, report))


@router.get(
    "/years/{year}/subjects/{subject}/rectification",
    response_model=RectificationRead,
    summary="A subject's rectification report on its latest publication",
    responses=problem_responses(404, 409),
)
async def read_rectification(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> RectificationRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    report = (await service.reports_of(session, [found])).get(found.id)
    if report is None:
        raise NotFound(f"{found.code} has not reported on its rectification.")
    return service.report_read(context, found, report)


@router.get(
    "/years/{year}/rectifications",
    response_model=list[RectificationStatus],
    summary="Every published subject's rectification report: submitted, late, pending or overdue",
    responses=problem_responses(404, 409),
)
async def list_rectifications(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[RectificationStatus]:
    context = await year_context(request, session, principal, year, scheme)
    subjects = [
        s
        for s in await repository.subjects_of(session, context.year.id)
        if roles.sees_subject(principal, context.year, s)
    ]
    return await service.statuses(session, context=context, subjects=subjects, today=policy_today())
