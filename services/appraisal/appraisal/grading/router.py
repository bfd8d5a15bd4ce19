"""``POST /api/appraisal/v1/grading``: the stateless grading contract."""

from __future__ import annotations

from fastapi import APIRouter, Request

from appraisal.access import Reader
from appraisal.grading.rules import grade_subjects
from appraisal.grading.schemas import GradingRequest, GradingResponse
from appraisal.schemes.state import interpretations_of, schemes_of
from shared.examples import answer_example, request_example
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["grading"])

# appraisal.md "Contract endpoints": with these inputs the first total is 107.5 (92.5 + 10 +
# the bonus capped at 5); the spec's "101.5" is what ad_hoc 4 would give
EXAMPLE = {
    "scheme": "panjin",
    "subjects": [
        {
            "id": "211102",
            "base": 92.5,
            "ad_hoc": 10,
            "bonus": 4,
            "provincial_bonus": 1,
            "deductions": 0,
            "downgrades": 0,
            "veto": False,
        },
        {"id": "211103", "base": 90, "ad_hoc": 12, "bonus": 2},
    ],
}
ANSWER = {
    "results": [
        {
            "id": "211102",
            "total": "107.5",
            "rank": 1,
            "grade": "A",
            "applied": [
                {
                    "rule": "score",
                    "detail": "total = base 92.5 + ad_hoc 10 + bonus 5 − deductions 0 = 107.5, "
                    "rounded half up to 107.5",
                    "citation": "盘政办发〔2024〕5号 第八条",
                    "interpretation": None,
                }
            ],
        },
        {
            "id": "211103",
            "total": "104.0",
            "rank": 2,
            "grade": "A",
            "applied": [
                {
                    "rule": "score",
                    "detail": "total = base 90 + ad_hoc 12 + bonus 2 − deductions 0 = 104, "
                    "rounded half up to 104.0",
                    "citation": "盘政办发〔2024〕5号 第八条",
                    "interpretation": None,
                }
            ],
        },
    ]
}


@router.post(
    "/grading",
    response_model=GradingResponse,
    summary="Grade subjects under a scheme: totals, ranks, grades and the rules applied",
    responses={**problem_responses(422), **answer_example(ANSWER)},
    openapi_extra=request_example(EXAMPLE),
)
async def grade(data: GradingRequest, request: Request, principal: Reader) -> GradingResponse:
    return grade_subjects(data, schemes_of(request), interpretations_of(request))
