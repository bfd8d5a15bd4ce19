"""``POST /api/appraisal/v1/grading``: the stateless grading contract."""

from __future__ import annotations

from fastapi import APIRouter, Request

from appraisal.access import Reader
from appraisal.grading.engine import grade_subjects
from appraisal.grading.schemas import GradingRequest, GradingResponse
from appraisal.schemes.state import interpretations_of, schemes_of
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["grading"])


@router.post(
    "/grading",
    response_model=GradingResponse,
    summary="Grade subjects under a scheme: totals, ranks, grades and the rules applied",
    responses=problem_responses(422),
)
async def grade(data: GradingRequest, request: Request, principal: Reader) -> GradingResponse:
    return grade_subjects(data, schemes_of(request), interpretations_of(request))
