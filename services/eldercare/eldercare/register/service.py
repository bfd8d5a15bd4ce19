"""The register of elderly persons: a person's birth date and sex read from the citizen ID
number (GB 11643), and their assessed circumstances as dated versions, each checked as the
evaluation profile it makes before it is stored; a version is never overwritten, a later one
supersedes it from its day.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.evaluations.profile import EARLIEST_BIRTH_DATE, PersonProfile, parse_profile
from eldercare.register import repository
from eldercare.register.models import Circumstances, Person
from eldercare.register.repository import CIRCUMSTANCE_FIELDS
from eldercare.register.schemas import (
    CircumstanceFields,
    CircumstancesCreate,
    CircumstancesRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
)
from shared.access import load_in_scope
from shared.auth import Principal, ensure_jurisdiction
from shared.citizen_ids import CitizenIdVault
from shared.errors import Conflict, InvalidInput
from shared.jurisdictions import registry
from shared.months import policy_today
from shared.pagination import PageParams
from shared.personal_data import DuplicateReport, PersonalDataReader, find_duplicates
from shared.registers import add_new_person
from shared.writes import WriteContext


def _birth_date_in(citizen_id: str) -> dt.date:
    try:
        return dt.date(int(citizen_id[6:10]), int(citizen_id[10:12]), int(citizen_id[12:14]))
    except ValueError as exc:
        raise InvalidInput.field("body.citizen_id", "digits 7–14 are not a real birth date") from exc


def _sex_in(citizen_id: str) -> str:
    # GB 11643: the 17th digit (order code) is odd for men, even for women
    return "male" if int(citizen_id[16]) % 2 else "female"


def checked_profile(
    birth_date: dt.date, sex: str | None, fields: CircumstanceFields, *, location: str
) -> PersonProfile:
    """The evaluation profile these circumstances make (cross-field rules checked)."""
    # only the fields given: a disability grade given without the certificate flag implies it
    given = fields.model_dump(include=set(CIRCUMSTANCE_FIELDS), exclude_unset=True)
    data = {"birth_date": birth_date, "sex": sex, **given}
    return parse_profile(data, location=location)


def _circumstances_row(
    person_id: uuid.UUID, profile: PersonProfile, data: CircumstancesCreate, principal: Principal
) -> Circumstances:
    values = profile.model_dump(include=set(CIRCUMSTANCE_FIELDS))
    return Circumstances(
        person_id=person_id,
        effective_from=data.effective_from,
        reference=data.reference,
        recorded_by=principal.actor,
        **values,
    )


def _circumstances_json(row: Circumstances) -> dict[str, Any]:
    return {
        "effective_from": row.effective_from.isoformat(),
        "reference": row.reference,
        **{name: getattr(row, name) for name in CIRCUMSTANCE_FIELDS},
    }


async def create_person(write: WriteContext, *, vault: CitizenIdVault, data: PersonCreate) -> Person:
    """Register a person; one number is one person in the whole register
    (查重, :mod:`shared.registers`)."""
    principal = write.principal
    ensure_jurisdiction(principal, data.jurisdiction)
    birth_date = _birth_date_in(data.citizen_id)
    if data.birth_date is not None and data.birth_date != birth_date:
        raise InvalidInput.field(
            "body.birth_date", f"does not match the citizen ID number's birth date {birth_date.isoformat()}"
        )
    if birth_date < EARLIEST_BIRTH_DATE or birth_date > policy_today():
        raise InvalidInput.field(
            "body.citizen_id", f"the birth date {birth_date.isoformat()} is not plausible"
        )
    sex = _sex_in(data.citizen_id)
    if data.sex is not None and data.sex != sex:
        raise InvalidInput.field("body.sex", f"does not match the citizen ID number ({sex})")
    if data.circumstances.effective_from < birth_date:
        raise InvalidInput.field("body.circumstances.effective_from", "must not be before the birth date")
    profile = checked_profile(birth_date, sex, data.circumstances, location="body.circumstances")
    # the id before the INSERT: the first version of the circumstances, which the audit row
    # of the person shows, is made first
    person = Person(
        id=uuid.uuid4(),
        jurisdiction=data.jurisdiction,
        name=data.name,
        birth_date=birth_date,
        sex=sex,
        version=1,
    )
    circumstances = _circumstances_row(person.id, profile, data.circumstances, principal)
    await add_new_person(
        write,
        person,
        vault=vault,
        citizen_id=data.citizen_id,
        after={
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "circumstances": _circumstances_json(circumstances),
        },
        event=None,
    )
    await write.add(circumstances)
    return person


async def get_person(session: AsyncSession, *, principal: Principal, person_id: uuid.UUID) -> Person:
    person: Person = await load_in_scope(session, Person, person_id, principal, "person")
    return person


async def person_reads(
    session: AsyncSession, persons: list[Person], *, personal_data: PersonalDataReader
) -> list[PersonRead]:
    """The persons as the caller may see them: citizen IDs in full (and recorded) for
    ``eldercare:pii``, masked for everyone else."""
    today = policy_today()
    current = await repository.circumstances_in_force(session, [p.id for p in persons], today)
    reads = []
    for person in persons:
        row = current.get(person.id)
        reads.append(
            PersonRead(
                id=person.id,
                jurisdiction=person.jurisdiction,
                name=person.name,
                citizen_id=personal_data.citizen_id_of(person),
                birth_date=person.birth_date,
                sex=person.sex,
                left_on=person.left_on,
                left_reason=person.left_reason,
                version=person.version,
                created_at=person.created_at,
                updated_at=person.updated_at,
                circumstances=CircumstancesRead.model_validate(row) if row is not None else None,
            )
        )
    return reads


async def duplicate_persons(
    session: AsyncSession, *, principal: Principal, vault: CitizenIdVault, jurisdiction: str | None = None
) -> DuplicateReport:
    """Persons of the caller's area (or of ``jurisdiction`` and the places below it) registered
    twice under one number in different digits, or under a number not in the normal form (see
    :func:`shared.personal_data.find_duplicates`). Listed for staff to merge by hand; nothing is
    merged here."""
    places = None
    if jurisdiction is not None:
        ensure_jurisdiction(principal, jurisdiction)
        places = registry().subtree(jurisdiction)
    in_scope = repository.persons_query(principal=principal, jurisdictions=places)
    scanned, groups = await find_duplicates(session, Person, in_scope=in_scope, vault=vault)
    return DuplicateReport.of(scanned, groups)


def _person_state(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "left_on": person.left_on.isoformat() if person.left_on else None,
        "left_reason": person.left_reason,
    }


async def update_person(write: WriteContext, *, person: Person, data: PersonUpdate) -> Person:
    write.expect_current(person)
    before = _person_state(person)
    if data.name is not None:
        person.name = data.name
    if "left_on" in data.model_fields_set:
        if data.left_on is not None and data.left_on < person.birth_date:
            raise InvalidInput.field("body.left_on", "must not be before the birth date")
        person.left_on = data.left_on
    if "left_reason" in data.model_fields_set:
        person.left_reason = data.left_reason
    if person.left_on is not None and not person.left_reason:
        raise InvalidInput.field("body.left_reason", "say why the person left the register")
    # a new version of the person: an UPDATE compare-and-set on the version read (412 if stale)
    person.updated_at = func.now()
    await write.flush()
    await write.session.refresh(person)
    await write.record(
        action="update",
        entity="person",
        entity_id=person.id,
        jurisdiction=person.jurisdiction,
        before=before,
        after=_person_state(person),
        event=None,
    )
    return person


async def add_circumstances(
    write: WriteContext, *, person: Person, data: CircumstancesCreate
) -> Circumstances:
    """A new version from ``data.effective_from``; the one in force before ends that day.

    The person's version moves with it, so the If-Match of a change sent twice with one ETag
    is stale the second time (412); versions are never overwritten (409 for a day that has one).
    """
    write.expect_current(person)
    session = write.session
    if data.effective_from < person.birth_date:
        raise InvalidInput.field("body.effective_from", "must not be before the birth date")
    profile = checked_profile(person.birth_date, person.sex, data, location="body")
    exists = (
        f"A version of the circumstances starting on {data.effective_from.isoformat()} exists; "
        "versions are never overwritten: add one from another day."
    )
    if await repository.has_version_on(session, person.id, data.effective_from):
        raise Conflict(exists)
    # the person's new version first: an UPDATE compare-and-set on the version read, so of two
    # changes sent with one ETag the second is 412 here, before it touches the versions
    person.updated_at = func.now()
    await write.flush()
    superseded_from = await repository.next_version_start(session, person.id, data.effective_from)
    await repository.supersede(session, person.id, data.effective_from)
    row = _circumstances_row(person.id, profile, data, write.principal)
    row.superseded_from = superseded_from
    await write.add(row, conflict=exists)
    await session.refresh(person)
    await write.record(
        action="create",
        entity="circumstances",
        entity_id=person.id,
        jurisdiction=person.jurisdiction,
        after=_circumstances_json(row),
        event=None,
    )
    return row


async def list_persons(
    session: AsyncSession, *, principal: Principal, jurisdiction: str | None, page: PageParams
) -> tuple[list[Person], int]:
    """Registered persons in the caller's area, or in ``jurisdiction`` and the places below it."""
    places = None
    if jurisdiction is not None:
        ensure_jurisdiction(principal, jurisdiction)
        places = registry().subtree(jurisdiction)
    rows, total = await repository.persons_page(session, principal=principal, jurisdictions=places, page=page)
    return list(rows), total


async def list_circumstances(
    session: AsyncSession, *, principal: Principal, person_id: uuid.UUID, page: PageParams
) -> tuple[list[Circumstances], int]:
    """Every version of a person's circumstances, oldest first (404 outside the caller's area)."""
    person = await get_person(session, principal=principal, person_id=person_id)
    rows, total = await repository.circumstances_page(session, person.id, page)
    return list(rows), total
