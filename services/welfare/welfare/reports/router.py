"""HTTP for reports: the monthly county progress report as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.exports import JSON, XLSX, negotiate, to_xlsx
from shared.jurisdictions import JurisdictionCode
from shared.months import MONTH_PATTERN, YearMonth, policy_today
from shared.problems import problem_responses
from welfare.access import Reader
from welfare.reports import service
from welfare.reports.export import report as export_report
from welfare.reports.schemas import CountyProgressReport

router = APIRouter(prefix="/api/welfare/v1", tags=["reports"])


@router.get(
    "/reports/county-progress",
    response_model=CountyProgressReport,
    summary="Monthly county progress report of the standards' rollout (盘政办发〔2024〕4号 四（三）), "
    "JSON or XLSX",
    description=(
        "Per jurisdiction of the area and program: enrolments active, started and ended in the month, "
        "regular payments for the month, arrears and overpayments booked during it. XLSX with "
        "`format=xlsx` or an Accept header naming it (406 for an Accept naming neither). 422 for a "
        "month that has not begun."
    ),
    responses={
        200: {
            "description": "The report",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(403, 406, 422),
    },
)
async def county_progress(
    request: Request,
    session: SessionDep,
    principal: Reader,
    jurisdiction: Annotated[JurisdictionCode, Query(openapi_examples=parameter_example("211100"))],
    month: Annotated[
        str,
        Query(pattern=MONTH_PATTERN, description="YYYY-MM", openapi_examples=parameter_example("2024-08")),
    ],
    format: Annotated[
        Literal["json", "xlsx"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> Response:
    wanted = negotiate(request.headers.get("accept"), (JSON, XLSX), format)
    ensure_jurisdiction(principal, jurisdiction)
    report = await service.county_progress(session, jurisdiction=jurisdiction, month=YearMonth.parse(month))
    if wanted.format == "json":
        return JSONResponse(report.model_dump(mode="json"), headers={"Vary": "Accept"})
    name = f"welfare-county-progress-{jurisdiction}-{month}.xlsx"
    return Response(
        to_xlsx(export_report(report, made_on=policy_today())),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Vary": "Accept"},
    )
