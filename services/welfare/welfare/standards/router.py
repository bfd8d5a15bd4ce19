"""HTTP for standards: what is in force on a day, and adding a new version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import answer_example, parameter_example
from shared.jurisdictions import JurisdictionCode
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.schemas import CalendarDate
from shared.writes import WriteDep
from welfare.access import Admin, Reader
from welfare.standards import service
from welfare.standards.history import Program, Residence, StandardHistories
from welfare.standards.schemas import (
    StandardCorrectionCreate,
    StandardHistoryRead,
    StandardsRead,
    StandardVersionCreate,
    StandardVersionRead,
)

router = APIRouter(prefix="/api/welfare/v1", tags=["standards"])


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


def pack(request: Request) -> StandardHistories:
    standards: StandardHistories = request.app.state.standards_pack
    return standards


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
    residence: Annotated[
        Residence | None,
        Query(description="urban or rural: selects the standard where the city sets the two apart"),
    ] = None,
) -> StandardsRead:
    standards = await service.current_standards(session, pack(request))
    staleness = request.app.state.settings.interpretations.standard_staleness_days
    return service.standards_read(standards, jurisdiction, on, staleness, residence)


@router.post(
    "/standards/versions",
    status_code=201,
    response_model=StandardVersionRead,
    summary="Add a standard version (checked; starts the arrears recalculation when months are paid)",
    description=(
        "A new version may fill days no version covers, or supersede the open-ended version of the "
        "jurisdiction that started before it (which then ends the day before). One that overlaps an "
        "ended version, or starts on or before the start of the open-ended one, is 409 naming the "
        "version it collides with (`collides_with`): changing recorded history is a correction "
        "(`POST /standards/corrections`)."
    ),
    responses=problem_responses(403, 409, 422),
)
async def add_standard_version(
    data: StandardVersionCreate,
    request: Request,
    background: BackgroundTasks,
    principal: Admin,
    write: WriteDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await write.replay():
        return replay
    row, run = await service.add_version(write, pack=pack(request), data=data)
    if run is not None:
        background.add_task(request.app.state.recalculation_runner.start, run.id)
    body = StandardVersionRead.model_validate(row)
    body.recalculation_id = run.id if run else None
    return await write.respond(201, body)


@router.post(
    "/standards/corrections",
    status_code=201,
    response_model=StandardVersionRead,
    summary="Correct recorded standard versions (audited; starts the arrears recalculation)",
    description=(
        "A correction names every version of the jurisdiction in force on one of its days "
        "(`corrects`), with the reason and the document that decided it. On its days those "
        "versions stop being in force; the ranges they were in force over before and after stay "
        "readable in `GET /standards/versions` and in the audit log; nothing is deleted. Months "
        "already paid are recalculated: differences in the recipients' favour are booked as "
        "arrears, overpayments as negative entries marked for staff review, never deducted from "
        "a later payment without a recorded decision."
    ),
    responses=problem_responses(403, 409, 422),
)
async def correct_standard_versions(
    data: StandardCorrectionCreate,
    request: Request,
    background: BackgroundTasks,
    principal: Admin,
    write: WriteDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await write.replay():
        return replay
    row, run = await service.correct_versions(write, pack=pack(request), data=data)
    if run is not None:
        background.add_task(request.app.state.recalculation_runner.start, run.id)
    body = StandardVersionRead.model_validate(row)
    body.recalculation_id = run.id if run else None
    # read back in the jurisdiction's version history
    location = f"/api/welfare/v1/standards/versions?jurisdiction={body.jurisdiction}"
    return await write.respond(201, body, location=location)


@router.get(
    "/standards/versions",
    response_model=Page[StandardHistoryRead],
    summary="The history of standard versions (the packs' and those added), with what superseded or "
    "corrected what",
    responses=problem_responses(422),
)
async def list_standard_versions(
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: Annotated[JurisdictionCode | None, Query()] = None,
    program: Annotated[Program | None, Query(description="only versions that state this program")] = None,
) -> Page[StandardHistoryRead]:
    standards = await service.current_standards(session, pack(request))
    items = service.history(standards, jurisdiction=jurisdiction, program=program)
    return Page.of(items[page.offset : page.offset + page.limit], len(items), page)
