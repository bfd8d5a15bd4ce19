"""HTTP for proactive discovery (主动发现)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from eldercare.access import Reader
from eldercare.catalogues.router import CatalogueLibraryDep
from eldercare.discoveries import service
from eldercare.discoveries.schemas import Discovery
from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.jurisdictions import JurisdictionCode
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate

router = APIRouter(prefix="/api/eldercare/v1", tags=["discoveries"])


@router.get(
    "/discoveries",
    response_model=Page[Discovery],
    summary="Persons who become eligible for an item in a window of dates (birthdays, new circumstances), "
    "so staff act before anyone applies (驻政办〔2023〕35号 二（一）3)",
    responses=problem_responses(403, 422),
)
async def list_discoveries(
    request: Request,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    page: PageDep,
    jurisdiction: Annotated[
        JurisdictionCode,
        Query(description="this place and everything below it", openapi_examples=parameter_example("411700")),
    ],
    start: Annotated[
        CalendarDate,
        Query(
            alias="from",
            description="first day of the window",
            openapi_examples=parameter_example("2024-04-01"),
        ),
    ],
    end: Annotated[
        CalendarDate,
        Query(
            alias="to",
            description="last day of the window (at most 366 days)",
            openapi_examples=parameter_example("2024-04-30"),
        ),
    ],
) -> Page[Discovery]:
    ensure_jurisdiction(principal, jurisdiction)
    items, total = await service.find(
        session,
        library=library,
        settings=request.app.state.settings.interpretations,
        jurisdiction=jurisdiction,
        start=start,
        end=end,
        page=page,
        projected=request.app.state.settings.dibao_status_source == "projection",
    )
    return Page.of(items, total, page)
