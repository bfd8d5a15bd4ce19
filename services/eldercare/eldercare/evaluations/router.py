"""HTTP for the stateless evaluation: a person's entitlements for a month, with the rule trace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from eldercare.catalogues.router import BookDep
from eldercare.evaluations import service
from eldercare.evaluations.dibao import DibaoStandards
from eldercare.evaluations.schemas import EvaluationRead, EvaluationRequest
from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/eldercare/v1", tags=["evaluations"])
Reader = Annotated[Principal, Depends(require_scope("eldercare:read"))]

EXAMPLE = {
    "jurisdiction": "411702",
    "on": "2024-03-15",
    "person": {"birth_date": "1933-06-01", "dibao": True, "living_arrangement": "alone"},
}


def dibao_standards(request: Request) -> DibaoStandards:
    standards: DibaoStandards = request.app.state.dibao_standards
    return standards


StandardsDep = Annotated[DibaoStandards, Depends(dibao_standards)]


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
    book: BookDep,
    standards: StandardsDep,
) -> JSONResponse:
    evaluation = await service.evaluate_person(
        session,
        book=book,
        standards=standards,
        interpretations=request.app.state.settings.interpretations,
        jurisdiction=data.jurisdiction,
        on=data.on,
        profile=data.person,
        authorization=request.headers.get("authorization"),
    )
    body = evaluation.as_json()
    body["jurisdiction"] = data.jurisdiction
    return JSONResponse(body)
