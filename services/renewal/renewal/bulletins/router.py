"""HTTP for the monthly bulletin: JSON, XLSX or CSV by the Accept header or ``format=``."""

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
from shared.months import MONTH_PATTERN, YearMonth
from shared.problems import problem_responses

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wanted_format(accept: str, format: str | None) -> str:
    """``format=`` wins; else the Accept header (XLSX, CSV); else JSON."""
    if format:
        return format
    return "xlsx" if XLSX in accept else "csv" if "text/csv" in accept else "json"


@router.get(
    "/plans/{plan_id}/bulletins/{month}",
    summary="The monthly bulletin (月通报) as JSON, XLSX or CSV (Accept header or format=)",
    responses={
        200: {"content": {"application/json": {}, XLSX: {}, "text/csv": {}}, "description": "the bulletin"},
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
    format: Annotated[str | None, Query(pattern="^(json|xlsx|csv)$")] = None,
) -> Response:
    try:
        period = YearMonth.parse(month)
    except ValueError as exc:
        raise InvalidInput.field("path.month", str(exc)) from exc
    ensure_issued(plan=plan, on=period.last_day, asked_as="path.month")
    state = await plan_status(session=session, plan=plan, on=period.last_day, interpretations=interpretations)
    bulletin = service.monthly_bulletin(plan=plan, month=str(period), state=state)
    name = f"{plan.id}-{period}"
    wanted = wanted_format(request.headers.get("accept", "application/json"), format)
    if wanted == "xlsx":
        return Response(
            export.as_xlsx(bulletin),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    if wanted == "csv":
        return Response(
            export.as_csv(bulletin),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(bulletin)
