"""HTTP for the stateless calculator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.problems import problem_responses
from welfare.calculations.calculator import calculate
from welfare.calculations.schemas import CalculationRequest, CalculationResult
from welfare.standards.service import current_book

router = APIRouter(prefix="/api/welfare/v1", tags=["calculations"])
Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]

EXAMPLE = {
    "program": "dibao",
    "jurisdiction": "211100",
    "month": "2024-08",
    "household_size": 3,
    "per_capita_income": "500.00",
}


@router.post(
    "/calculations",
    response_model=CalculationResult,
    summary="Calculate the monthly amount due under a program, with its explanation",
    responses=problem_responses(422),
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def create_calculation(
    data: CalculationRequest, request: Request, session: SessionDep, principal: Reader
) -> CalculationResult:
    book = await current_book(session, request.app.state.standards_pack)
    return calculate(book, data, request.app.state.settings.interpretations.standard_staleness_days)
