"""HTTP for the register: persons and the dated versions of their circumstances."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from eldercare.access import Reader, Writer
from eldercare.register import service
from eldercare.register.schemas import (
    CircumstancesCreate,
    CircumstancesRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
)
from shared.auth import require_scope
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.jurisdictions import JurisdictionCode
from shared.pagination import Page, PageDep
from shared.personal_data import PersonalDataDep, VaultDep, person_duplicates_router
from shared.problems import problem_responses
from shared.writes import UpdateDep, WriteDep

BASE = "/api/eldercare/v1"
router = APIRouter(prefix=BASE, tags=["register"])
JurisdictionFilter = Annotated[
    JurisdictionCode | None, Query(description="only this jurisdiction and the places below it")
]


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonRead,
    summary="Register an elderly person with their assessed circumstances (citizen ID stored "
    "encrypted, shown masked)",
    responses=problem_responses(403, 409, 422),
)
async def create_person(
    data: PersonCreate, principal: Writer, write: WriteDep, ids: VaultDep, personal_data: PersonalDataDep
) -> Response:
    if replay := await write.replay():
        return replay
    person = await service.create_person(write, vault=ids, data=data)
    # masked: the answer is kept under the Idempotency-Key (the caller sent the number)
    (body,) = await service.person_reads(
        write.session, [person], personal_data=personal_data.for_stored_answer()
    )
    return await write.respond(201, body, record=person, location=f"{BASE}/persons/{person.id}")


@router.get(
    "/persons",
    response_model=Page[PersonRead],
    summary="List registered persons in your area",
    responses=problem_responses(403, 422),
)
async def list_persons(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    personal_data: PersonalDataDep,
    jurisdiction: JurisdictionFilter = None,
) -> Page[PersonRead]:
    rows, total = await service.list_persons(
        session, principal=principal, jurisdiction=jurisdiction, page=page
    )
    return Page.of(await service.person_reads(session, rows, personal_data=personal_data), total, page)


async def jurisdiction_in_use_filter(jurisdiction: JurisdictionFilter = None) -> str | None:
    """This register's ``jurisdiction`` filter (codes in use only, unlike the platform's) as a dependency."""
    return jurisdiction


router.include_router(
    person_duplicates_router(
        admin=require_scope("eldercare:admin"),
        report=service.duplicate_persons,
        jurisdiction_filter=jurisdiction_in_use_filter,
    )
)


@router.get(
    "/persons/{person_id}",
    response_model=PersonRead,
    summary="Read a registered person with the circumstances in force today",
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
    (body,) = await service.person_reads(session, [person], personal_data=personal_data)
    return body


@router.patch(
    "/persons/{person_id}",
    response_model=PersonRead,
    summary="Correct a person's name, or record that they left the register",
    responses=problem_responses(404, 412, 422, 428),
)
async def update_person(
    person_id: uuid.UUID,
    data: PersonUpdate,
    principal: Writer,
    write: UpdateDep,
    personal_data: PersonalDataDep,
) -> Response:
    person = await service.get_person(write.session, principal=principal, person_id=person_id)
    person = await service.update_person(write, person=person, data=data)
    (body,) = await service.person_reads(write.session, [person], personal_data=personal_data)
    return await write.respond(200, body, record=person)


@router.post(
    "/persons/{person_id}/circumstances",
    status_code=201,
    response_model=PersonRead,
    summary="Record a new version of a person's circumstances, in force from a day",
    responses=problem_responses(404, 409, 412, 422, 428),
)
async def add_circumstances(
    person_id: uuid.UUID,
    data: CircumstancesCreate,
    principal: Writer,
    write: UpdateDep,
    personal_data: PersonalDataDep,
) -> Response:
    if replay := await write.replay():
        return replay
    person = await service.get_person(write.session, principal=principal, person_id=person_id)
    await service.add_circumstances(write, person=person, data=data)
    # masked: the answer is kept under the Idempotency-Key
    (body,) = await service.person_reads(
        write.session, [person], personal_data=personal_data.for_stored_answer()
    )
    return await write.respond(201, body, record=person)


@router.get(
    "/persons/{person_id}/circumstances",
    response_model=Page[CircumstancesRead],
    summary="Every version of a person's circumstances, oldest first",
    responses=problem_responses(404),
)
async def list_circumstances(
    person_id: uuid.UUID, session: SessionDep, principal: Reader, page: PageDep
) -> Page[CircumstancesRead]:
    rows, total = await service.list_circumstances(
        session, principal=principal, person_id=person_id, page=page
    )
    return Page.of([CircumstancesRead.model_validate(r) for r in rows], total, page)
