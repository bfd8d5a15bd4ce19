"""HTTP for the stateless calculator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.examples import answer_example, request_example
from shared.problems import problem_responses
from welfare.calculations.amounts import calculate
from welfare.calculations.schemas import CalculationRequest, CalculationResult
from welfare.standards.service import current_standards

router = APIRouter(prefix="/api/welfare/v1", tags=["calculations"])
Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]

EXAMPLE = {
    "program": "dibao",
    "jurisdiction": "211100",
    "month": "2024-08",
    "household_size": 3,
    "per_capita_income": "500.00",
}
ANSWER = {
    "program": "dibao",
    "jurisdiction": "211100",
    "month": "2024-08",
    "amount": "900.00",
    "eligible": True,
    "reason": None,
    "trace": {
        "formula": "amount = max(0, S − I) × n (社会救助暂行办法 第十二条)",
        "parameters": [
            {
                "name": "S",
                "value": "800.00",
                "version": "panjin-2024-4",
                "jurisdiction": "211100",
                "citation": {"document": "盘政办发〔2024〕4号", "article": "一（一）、二"},
            }
        ],
        "steps": ["S − I = 800.00 − 500.00 = 300.00", "max(0, S − I) × n = 300.00 × 3 = 900.00"],
    },
}


@router.post(
    "/calculations",
    response_model=CalculationResult,
    summary="Calculate the monthly amount due under a program, with its explanation",
    responses={**problem_responses(422), **answer_example(ANSWER)},
    openapi_extra=request_example(EXAMPLE),
)
async def create_calculation(
    data: CalculationRequest, request: Request, session: SessionDep, principal: Reader
) -> CalculationResult:
    standards = await current_standards(session, request.app.state.standards_pack)
    return calculate(standards, data, request.app.state.settings.interpretations.standard_staleness_days)
