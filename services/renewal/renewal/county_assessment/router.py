"""HTTP for a plan's county assessment scheme."""

from __future__ import annotations

from fastapi import APIRouter

from renewal.access import Reader
from renewal.county_assessment import service
from renewal.county_assessment.schemas import CountyAssessmentRead
from renewal.plans.dependencies import PlanDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.get(
    "/plans/{plan_id}/county-assessment",
    response_model=CountyAssessmentRead,
    summary="How the plan assesses its counties (考核指标): categories and items as its annex states them",
    responses=problem_responses(404),
)
async def read_county_assessment(principal: Reader, plan: PlanDep) -> CountyAssessmentRead:
    return service.scheme_of(plan=plan)
