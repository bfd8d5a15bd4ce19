"""``GET /schemes``: the loaded schemes (caps, grade bands, circumstances, stages, deadlines)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from appraisal.access import Reader
from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.pack import Scheme
from appraisal.schemes.state import schemes_of
from shared.errors import NotFound
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["schemes"])
SchemeId = Annotated[str, Path(max_length=64, json_schema_extra=scheme_enum())]


class SchemeSummary(BaseModel):
    scheme: str
    city: str
    name: str
    document: str
    issued_on: dt.date
    citation: str


@router.get("/schemes", response_model=list[SchemeSummary], summary="The loaded schemes, one per city")
async def list_schemes(request: Request, principal: Reader) -> list[SchemeSummary]:
    return [
        SchemeSummary(
            scheme=s.scheme,
            city=s.city,
            name=s.name,
            document=s.document,
            issued_on=s.issued_on,
            citation=s.citation,
        )
        for s in schemes_of(request).values()
    ]


@router.get(
    "/schemes/{scheme}",
    response_model=Scheme,
    summary="A scheme in full, every item with its citation",
    responses=problem_responses(404),
)
async def read_scheme(scheme: SchemeId, request: Request, principal: Reader) -> Scheme:
    found = schemes_of(request).get(scheme)
    if found is None:
        raise NotFound(f"No scheme {scheme}; known: {', '.join(sorted(schemes_of(request)))}.")
    return found
