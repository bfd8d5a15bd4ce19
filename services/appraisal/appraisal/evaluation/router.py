"""HTTP for the comprehensive evaluation: bonuses and deductions, downgrade and veto
circumstances, incidents (carry-back), the computation, and the results as JSON, XLSX, DOCX or
PDF (another Accept is 406)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from appraisal.access import Reader, Writer
from appraisal.consequences import service as consequence_service
from appraisal.evaluation import adjustments, circumstances, export, incidents, results
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
from appraisal.years import roles
from appraisal.years.dependencies import SubjectDep, YearDep
from appraisal.years.service import require_known_scheme
from shared.db import SessionDep
from shared.exports import DOCX, JSON, PDF, XLSX, negotiate, to_docx, to_pdf, to_xlsx
from shared.months import policy_today
from shared.pagination import Items
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/appraisal/v1", tags=["evaluation"])
RESULT_FORMATS = (JSON, XLSX, DOCX, PDF)
BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/years/{year}/subjects/{subject}/adjustments",
    status_code=201,
    response_model=AdjustmentRead,
    summary="Record a bonus (加分项) or deduction (减分项) for a subject",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_adjustment(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: AdjustmentCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    adjustment = await adjustments.record_adjustment(write=write, context=context, subject=subject, data=data)
    return await write.respond(201, adjustments.adjustment_read(subject, adjustment))


@router.get(
    "/years/{year}/subjects/{subject}/adjustments",
    response_model=Items[AdjustmentRead],
    summary="A subject's bonuses and deductions",
    responses=problem_responses(404, 409),
)
async def list_adjustments(
    principal: Reader, subject: SubjectDep, session: SessionDep
) -> Items[AdjustmentRead]:
    rows = await adjustments.adjustments_of(session=session, subject=subject)
    return Items.of([adjustments.adjustment_read(subject, row) for row in rows])


@router.post(
    "/years/{year}/subjects/{subject}/circumstances",
    status_code=201,
    response_model=CircumstanceRead,
    summary="Record a downgrade (降级) or veto (否决) circumstance of the catalogue, with evidence",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_circumstance(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: CircumstanceCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    finding = await circumstances.record_circumstance(
        write=write, context=context, subject=subject, data=data
    )
    return await write.respond(201, circumstances.circumstance_read(context, subject, finding))


@router.get(
    "/years/{year}/subjects/{subject}/circumstances",
    response_model=Items[CircumstanceRead],
    summary="The downgrade and veto circumstances recorded for a subject",
    responses=problem_responses(404, 409),
)
async def list_circumstances(
    principal: Reader, context: YearDep, subject: SubjectDep, session: SessionDep
) -> Items[CircumstanceRead]:
    rows = await circumstances.findings_of(session=session, subject=subject)
    return Items.of([circumstances.circumstance_read(context, subject, row) for row in rows])


@router.post(
    "/years/{year}/evaluation",
    response_model=YearResults,
    summary="Run the comprehensive evaluation (综合评议) from the stored figures",
    responses=problem_responses(403, 404, 409, 422),
)
async def run_evaluation(
    principal: Writer,
    context: YearDep,
    request: Request,
    session: SessionDep,
    write: WriteDep,
    data: Annotated[EvaluationRun | None, Body()] = None,
) -> Response:
    if replay := await write.replay():
        return replay
    await results.run_evaluation(write=write, context=context, interpretations=interpretations_of(request))
    body = await results.year_results(session=session, context=context, principal=principal)
    return await write.respond(200, body)


@router.get(
    "/years/{year}/results",
    response_model=YearResults,
    summary="The year's results as JSON, an XLSX workbook, or a DOCX or PDF 通报 (Accept or format=)",
    responses={
        200: {
            "description": "The results: ranks, grades, points by component, rules applied",
            "content": {XLSX: BINARY, DOCX: BINARY, PDF: BINARY},
        },
        **problem_responses(404, 406, 409),
    },
)
async def read_results(
    principal: Reader,
    context: YearDep,
    request: Request,
    session: SessionDep,
    format: Annotated[
        Literal["json", "xlsx", "docx", "pdf"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> Response:
    wanted = negotiate(request.headers.get("accept"), RESULT_FORMATS, format)
    body = await results.year_results(session=session, context=context, principal=principal)
    if wanted.format == "json":
        return JSONResponse(body.model_dump(mode="json"), headers={"Vary": "Accept"})
    consequences = None
    if context.year.published_on is not None and roles.is_city_staff(principal, context.year):
        consequences = await consequence_service.consequences(
            session=session,
            context=context,
            principal=principal,
            interpretations=interpretations_of(request),
            today=policy_today(),
        )
    report = export.report(
        body, jurisdiction=context.year.city, made_on=policy_today(), consequences=consequences
    )
    write = {"xlsx": to_xlsx, "docx": to_docx, "pdf": to_pdf}[wanted.format]
    name = f"appraisal-{context.year.scheme}-{context.year.year}.{wanted.format}"
    return Response(
        write(report),
        media_type=wanted.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Vary": "Accept"},
    )


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
    write: WriteDep,
) -> Response:
    history = require_known_scheme(schemes=schemes_of(request), scheme=data.scheme, field="body.scheme")
    if replay := await write.replay():
        return replay
    incident, requires_reopening = await incidents.record_incident(
        write=write, history=history, data=data, today=policy_today()
    )
    body = incidents.incident_read(incident, requires_reopening)
    # read back in the list of the year it counts in
    return await write.respond(201, body, location=f"/api/appraisal/v1/years/{body.counted_year}/incidents")


@router.get(
    "/years/{year}/incidents",
    response_model=Items[IncidentRead],
    summary="Incidents counted against the year (including those carried back)",
    responses=problem_responses(404, 409),
)
async def list_incidents(principal: Reader, context: YearDep, session: SessionDep) -> Items[IncidentRead]:
    rows = await incidents.incidents_of_year(session=session, context=context, principal=principal)
    return Items.of([incidents.incident_read(row) for row in rows])
