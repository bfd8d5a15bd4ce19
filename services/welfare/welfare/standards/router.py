"""HTTP for standards: what is in force on a day, and adding a new version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from sqlalchemy import select

from shared.auth import Principal, ensure_jurisdiction, require_scope
from shared.db import SessionDep
from shared.examples import answer_example, parameter_example
from shared.idempotency import IdempotencyDep
from shared.jurisdictions import JurisdictionCode
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate
from welfare.standards import service
from welfare.standards.book import StandardsBook
from welfare.standards.models import AddedStandardVersion
from welfare.standards.schemas import StandardsRead, StandardVersionCreate, StandardVersionRead

router = APIRouter(prefix="/api/welfare/v1", tags=["standards"])
Reader = Annotated[Principal, Depends(require_scope("welfare:read"))]
Admin = Annotated[Principal, Depends(require_scope("welfare:admin"))]


# welfare.md "Contract endpoints" (the citations list is cut to its first entry here)
ANSWER = {
    "jurisdiction": "211100",
    "on": "2024-07-01",
    "dibao": "800.00",
    "tekun": "1440.00",
    "orphan_concentrated": "2400.00",
    "orphan_scattered": "2000.00",
    "retiree_1960s": {"1": "713.00", "2": "668.00", "3": "618.00", "4": "571.00"},
    "citations": [
        {
            "program": "dibao",
            "version": "panjin-2024-4",
            "jurisdiction": "211100",
            "document": "盘政办发〔2024〕4号",
            "article": "一（一）、二",
        }
    ],
    "formula": {
        "document": "社会救助暂行办法（国务院令第649号）",
        "article": "第九条、第十二条",
    },
    "warnings": [],
}


def pack(request: Request) -> StandardsBook:
    book: StandardsBook = request.app.state.standards_pack
    return book


@router.get(
    "/standards",
    response_model=StandardsRead,
    summary="Standards in force in a jurisdiction on a day, with citations (null where unknown)",
    responses={**problem_responses(403, 422), **answer_example(ANSWER)},
)
async def get_standards(
    request: Request,
    session: SessionDep,
    principal: Reader,
    jurisdiction: Annotated[JurisdictionCode, Query(openapi_examples=parameter_example("211100"))],
    on: Annotated[
        CalendarDate, Query(description="the day", openapi_examples=parameter_example("2024-07-01"))
    ],
) -> StandardsRead:
    book = await service.current_book(session, pack(request))
    staleness = request.app.state.settings.interpretations.standard_staleness_days
    return service.standards_read(book, jurisdiction, on, staleness)


@router.post(
    "/standards/versions",
    status_code=201,
    response_model=StandardVersionRead,
    summary="Add a standard version (checked; starts the arrears recalculation when months are paid)",
    responses=problem_responses(403, 409, 422),
)
async def add_standard_version(
    data: StandardVersionCreate,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: Admin,
    idempotency: IdempotencyDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await idempotency.replay():
        return replay
    row, run = await service.add_version(session, principal=principal, pack=pack(request), data=data)
    if run is not None:
        background.add_task(request.app.state.recalculation_runner.start, run.id)
    body = StandardVersionRead.model_validate(row)
    body.recalculation_id = run.id if run else None
    return await idempotency.respond(201, body)


@router.get(
    "/standards/versions",
    response_model=Page[StandardVersionRead],
    summary="Standard versions added through the API",
)
async def list_standard_versions(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: Annotated[JurisdictionCode | None, Query()] = None,
) -> Page[StandardVersionRead]:
    query = select(AddedStandardVersion)
    if jurisdiction is not None:
        query = query.where(AddedStandardVersion.jurisdiction == jurisdiction)
    rows = (await session.scalars(query.order_by(AddedStandardVersion.created_at))).all()
    items = [StandardVersionRead.model_validate(r) for r in rows]
    return Page.of(items[page.offset : page.offset + page.limit], len(items), page)
