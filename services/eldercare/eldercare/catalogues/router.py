"""HTTP for catalogues: a jurisdiction's effective catalogue, and a county's overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from eldercare.access import Admin, Reader
from eldercare.catalogues import service
from eldercare.catalogues.schemas import (
    CatalogueOverridesIn,
    CatalogueRead,
    CityVersionRead,
    CountyListPublicationRead,
    OverrideVersionRead,
)
from eldercare.catalogues.service import CatalogueLibrary
from shared.auth import ensure_jurisdiction
from shared.concurrency import etag_for, set_etag
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.jurisdictions import JurisdictionCode
from shared.months import policy_today
from shared.pagination import Items, Page, PageDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate
from shared.writes import UpdateDep

router = APIRouter(prefix="/api/eldercare/v1", tags=["catalogues"])
JurisdictionPath = Annotated[
    JurisdictionCode,
    Path(description="a city, county, district or zone code", openapi_examples=parameter_example("411702")),
]


async def catalogue_library(request: Request) -> CatalogueLibrary:
    library: CatalogueLibrary = request.app.state.catalogue_library
    return library


CatalogueLibraryDep = Annotated[CatalogueLibrary, Depends(catalogue_library)]


@router.get(
    "/catalogues/{jurisdiction}",
    response_model=CatalogueRead,
    summary="The effective catalogue of a jurisdiction (city items merged with county overrides), "
    "each item with its citation",
    responses=problem_responses(404, 422),
)
async def get_catalogue(
    jurisdiction: JurisdictionPath,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    response: Response,
    on: Annotated[
        CalendarDate | None, Query(description="the catalogue in force on this day (default today)")
    ] = None,
) -> CatalogueRead:
    effective = await library.effective(session, jurisdiction, on=on)
    set_etag(response, jurisdiction, effective.recorded_version)
    return service.catalogue_read(effective)


@router.get(
    "/catalogues/{jurisdiction}/versions",
    response_model=Items[CityVersionRead],
    summary="The versions of the city catalogue that covers a jurisdiction: the days each is in force, "
    "what superseded or corrected what",
    responses=problem_responses(404, 422),
)
async def list_city_versions(
    jurisdiction: JurisdictionPath, principal: Reader, library: CatalogueLibraryDep
) -> Items[CityVersionRead]:
    library.require_city(jurisdiction)
    versions = library.versions_of(jurisdiction)
    assert versions is not None
    return Items.of(service.city_versions_read(versions))


@router.put(
    "/catalogues/{jurisdiction}/overrides",
    response_model=CatalogueRead,
    summary="Save a county's catalogue overrides as a new dated version (may only raise amounts and widen "
    "eligibility; 驻政办〔2023〕35号 二（一）1); a version may supersede only the open-ended one that "
    "started "
    "earlier, anything else that overlaps is 409 unless it is a correction",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def put_catalogue_overrides(
    jurisdiction: JurisdictionPath,
    data: CatalogueOverridesIn,
    write: UpdateDep,
    principal: Admin,
    library: CatalogueLibraryDep,
) -> Response:
    if replayed := await write.replay():
        return replayed
    ensure_jurisdiction(principal, jurisdiction)
    effective = await service.save_overrides(
        write=write, library=library, jurisdiction=jurisdiction, data=data
    )
    return await write.respond(
        200,
        service.catalogue_read(effective),
        headers={"ETag": etag_for(jurisdiction, effective.recorded_version)},
    )


@router.get(
    "/catalogues/{jurisdiction}/overrides/versions",
    response_model=Page[OverrideVersionRead],
    summary="Every saved version of a county's catalogue overrides, newest first: the days each is in "
    "force, what superseded or corrected what",
    responses=problem_responses(404, 422),
)
async def list_override_versions(
    jurisdiction: JurisdictionPath,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    page: PageDep,
) -> Page[OverrideVersionRead]:
    entries = await service.override_versions(session, library=library, jurisdiction=jurisdiction)
    shown = entries[page.offset : page.offset + page.limit]
    return Page.of([service.override_version_read(entry) for entry in shown], len(entries), page)


@router.get(
    "/catalogues/{jurisdiction}/county-lists",
    response_model=CountyListPublicationRead,
    summary="Which counties, districts and zones of a city have published their own list, against the "
    "deadline (驻政办〔2023〕35号 二（一）1: 2023年12月底前); after it, those without one",
    responses=problem_responses(404, 422),
)
async def get_county_lists(
    jurisdiction: JurisdictionPath,
    session: SessionDep,
    principal: Reader,
    library: CatalogueLibraryDep,
    on: Annotated[CalendarDate | None, Query(description="the day asked about (default today)")] = None,
) -> CountyListPublicationRead:
    publication = await service.county_list_publication(
        session, library=library, jurisdiction=jurisdiction, on=on or policy_today()
    )
    return service.county_list_publication_read(publication)
