"""HTTP for evaluations: a person's entitlements for a month, with the rule trace, stateless or
for a registered person."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from eldercare.access import Reader
from eldercare.catalogues.router import CatalogueLibraryDep
from eldercare.evaluations import service
from eldercare.evaluations.dibao import DibaoStandards, DibaoStatuses
from eldercare.evaluations.schemas import (
    EvaluationRead,
    EvaluationRequest,
    PersonEvaluationRead,
    evaluation_read,
)
from eldercare.register.service import get_person
from shared.db import SessionDep
from shared.months import policy_today
from shared.personal_data import VaultDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate

router = APIRouter(prefix="/api/eldercare/v1", tags=["evaluations"])

EXAMPLE = {
    "jurisdiction": "411702",
    "on": "2024-03-15",
    "person": {"birth_date": "1933-06-01", "dibao": True, "living_arrangement": "alone"},
}


async def dibao_standards(request: Request) -> DibaoStandards:
    standards: DibaoStandards = request.app.state.dibao_standards
    return standards


StandardsDep = Annotated[DibaoStandards, Depends(dibao_standards)]


async def dibao_statuses(request: Request) -> DibaoStatuses:
    statuses: DibaoStatuses = request.app.state.dibao_statuses
    return statuses


StatusesDep = Annotated[DibaoStatuses, Depends(dibao_statuses)]


@router.post(
    "/evaluations",
    response_model=EvaluationRead,
    summary="Evaluate a person's entitlements for the month of a date (stateless; amounts, rule trace, "
    "citations)",
    responses=problem_responses(422),
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def create_evaluation(
    data: EvaluationRequest,
    request: Request,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    standards: StandardsDep,
) -> EvaluationRead:
    evaluation = await service.evaluate_person(
        session,
        library=library,
        standards=standards,
        interpretations=request.app.state.settings.interpretations,
        jurisdiction=data.jurisdiction,
        on=data.on,
        profile=data.person,
        authorization=request.headers.get("authorization"),
    )
    return evaluation_read(evaluation, jurisdiction=data.jurisdiction)


@router.get(
    "/persons/{person_id}/evaluation",
    response_model=PersonEvaluationRead,
    summary="Evaluate a registered person's entitlements for the month of a date (circumstances from the "
    "register, dibao status from the welfare service; amounts, rule trace, citations)",
    responses=problem_responses(404, 422),
)
async def evaluate_registered_person(
    person_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    standards: StandardsDep,
    statuses: StatusesDep,
    vault: VaultDep,
    on: Annotated[CalendarDate | None, Query(description="the evaluation date (default today)")] = None,
) -> PersonEvaluationRead:
    person = await get_person(session, principal=principal, person_id=person_id)
    settings = request.app.state.settings
    evaluation = await service.evaluate_registered_person(
        session,
        library=library,
        standards=standards,
        statuses=statuses,
        vault=vault,
        interpretations=settings.interpretations,
        dibao_status_source=settings.dibao_status_source,
        person=person,
        on=on or policy_today(),
        authorization=request.headers.get("authorization"),
    )
    return evaluation.read()
