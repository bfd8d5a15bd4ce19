"""HTTP for catalogues: a jurisdiction's effective catalogue, and a county's overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import select

from eldercare.catalogues import service
from eldercare.catalogues.models import CatalogueOverrideVersion
from eldercare.catalogues.schemas import CatalogueOverridesIn, CatalogueRead, OverrideVersionRead
from eldercare.catalogues.service import CatalogueBook
from shared.access import paginate
from shared.auth import Principal, ensure_jurisdiction, require_scope
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.examples import parameter_example
from shared.jurisdictions import JurisdictionCode
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/eldercare/v1", tags=["catalogues"])
Reader = Annotated[Principal, Depends(require_scope("eldercare:read"))]
Admin = Annotated[Principal, Depends(require_scope("eldercare:admin"))]
JurisdictionPath = Annotated[
    JurisdictionCode,
    Path(description="a city, county, district or zone code", openapi_examples=parameter_example("411702")),
]


def catalogue_book(request: Request) -> CatalogueBook:
    book: CatalogueBook = request.app.state.catalogue_book
    return book


BookDep = Annotated[CatalogueBook, Depends(catalogue_book)]


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
    book: BookDep,
    response: Response,
) -> CatalogueRead:
    effective = await book.effective(session, jurisdiction)
    set_etag(response, jurisdiction, effective.overrides_version)
    return service.catalogue_read(effective)


@router.put(
    "/catalogues/{jurisdiction}/overrides",
    response_model=CatalogueRead,
    summary="Save a county's catalogue overrides as a new version (may only raise amounts and widen "
    "eligibility; 驻政办〔2023〕35号 二（一）1)",
    responses=problem_responses(403, 404, 412, 422, 428),
)
async def put_catalogue_overrides(
    jurisdiction: JurisdictionPath,
    data: CatalogueOverridesIn,
    session: SessionDep,
    principal: Admin,
    book: BookDep,
    response: Response,
    if_match: IfMatch = None,
) -> CatalogueRead:
    ensure_jurisdiction(principal, jurisdiction)
    effective = await service.save_overrides(
        session, book=book, principal=principal, jurisdiction=jurisdiction, data=data, if_match=if_match
    )
    set_etag(response, jurisdiction, effective.overrides_version)
    return service.catalogue_read(effective)


@router.get(
    "/catalogues/{jurisdiction}/overrides/versions",
    response_model=Page[OverrideVersionRead],
    summary="Every saved version of a county's catalogue overrides, newest first",
    responses=problem_responses(422),
)
async def list_override_versions(
    jurisdiction: JurisdictionPath, session: SessionDep, principal: Reader, page: PageDep
) -> Page[OverrideVersionRead]:
    query = select(CatalogueOverrideVersion).where(CatalogueOverrideVersion.jurisdiction == jurisdiction)
    rows, total = await paginate(session, query, page, CatalogueOverrideVersion.version.desc())
    return Page.of([OverrideVersionRead.model_validate(r) for r in rows], total, page)
