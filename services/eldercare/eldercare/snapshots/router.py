"""HTTP for monthly entitlement snapshots and month-to-month changes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from eldercare.access import Reader, Writer
from eldercare.catalogues.router import CatalogueLibraryDep
from eldercare.evaluations.router import StandardsDep
from eldercare.register.service import get_person
from eldercare.snapshots import repository, service
from eldercare.snapshots.schemas import PersonChanges, SnapshotRead, SnapshotRequest, SnapshotRunRead
from shared.auth import ensure_jurisdiction
from shared.db import SessionDep
from shared.examples import request_example
from shared.job_routes import accept_run, add_job_status_routes
from shared.jurisdictions import JurisdictionCode, registry
from shared.months import MONTH_PATTERN, YearMonth
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/eldercare/v1", tags=["snapshots"])
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="the month, e.g. 2024-04")]


def runner(request: Request) -> service.SnapshotRunner:
    found: service.SnapshotRunner = request.app.state.snapshot_runner
    return found


@router.post(
    "/snapshots",
    status_code=202,
    response_model=SnapshotRunRead,
    summary="Compute and store a month's entitlements for every registered person in a jurisdiction "
    "(once per person and month), as a background run",
    description=(
        "Answers 202 with the queued run and its `Location`; follow its progress there. While a "
        "run whose area overlaps this one (the same jurisdiction, one above or below it) is "
        "queued or running, the answer is 409 naming it in `Location` and `active_job`. 422 "
        "for a month that has not begun (Asia/Shanghai); 404 naming the versions' days when no "
        "version of a catalogue of the area is in force on the month's first day."
    ),
    responses=problem_responses(403, 404, 409, 422),
    openapi_extra=request_example({"jurisdiction": "411722", "month": "2024-04"}),
)
async def create_snapshots(
    data: SnapshotRequest,
    request: Request,
    background: BackgroundTasks,
    principal: Writer,
    library: CatalogueLibraryDep,
    standards: StandardsDep,
    write: WriteDep,
) -> Response:
    ensure_jurisdiction(principal, data.jurisdiction)
    if replay := await write.replay():
        return replay
    run = await service.record_run(
        write,
        library=library,
        standards=standards,
        jurisdiction=data.jurisdiction,
        month=data.month,
        authorization=request.headers.get("authorization"),
    )
    return await accept_run(write, background, runner(request), run, SnapshotRunRead)


add_job_status_routes(
    router,
    service.SNAPSHOTS,
    SnapshotRunRead,
    scope="eldercare:read",
    read_name="read_snapshot_run",
    read_summary="Status, progress and counts of a snapshot run",
    list_name="list_snapshot_runs",
    list_summary="Snapshot runs in your area",
)


@router.get(
    "/persons/{person_id}/snapshots",
    response_model=Page[SnapshotRead],
    summary="A person's monthly entitlement snapshots, newest first",
    responses=problem_responses(404),
)
async def list_person_snapshots(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, page: PageDep
) -> Page[SnapshotRead]:
    rows, total = await service.person_snapshots(session, principal=principal, person_id=person_id, page=page)
    return Page.of([SnapshotRead.model_validate(r) for r in rows], total, page)


@router.get(
    "/persons/{person_id}/changes",
    response_model=PersonChanges,
    summary="What changed in a person's entitlements since the previous month (from the snapshots)",
    responses=problem_responses(404, 422),
)
async def get_person_changes(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, month: MonthQuery
) -> PersonChanges:
    person = await get_person(session, principal=principal, person_id=person_id)
    return await service.changes_of_person(session, person=person, month=YearMonth.parse(month))


@router.get(
    "/changes",
    response_model=Page[PersonChanges],
    summary="Persons of a jurisdiction whose entitlements changed since the previous month",
    responses=problem_responses(403, 422),
)
async def list_changes(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: Annotated[JurisdictionCode, Query(description="this place and everything below it")],
    month: MonthQuery,
) -> Page[PersonChanges]:
    ensure_jurisdiction(principal, jurisdiction)
    wanted = YearMonth.parse(month)  # the pattern admits only real months
    rows, total = await repository.changes(
        session,
        month=wanted.first_day,
        previous=wanted.plus(-1).first_day,
        jurisdictions=registry().subtree(jurisdiction),
        page=page,
    )
    return Page.of([service.person_changes(row, wanted) for row in rows], total, page)
