"""HTTP for visits: record one, list a person's, and the monthly report of visits not made."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from eldercare.access import Reader, Writer
from eldercare.catalogues.router import CatalogueLibraryDep
from eldercare.visits import service
from eldercare.visits.schemas import MissingVisit, VisitCreate, VisitRead
from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.jurisdictions import JurisdictionCode
from shared.months import MONTH_PATTERN, YearMonth
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/eldercare/v1", tags=["visits"])


@router.post(
    "/visits",
    status_code=201,
    response_model=VisitRead,
    summary="Record a visit (探访关爱) to a registered person",
    responses=problem_responses(404, 422),
)
async def create_visit(data: VisitCreate, write: WriteDep, principal: Writer) -> Response:
    if replay := await write.replay():
        return replay
    visit = await service.record_visit(write=write, data=data)
    body = VisitRead.model_validate(visit)
    # read back in the person's visits
    return await write.respond(201, body, location=f"/api/eldercare/v1/persons/{body.person_id}/visits")


@router.get(
    "/persons/{person_id}/visits",
    response_model=Page[VisitRead],
    summary="A person's visits, newest first",
    responses=problem_responses(404),
)
async def list_person_visits(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, page: PageDep
) -> Page[VisitRead]:
    rows, total = await service.list_person_visits(
        session, principal=principal, person_id=person_id, page=page
    )
    return Page.of([VisitRead.model_validate(r) for r in rows], total, page)


@router.get(
    "/visits/missing",
    response_model=Page[MissingVisit],
    summary="Persons due a visit in a month (item 22's groups) with none recorded "
    "(驻政办〔2023〕35号 二（一）4: at least one visit a month)",
    responses=problem_responses(403, 404, 422),
)
async def list_missing_visits(
    request: Request,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    page: PageDep,
    jurisdiction: Annotated[
        JurisdictionCode,
        Query(description="this place and everything below it", openapi_examples=parameter_example("411702")),
    ],
    month: Annotated[
        str,
        Query(pattern=MONTH_PATTERN, description="the month", openapi_examples=parameter_example("2024-03")),
    ],
) -> Page[MissingVisit]:
    ensure_jurisdiction(principal, jurisdiction)
    items, total = await service.missing(
        session,
        library=library,
        settings=request.app.state.settings.interpretations,
        jurisdiction=jurisdiction,
        month=YearMonth.parse(month),  # the pattern admits only real months
        page=page,
    )
    return Page.of(items, total, page)
