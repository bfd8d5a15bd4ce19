"""HTTP for the comprehensive evaluation: bonuses and deductions, downgrade and veto
circumstances, incidents (carry-back), the computation, and the results as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from appraisal.access import Reader, Writer
from appraisal.evaluation import service
from appraisal.evaluation.export import XLSX, to_xlsx
from appraisal.evaluation.models import Adjustment, CircumstanceFinding, Incident
from appraisal.evaluation.schemas import (
    AdjustmentCreate,
    AdjustmentRead,
    CircumstanceCreate,
    CircumstanceRead,
    EvaluationRun,
    IncidentCreate,
    IncidentRead,
    YearResults,
)
from appraisal.schemes.state import interpretations_of, schemes_of
from appraisal.years import repository, roles
from appraisal.years.models import Subject
from appraisal.years.params import SchemeQuery, SubjectPath, YearPath, year_context
from appraisal.years.service import YearContext, find_subject, require_known_scheme
from shared.auth import Principal
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.months import policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["evaluation"])


def adjustment_read(subject: Subject, item: Adjustment) -> AdjustmentRead:
    return AdjustmentRead(
        id=item.id,
        subject=subject.code,
        component=item.component,
        points=item.points,
        provincial=item.provincial,
        reason=item.reason,
        recorded_by=item.recorded_by,
        recorded_at=item.recorded_at,
    )


def circumstance_read(context: YearContext, subject: Subject, item: CircumstanceFinding) -> CircumstanceRead:
    catalogue, effect = service.circumstance_effect(context.scheme, item.circumstance)
    return CircumstanceRead(
        id=item.id,
        subject=subject.code,
        circumstance=item.circumstance,
        effect=effect,
        text=catalogue.text,
        citation=catalogue.citation,
        evidence=item.evidence,
        evidence_files=item.evidence_files,
        recorded_by=item.recorded_by,
        recorded_at=item.recorded_at,
    )


@router.post(
    "/years/{year}/subjects/{subject}/adjustments",
    status_code=201,
    response_model=AdjustmentRead,
    summary="Record a bonus (加分项) or deduction (减分项) for a subject",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_adjustment(
    year: YearPath,
    subject: SubjectPath,
    data: AdjustmentCreate,
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
    item = await service.record_adjustment(
        session, context=context, subject=found, data=data, principal=principal
    )
    return await idempotency.respond(201, adjustment_read(found, item))


@router.get(
    "/years/{year}/subjects/{subject}/adjustments",
    response_model=list[AdjustmentRead],
    summary="A subject's bonuses and deductions",
    responses=problem_responses(404, 409),
)
async def list_adjustments(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[AdjustmentRead]:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    rows = await session.scalars(
        select(Adjustment).where(Adjustment.subject_id == found.id).order_by(Adjustment.recorded_at)
    )
    return [adjustment_read(found, row) for row in rows]


@router.post(
    "/years/{year}/subjects/{subject}/circumstances",
    status_code=201,
    response_model=CircumstanceRead,
    summary="Record a downgrade (降级) or veto (否决) circumstance of the catalogue, with evidence",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_circumstance(
    year: YearPath,
    subject: SubjectPath,
    data: CircumstanceCreate,
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
    finding, _ = await service.record_circumstance(
        session, context=context, subject=found, data=data, principal=principal
    )
    return await idempotency.respond(201, circumstance_read(context, found, finding))


@router.get(
    "/years/{year}/subjects/{subject}/circumstances",
    response_model=list[CircumstanceRead],
    summary="The downgrade and veto circumstances recorded for a subject",
    responses=problem_responses(404, 409),
)
async def list_circumstances(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[CircumstanceRead]:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    rows = await session.scalars(
        select(CircumstanceFinding)
        .where(CircumstanceFinding.subject_id == found.id)
        .order_by(CircumstanceFinding.recorded_at)
    )
    return [circumstance_read(context, found, row) for row in rows]


async def _results(session: SessionDep, context: YearContext, principal: Principal) -> YearResults:
    subjects = await repository.subjects_of(session, context.year.id)
    staff = roles.is_city_staff(principal, context.year)
    visible = [s for s in subjects if roles.sees_subject(principal, context.year, s)]
    reads = await service.result_reads(session, context=context, subjects=visible, published_only=not staff)
    return YearResults(
        year=context.year.year,
        scheme=context.year.scheme,
        document=context.scheme.document,
        published_on=context.year.published_on,
        results=reads,
    )


@router.post(
    "/years/{year}/evaluation",
    response_model=YearResults,
    summary="Run the comprehensive evaluation (综合评议) from the stored figures",
    responses=problem_responses(403, 404, 409, 422),
)
async def run_evaluation(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    data: Annotated[EvaluationRun | None, Body()] = None,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    await service.run_evaluation(
        session, context=context, principal=principal, interpretations=interpretations_of(request)
    )
    return await idempotency.respond(200, await _results(session, context, principal))


@router.get(
    "/years/{year}/results",
    response_model=YearResults,
    summary="The year's results as JSON or an XLSX workbook (Accept header or format=)",
    responses={
        200: {
            "description": "The results: ranks, grades, points by component, rules applied",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(404, 409),
    },
)
async def read_results(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
    format: Annotated[
        Literal["json", "xlsx"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    results = await _results(session, context, principal)
    wanted = format or ("xlsx" if XLSX in request.headers.get("accept", "") else "json")
    if wanted == "xlsx":
        name = f"appraisal-{context.year.scheme}-{context.year.year}.xlsx"
        return Response(
            to_xlsx(results),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(results.model_dump(mode="json"))


@router.post(
    "/incidents",
    status_code=201,
    response_model=IncidentRead,
    summary="Record a food-safety incident; it counts against the year before when that "
    "year's results were not yet published (carry-back)",
    responses=problem_responses(403, 409, 422),
)
async def create_incident(
    data: Annotated[IncidentCreate, Body()],
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    scheme = require_known_scheme(schemes_of(request), data.scheme, "body.scheme")
    if replay := await idempotency.replay():
        return replay
    incident, requires_reopening = await service.record_incident(
        session, scheme=scheme, data=data, principal=principal, today=policy_today()
    )
    return await idempotency.respond(201, service.incident_read(incident, requires_reopening))


@router.get(
    "/years/{year}/incidents",
    response_model=list[IncidentRead],
    summary="Incidents counted against the year (including those carried back)",
    responses=problem_responses(404, 409),
)
async def list_incidents(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[IncidentRead]:
    context = await year_context(request, session, principal, year, scheme)
    query = select(Incident).where(
        Incident.scheme == context.year.scheme, Incident.counted_year == context.year.year
    )
    if not roles.is_city_staff(principal, context.year):
        query = query.where(Incident.jurisdiction.in_(principal.visible_jurisdictions()))
    rows = await session.scalars(query.order_by(Incident.occurred_on))
    return [service.incident_read(row) for row in rows]
