"""``POST /api/appraisal/v1/grading``: the stateless grading contract."""

from __future__ import annotations

from fastapi import APIRouter, Request

from appraisal.access import Reader
from appraisal.grading.example import ANSWER, EXAMPLE
from appraisal.grading.schemas import GradingRequest, GradingResponse
from appraisal.grading.scoring import grade_subjects
from appraisal.schemes.state import interpretations_of, schemes_in_force, schemes_of
from shared.examples import answer_example, request_example
from shared.months import policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["grading"])


@router.post(
    "/grading",
    response_model=GradingResponse,
    summary="Grade subjects under a scheme: totals, ranks, grades and the rules applied",
    responses={**problem_responses(422), **answer_example(ANSWER)},
    openapi_extra=request_example(EXAMPLE),
)
async def grade(data: GradingRequest, request: Request, principal: Reader) -> GradingResponse:
    schemes = schemes_in_force(schemes_of(request), scheme=data.scheme, on=policy_today())
    return grade_subjects(data, schemes, interpretations_of(request))
