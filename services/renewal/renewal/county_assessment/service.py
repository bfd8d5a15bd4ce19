"""A plan's county assessment scheme (考核指标), as its annex states it."""

from __future__ import annotations

from renewal.county_assessment.schemas import CountyAssessmentRead
from renewal.plans.pack import Plan
from shared.errors import NotFound


def scheme_of(*, plan: Plan) -> CountyAssessmentRead:
    scheme = plan.spec.county_assessment
    if scheme is None:
        raise NotFound(f"{plan.spec.document} sets no county assessment scheme.")
    return CountyAssessmentRead.model_validate({"plan": plan.id, **scheme.model_dump()})
