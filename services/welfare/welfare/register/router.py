"""HTTP for the register: households, persons, enrolments, assessed incomes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Request, Response

from shared.access import JurisdictionFilter
from shared.auth import require_scope
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.pagination import Page, PageDep
from shared.personal_data import PersonalDataDep, VaultDep, person_duplicates_router
from shared.problems import problem_responses
from shared.writes import UpdateDep, WriteContext, WriteDep
from welfare.access import Reader, Writer
from welfare.register import service
from welfare.register.schemas import (
    CareArrangementChange,
    EnrolmentCreate,
    EnrolmentLookup,
    EnrolmentLookupRead,
    EnrolmentRead,
    EnrolmentStatus,
    EnrolmentUpdate,
    HouseholdCreate,
    HouseholdRead,
    HouseholdUpdate,
    IncomeAssessmentCreate,
    PersonCreate,
    PersonRead,
    Program,
)
from welfare.standards.history import StandardHistories
from welfare.standards.service import current_standards

BASE = "/api/welfare/v1"
router = APIRouter(prefix=BASE, tags=["register"])


def start_runs(request: Request, background: BackgroundTasks, runs: list[uuid.UUID]) -> None:
    """Start the recalculations a register change recorded, once its request committed (the
    service's runner also starts queued runs by itself)."""
    for run in runs:
        background.add_task(request.app.state.recalculation_runner.start, run)


async def standards_of(request: Request, write: WriteContext) -> StandardHistories:
    """The standards in force (the pack and the versions added since): whether a city sets urban
    and rural standards apart decides whether a household's residence is required."""
    return await current_standards(write.session, request.app.state.standards_pack)


@router.post(
    "/households",
    status_code=201,
    response_model=HouseholdRead,
    summary="Register a household",
    description="422 naming `residence` when it is missing where the city sets urban and rural dibao "
    "standards apart.",
    responses=problem_responses(403, 422),
)
async def create_household(
    data: HouseholdCreate, request: Request, principal: Writer, write: WriteDep
) -> Response:
    if replay := await write.replay():
        return replay
    household = await service.create_household(write, data=data, standards=await standards_of(request, write))
    (body,) = await service.household_reads(write.session, households=[household])
    return await write.respond(
        201,
        body,
        record=household,
        location=f"{BASE}/households/{household.id}",
    )


@router.get("/households", response_model=Page[HouseholdRead], summary="List households in your area")
async def list_households(
    session: SessionDep, principal: Reader, page: PageDep, jurisdiction: JurisdictionFilter = None
) -> Page[HouseholdRead]:
    rows, total = await service.list_households(
        session, principal=principal, page=page, jurisdiction=jurisdiction
    )
    return Page.of(await service.household_reads(session, households=rows), total, page)


@router.get(
    "/households/{household_id}",
    response_model=HouseholdRead,
    summary="Read a household with its residence versions",
    responses=problem_responses(404),
)
async def read_household(
    household_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> HouseholdRead:
    household = await service.get_household(session, principal=principal, household_id=household_id)
    set_etag(response, household.id, household.version)
    (body,) = await service.household_reads(session, households=[household])
    return body


@router.patch(
    "/households/{household_id}",
    response_model=HouseholdRead,
    summary="Change a household's address, or record its residence from a month",
    description="`residence` with `residence_from` records the household's residence (urban/rural) from "
    "that month: earlier months keep theirs, and payroll and recalculation price each month with the "
    "standard of the residence in force in it. A household's first residence may omit `residence_from` "
    "(it then holds for every month). 409 when a residence from that month is recorded already.",
    responses=problem_responses(404, 409, 412, 422, 428),
)
async def update_household(
    household_id: uuid.UUID, data: HouseholdUpdate, principal: Writer, write: UpdateDep
) -> Response:
    household = await service.get_household(write.session, principal=principal, household_id=household_id)
    household = await service.update_household(write, household=household, data=data)
    (body,) = await service.household_reads(write.session, households=[household])
    return await write.respond(200, body, record=household)


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonRead,
    summary="Register a person (citizen ID stored encrypted, shown masked)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_person(
    data: PersonCreate, principal: Writer, write: WriteDep, ids: VaultDep, personal_data: PersonalDataDep
) -> Response:
    if replay := await write.replay():
        return replay
    person = await service.create_person(write, vault=ids, data=data)
    # masked: the answer is kept under the Idempotency-Key (the caller sent the number)
    body = service.person_read(person=person, personal_data=personal_data.for_stored_answer())
    return await write.respond(201, body, record=person, location=f"{BASE}/persons/{person.id}")


@router.get("/persons", response_model=Page[PersonRead], summary="List persons in your area")
async def list_persons(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    personal_data: PersonalDataDep,
    jurisdiction: JurisdictionFilter = None,
    household_id: uuid.UUID | None = None,
) -> Page[PersonRead]:
    rows, total = await service.list_persons(
        session, principal=principal, page=page, jurisdiction=jurisdiction, household_id=household_id
    )
    return Page.of([service.person_read(person=r, personal_data=personal_data) for r in rows], total, page)


router.include_router(
    person_duplicates_router(admin=require_scope("welfare:admin"), report=service.duplicate_persons)
)


@router.get(
    "/persons/{person_id}",
    response_model=PersonRead,
    summary="Read a person",
    responses=problem_responses(404),
)
async def read_person(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    response: Response,
    personal_data: PersonalDataDep,
) -> PersonRead:
    person = await service.get_person(session, principal=principal, person_id=person_id)
    set_etag(response, person.id, person.version)
    return service.person_read(person=person, personal_data=personal_data)


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentRead,
    summary="Enrol a household (dibao) or a person in a program",
    description="Where the city sets urban and rural standards apart in the start month, the household "
    "(for tekun and orphans: the person's household) needs its residence for that month: 422 naming "
    "`household_id` (`person_id`) otherwise, and nothing is written.",
    responses=problem_responses(403, 404, 422),
)
async def create_enrolment(
    data: EnrolmentCreate, request: Request, background: BackgroundTasks, principal: Writer, write: WriteDep
) -> Response:
    if replay := await write.replay():
        return replay
    runs: list[uuid.UUID] = []
    enrolment = await service.create_enrolment(
        write, data=data, standards=await standards_of(request, write), runs=runs
    )
    start_runs(request, background, runs)
    (body,) = await service.enrolment_reads(write.session, enrolments=[enrolment])
    return await write.respond(201, body, record=enrolment, location=f"{BASE}/enrolments/{enrolment.id}")


@router.get("/enrolments", response_model=Page[EnrolmentRead], summary="List enrolments in your area")
async def list_enrolments(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    jurisdiction: JurisdictionFilter = None,
    program: Program | None = None,
    status: EnrolmentStatus | None = None,
) -> Page[EnrolmentRead]:
    rows, total = await service.list_enrolments(
        session, principal=principal, page=page, jurisdiction=jurisdiction, program=program, status=status
    )
    return Page.of(await service.enrolment_reads(session, enrolments=rows), total, page)


@router.post(
    "/enrolment-lookups",
    response_model=EnrolmentLookupRead,
    summary="Enrolments in force in a month for a person found by citizen ID number (sent in the body, "
    "answered masked), within your area; nobody found is not an error",
    responses=problem_responses(422),
)
async def lookup_enrolments(
    data: EnrolmentLookup, session: SessionDep, principal: Reader, ids: VaultDep
) -> EnrolmentLookupRead:
    return await service.lookup_enrolments(session, principal=principal, vault=ids, data=data)


@router.get(
    "/enrolments/{enrolment_id}",
    response_model=EnrolmentRead,
    summary="Read an enrolment with its assessed-income versions",
    responses=problem_responses(404),
)
async def read_enrolment(
    enrolment_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> EnrolmentRead:
    enrolment = await service.get_enrolment(session, principal=principal, enrolment_id=enrolment_id)
    set_etag(response, enrolment.id, enrolment.version)
    (body,) = await service.enrolment_reads(session, enrolments=[enrolment])
    return body


@router.patch(
    "/enrolments/{enrolment_id}",
    response_model=EnrolmentRead,
    summary="Suspend, resume or end an enrolment",
    description="409 when a later last month reaches months another enrolment of the beneficiary "
    "in the program holds.",
    responses=problem_responses(404, 409, 412, 422, 428),
)
async def update_enrolment(
    enrolment_id: uuid.UUID,
    data: EnrolmentUpdate,
    request: Request,
    background: BackgroundTasks,
    principal: Writer,
    write: UpdateDep,
) -> Response:
    enrolment = await service.get_enrolment(write.session, principal=principal, enrolment_id=enrolment_id)
    runs: list[uuid.UUID] = []
    enrolment = await service.update_enrolment(write, enrolment=enrolment, data=data, runs=runs)
    start_runs(request, background, runs)
    (body,) = await service.enrolment_reads(write.session, enrolments=[enrolment])
    return await write.respond(200, body, record=enrolment)


@router.post(
    "/enrolments/{enrolment_id}/care-arrangement",
    status_code=201,
    response_model=EnrolmentRead,
    summary="Move an orphan or a tekun person between concentrated and scattered care (ends this "
    "enrolment, opens the next)",
    responses=problem_responses(404, 412, 422, 428),
)
async def change_care_arrangement(
    enrolment_id: uuid.UUID,
    data: CareArrangementChange,
    request: Request,
    principal: Writer,
    write: UpdateDep,
    background: BackgroundTasks,
) -> Response:
    if replay := await write.replay():
        return replay
    enrolment = await service.get_enrolment(write.session, principal=principal, enrolment_id=enrolment_id)
    runs: list[uuid.UUID] = []
    successor = await service.change_care_arrangement(
        write,
        enrolment=enrolment,
        data=data,
        takes_effect=request.app.state.settings.interpretations.orphan_arrangement_change_effective,
        runs=runs,
    )
    start_runs(request, background, runs)
    (body,) = await service.enrolment_reads(write.session, enrolments=[successor])
    return await write.respond(201, body, record=successor, location=f"{BASE}/enrolments/{successor.id}")


@router.post(
    "/enrolments/{enrolment_id}/income-assessments",
    status_code=201,
    response_model=EnrolmentRead,
    summary="Record a new assessed income (a new version from its month)",
    responses=problem_responses(404, 409, 412, 422, 428),
)
async def add_income_assessment(
    enrolment_id: uuid.UUID, data: IncomeAssessmentCreate, principal: Writer, write: UpdateDep
) -> Response:
    if replay := await write.replay():
        return replay
    enrolment = await service.get_enrolment(write.session, principal=principal, enrolment_id=enrolment_id)
    await service.add_income_assessment(write, enrolment=enrolment, data=data)
    (body,) = await service.enrolment_reads(write.session, enrolments=[enrolment])
    return await write.respond(201, body, record=enrolment)
