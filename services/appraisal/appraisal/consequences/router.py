"""``GET /years/{year}/consequences``: commendations, interviews, bars, criticisms, overdue
rectification and the rules-publication warning of a published year."""

from __future__ import annotations

from fastapi import APIRouter, Request

from appraisal.access import Reader
from appraisal.consequences import service
from appraisal.consequences.schemas import ConsequencesRead
from appraisal.schemes.state import interpretations_of
from appraisal.years.dependencies import YearDep
from shared.db import SessionDep
from shared.months import policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["consequences"])


@router.get(
    "/years/{year}/consequences",
    response_model=ConsequencesRead,
    summary="The consequences of a published year, computed for people to decide on",
    responses=problem_responses(403, 404, 409),
)
async def read_consequences(
    principal: Reader, context: YearDep, request: Request, session: SessionDep
) -> ConsequencesRead:
    return await service.consequences(
        session=session,
        context=context,
        principal=principal,
        interpretations=interpretations_of(request),
        today=policy_today(),
    )
