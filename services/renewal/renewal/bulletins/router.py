"""HTTP for the monthly bulletin: JSON, XLSX, CSV, DOCX or PDF by the Accept header or ``format=``
(an Accept naming none of them is 406)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from renewal.access import Reader
from renewal.bulletins import export, service
from renewal.plans.dependencies import InterpretationsDep, PlanDep
from renewal.status.service import ensure_issued, plan_status
from shared.db import SessionDep
from shared.errors import InvalidInput
from shared.examples import parameter_example
from shared.exports import CSV, DOCX, JSON, PDF, XLSX, negotiate, to_docx, to_pdf, to_xlsx
from shared.months import MONTH_PATTERN, YearMonth, policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])
OFFERED = (JSON, XLSX, CSV, DOCX, PDF)
BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/plans/{plan_id}/bulletins/{month}",
    summary="The monthly bulletin (月通报) as JSON, XLSX, CSV, or a DOCX or PDF 通报 (Accept or format=)",
    responses={
        200: {
            "content": {JSON: {}, XLSX: BINARY, CSV: {}, DOCX: BINARY, PDF: BINARY},
            "description": "the bulletin",
        },
        **problem_responses(404, 406, 422),
    },
)
async def get_bulletin(
    principal: Reader,
    plan: PlanDep,
    month: Annotated[str, Path(pattern=MONTH_PATTERN, openapi_examples=parameter_example("2025-01"))],
    request: Request,
    session: SessionDep,
    interpretations: InterpretationsDep,
    format: Annotated[str | None, Query(pattern="^(json|xlsx|csv|docx|pdf)$")] = None,
) -> Response:
    wanted = negotiate(request.headers.get("accept"), OFFERED, format)
    try:
        period = YearMonth.parse(month)
    except ValueError as exc:
        raise InvalidInput.field("path.month", str(exc)) from exc
    ensure_issued(plan=plan, on=period.last_day, asked_as="path.month")
    state = await plan_status(session=session, plan=plan, on=period.last_day, interpretations=interpretations)
    bulletin = service.monthly_bulletin(plan=plan, month=str(period), state=state)
    if wanted.format == "json":
        return JSONResponse(bulletin, headers={"Vary": "Accept"})
    name = f"{plan.id}-{period}.{wanted.format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Vary": "Accept"}
    if wanted.format == "csv":
        return Response(export.as_csv(bulletin), media_type="text/csv; charset=utf-8", headers=headers)
    report = export.report(bulletin, jurisdiction=plan.spec.jurisdiction, made_on=policy_today())
    write = {"xlsx": to_xlsx, "docx": to_docx, "pdf": to_pdf}[wanted.format]
    return Response(write(report), media_type=wanted.media_type, headers=headers)
