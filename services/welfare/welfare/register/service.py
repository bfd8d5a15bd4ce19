"""The welfare register: households with their residence (urban or rural) by month, persons,
and enrolments in the programs (dibao, tekun, orphans, 1960s retirees) with the fields each
program needs and their assessed-income versions. A change that reaches months already paid
starts a recalculation of them; a registered person and an enrolment's start, change and end
are published as events (``person.registered``, ``enrolment.*``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import load_in_scope
from shared.auth import Principal, ensure_jurisdiction
from shared.citizen_ids import CitizenIdVault, mask
from shared.db import hold_lock
from shared.errors import Conflict, InvalidInput
from shared.months import YearMonth, policy_today
from shared.pagination import PageParams
from shared.personal_data import DuplicateReport, PersonalDataReader, find_duplicates
from shared.registers import add_new_person, registered_person
from shared.writes import Event, Sealed, WriteContext
from welfare.register import repository
from welfare.register.booked_months import (
    first_unpaid_month,
    paid_from,
    start_recalculation,
    take_booked_months,
)
from welfare.register.models import (
    Enrolment,
    EnrolmentSuspension,
    Household,
    HouseholdResidence,
    IncomeAssessment,
    Person,
)
from welfare.register.schemas import (
    CareArrangementChange,
    DibaoEnrolmentCreate,
    EnrolmentCreate,
    EnrolmentInForce,
    EnrolmentLookup,
    EnrolmentLookupRead,
    EnrolmentRead,
    EnrolmentUpdate,
    HouseholdCreate,
    HouseholdRead,
    HouseholdUpdate,
    IncomeAssessmentCreate,
    IncomeAssessmentRead,
    PersonCreate,
    PersonRead,
    ResidenceRead,
    RetireeEnrolmentCreate,
    SuspensionRead,
    TekunEnrolmentCreate,
)
from welfare.standards.history import DERIVED_PROGRAMS, StandardHistories

STALENESS_IRRELEVANT = 1_000_000


async def enrolment_event(session: AsyncSession, enrolment: Enrolment, verb: str) -> Event:
    """``enrolment.{started,changed,ended}``: the enrolment's facts; the person's citizen ID
    number (encrypted; only readers with welfare:pii see it) when a person is enrolled."""
    personal = None
    if enrolment.person_id is not None:
        person = await session.get(Person, enrolment.person_id)
        if person is not None:
            personal = {
                "citizen_id": Sealed(
                    person.citizen_id_cipher, person.citizen_id_masked, person.citizen_id_key_id
                )
            }
    return Event(
        type=f"enrolment.{verb}",
        subject=f"/enrolments/{enrolment.id}",
        jurisdiction=enrolment.jurisdiction,
        data={
            "enrolment_id": enrolment.id,
            "program": enrolment.program,
            "household_id": enrolment.household_id,
            "person_id": enrolment.person_id,
            "covered_members": enrolment.covered_members,
            "tier": enrolment.tier,
            "arrangement": enrolment.arrangement,
            "start_month": str(YearMonth.of(enrolment.start_month)),
            "end_month": str(YearMonth.of(enrolment.end_month)) if enrolment.end_month else None,
            "status": enrolment.status,
            "version": enrolment.version,
        },
        personal=personal,
    )


def person_event(person: Person) -> Event:
    """``person.registered``: who the person is in the register (their household, through which
    a household's dibao enrolment covers them) and, for readers with welfare:pii, the number."""
    return Event(
        type="person.registered",
        subject=f"/persons/{person.id}",
        jurisdiction=person.jurisdiction,
        data={
            "person_id": person.id,
            "household_id": person.household_id,
            "jurisdiction": person.jurisdiction,
            "version": person.version,
        },
        personal={
            "citizen_id": Sealed(person.citizen_id_cipher, person.citizen_id_masked, person.citizen_id_key_id)
        },
    )


def split_standards(standards: StandardHistories, jurisdiction: str, month: dt.date) -> bool:
    """Whether ``jurisdiction``'s standards in force on the first day of ``month`` are set apart
    for urban and rural residents (the residence then selects one)."""
    return standards.standards_on(jurisdiction, month, STALENESS_IRRELEVANT).split


def _split_detail(jurisdiction: str, month: YearMonth) -> str:
    return (
        f"{jurisdiction} sets urban (城市) and rural (农村) dibao standards apart in {month}, so the "
        "household's residence (urban or rural) selects the one that applies"
    )


async def create_household(
    write: WriteContext, *, data: HouseholdCreate, standards: StandardHistories
) -> Household:
    ensure_jurisdiction(write.principal, data.jurisdiction)
    this_month = YearMonth.of(policy_today())
    if data.residence is None and split_standards(standards, data.jurisdiction, this_month.first_day):
        raise InvalidInput.field(
            "body.residence", f"is required: {_split_detail(data.jurisdiction, this_month)}"
        )
    household = Household(jurisdiction=data.jurisdiction, address=data.address, version=1)
    await write.add(household)
    if data.residence is not None:
        await write.add(
            HouseholdResidence(
                household_id=household.id, residence=data.residence, recorded_by=write.principal.actor
            )
        )
    await write.record(
        action="create",
        entity="household",
        entity_id=household.id,
        jurisdiction=household.jurisdiction,
        after={"address": household.address, "residence": data.residence},
        event=None,
    )
    return household


async def get_household(session: AsyncSession, *, principal: Principal, household_id: uuid.UUID) -> Household:
    household: Household = await load_in_scope(session, Household, household_id, principal, "household")
    return household


async def household_reads(session: AsyncSession, *, households: Sequence[Household]) -> list[HouseholdRead]:
    """The households with their residence versions and the residence in force this month."""
    history = await repository.residence_history(session, [h.id for h in households])
    this_month = YearMonth.of(policy_today()).first_day
    reads = []
    for household in households:
        read = HouseholdRead.model_validate(household)
        versions = history[household.id]
        read.residences = [ResidenceRead.model_validate(v) for v in versions]
        residence = repository.residence_in(versions, this_month)
        read.residence = "urban" if residence == "urban" else "rural" if residence == "rural" else None
        reads.append(read)
    return reads


async def update_household(write: WriteContext, *, household: Household, data: HouseholdUpdate) -> Household:
    """Change the address, or record the residence from a month (dated like assessed incomes:
    earlier months keep the residence they had)."""
    write.expect_current(household)
    if data.address is None and data.residence is None:
        raise InvalidInput.field(
            "body", "give address, or residence (with residence_from once one is recorded)"
        )
    if data.residence is None and (data.residence_from is not None or data.residence_reference is not None):
        raise InvalidInput.field("body.residence", "is required with residence_from and residence_reference")
    session = write.session
    history = (await repository.residence_history(session, [household.id]))[household.id]
    before: dict[str, Any] = {
        "address": household.address,
        "residences": [_residence_state(v) for v in history],
    }
    month = data.residence_from.first_day if data.residence_from is not None else None
    if data.residence is not None:
        if history and month is None:
            raise InvalidInput.field(
                "body.residence_from",
                "is required: the household has a residence recorded; name the first month the new one "
                "holds (earlier months keep theirs)",
            )
        if month is not None and any(v.effective_month == month for v in history):
            raise Conflict(
                f"A residence taking effect in {data.residence_from} is recorded for the household; "
                "record another month."
            )
        if month is not None and repository.residence_in(history, month) == data.residence:
            raise InvalidInput.field(
                "body.residence", f"the household is {data.residence} in {data.residence_from} already"
            )
    if data.address is not None:
        household.address = data.address
    household.updated_at = func.now()  # a new version even when only the residence changes
    await write.flush()  # compare-and-set on the version: a concurrent change first is 412
    if data.residence is not None:
        superseded_from = None
        if month is not None:
            superseded_from = await repository.next_residence_month(session, household.id, month)
            await repository.supersede_residence(session, household.id, month)
        await write.add(
            HouseholdResidence(
                household_id=household.id,
                effective_month=month,
                superseded_from=superseded_from,
                residence=data.residence,
                reference=data.residence_reference,
                recorded_by=write.principal.actor,
            ),
            conflict=f"A residence taking effect in {data.residence_from} is recorded for the household.",
        )
    await write.session.refresh(household)
    after_history = (await repository.residence_history(session, [household.id]))[household.id]
    await write.record(
        action="update",
        entity="household",
        entity_id=household.id,
        jurisdiction=household.jurisdiction,
        before=before,
        after={"address": household.address, "residences": [_residence_state(v) for v in after_history]},
        event=None,
    )
    return household


def _residence_state(version: HouseholdResidence) -> dict[str, Any]:
    return {
        "residence": version.residence,
        "effective_month": str(YearMonth.of(version.effective_month)) if version.effective_month else None,
        "superseded_from": str(YearMonth.of(version.superseded_from)) if version.superseded_from else None,
        "reference": version.reference,
    }


async def refuse_a_household_without_residence(
    session: AsyncSession,
    *,
    standards: StandardHistories,
    jurisdiction: str,
    household_id: uuid.UUID | None,
    month: YearMonth,
    field: str,
) -> None:
    """Where the standards of ``month`` are split, the household must have a residence for it:
    422 naming ``field`` (never paid at a guessed standard)."""
    if not split_standards(standards, jurisdiction, month.first_day):
        return
    history = []
    if household_id is not None:
        history = (await repository.residence_history(session, [household_id]))[household_id]
    if repository.residence_in(history, month.first_day) is not None:
        return
    if household_id is None:
        problem = "the person belongs to no household, so no residence (urban or rural) selects the standard"
    else:
        problem = (
            f"the household has no residence (urban or rural) recorded for {month}: record it first "
            f"(PATCH /households/{household_id}, field residence)"
        )
    raise InvalidInput.field(field, f"{problem}; {_split_detail(jurisdiction, month)}")


async def create_person(write: WriteContext, *, vault: CitizenIdVault, data: PersonCreate) -> Person:
    """Register a person; one number is one person in the whole register
    (查重, :mod:`shared.registers`)."""
    session, principal = write.session, write.principal
    ensure_jurisdiction(principal, data.jurisdiction)
    if data.household_id is not None:
        household = await get_household(session, principal=principal, household_id=data.household_id)
        if household.jurisdiction != data.jurisdiction:
            raise InvalidInput.field("body.household_id", "the household belongs to another jurisdiction")
    person = Person(
        jurisdiction=data.jurisdiction,
        household_id=data.household_id,
        name=data.name,
        birth_date=data.birth_date,
        version=1,
    )
    await add_new_person(
        write,
        person,
        vault=vault,
        citizen_id=data.citizen_id,
        after={"household_id": str(person.household_id) if person.household_id else None},
        event=person_event,
    )
    return person


async def get_person(session: AsyncSession, *, principal: Principal, person_id: uuid.UUID) -> Person:
    person: Person = await load_in_scope(session, Person, person_id, principal, "person")
    return person


async def list_households(
    session: AsyncSession, *, principal: Principal, page: PageParams, jurisdiction: str | None = None
) -> tuple[Sequence[Household], int]:
    """Households in the caller's area (only ``jurisdiction``'s subtree when given; 403 when it
    lies outside the area)."""
    return await repository.households_in_scope(
        session, principal=principal, page=page, jurisdiction=jurisdiction
    )


async def list_persons(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    jurisdiction: str | None = None,
    household_id: uuid.UUID | None = None,
) -> tuple[Sequence[Person], int]:
    return await repository.persons_in_scope(
        session, principal=principal, page=page, jurisdiction=jurisdiction, household_id=household_id
    )


async def list_enrolments(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    jurisdiction: str | None = None,
    program: str | None = None,
    status: str | None = None,
) -> tuple[Sequence[Enrolment], int]:
    return await repository.enrolments_in_scope(
        session, principal=principal, page=page, jurisdiction=jurisdiction, program=program, status=status
    )


def person_read(*, person: Person, personal_data: PersonalDataReader) -> PersonRead:
    """The person as the caller may see them: the citizen ID in full (and recorded) for
    ``welfare:pii``, masked for everyone else."""
    return PersonRead(
        id=person.id,
        jurisdiction=person.jurisdiction,
        household_id=person.household_id,
        name=person.name,
        citizen_id=personal_data.citizen_id_of(person),
        birth_date=person.birth_date,
        version=person.version,
        created_at=person.created_at,
    )


async def duplicate_persons(
    session: AsyncSession, *, principal: Principal, vault: CitizenIdVault, jurisdiction: str | None = None
) -> DuplicateReport:
    """Persons of the caller's area registered twice under one number in different digits, or
    under a number not in the normal form (see :func:`shared.personal_data.find_duplicates`).
    Listed for staff to merge by hand; nothing is merged here."""
    scanned, groups = await find_duplicates(
        session,
        Person,
        in_scope=repository.persons_query(principal=principal, jurisdiction=jurisdiction),
        vault=vault,
    )
    return DuplicateReport.of(scanned, groups)


async def create_enrolment(
    write: WriteContext,
    *,
    data: EnrolmentCreate,
    standards: StandardHistories,
    runs: list[uuid.UUID] | None = None,
) -> Enrolment:
    """Enrol; where the standards of the start month are set apart for urban and rural residents,
    the household (a person's: their household) must have its residence for that month (422).

    Months of the new enrolment an earlier enrolment of the allowance was paid for (its end month
    moved back after they were paid) carry what was paid (``booked_months``); the recalculation
    started for them is appended to ``runs``."""
    session, principal = write.session, write.principal
    ensure_jurisdiction(principal, data.jurisdiction)
    start = data.start_month.first_day
    first = standards.paid_from(data.jurisdiction, data.program)
    if first is None or start < first:
        since = f"from {YearMonth.of(first)} on" if first is not None else "in no month"
        raise InvalidInput.field(
            "body.start_month",
            f"{data.program} standards of {data.jurisdiction} are known {since}: an enrolment starts no "
            "earlier (a month no standard prices is never paid)",
        )
    enrolment = Enrolment(
        program=data.program,
        jurisdiction=data.jurisdiction,
        start_month=start,
        status="active",
        decision_by=data.decision.by,
        decision_on=data.decision.on,
        decision_reference=data.decision.reference,
        version=1,
    )
    if isinstance(data, DibaoEnrolmentCreate):
        household = await get_household(session, principal=principal, household_id=data.household_id)
        if household.jurisdiction != data.jurisdiction:
            raise InvalidInput.field("body.household_id", "the household belongs to another jurisdiction")
        enrolment.household_id = household.id
        enrolment.covered_members = data.covered_members
        await refuse_a_household_without_residence(
            session,
            standards=standards,
            jurisdiction=data.jurisdiction,
            household_id=household.id,
            month=data.start_month,
            field="body.household_id",
        )
    else:
        person = await get_person(session, principal=principal, person_id=data.person_id)
        if person.jurisdiction != data.jurisdiction:
            raise InvalidInput.field("body.person_id", "the person belongs to another jurisdiction")
        enrolment.person_id = person.id
        if isinstance(data, RetireeEnrolmentCreate):
            enrolment.tier = data.tier
        if isinstance(data, TekunEnrolmentCreate):
            enrolment.arrangement = data.arrangement
        if data.program in DERIVED_PROGRAMS:  # derived from the dibao standard of the residence
            await refuse_a_household_without_residence(
                session,
                standards=standards,
                jurisdiction=data.jurisdiction,
                household_id=person.household_id,
                month=data.start_month,
                field="body.person_id",
            )
    await refuse_a_second_enrolment(write, enrolment)
    await write.add(enrolment)
    if isinstance(data, DibaoEnrolmentCreate):
        await write.add(
            IncomeAssessment(
                enrolment_id=enrolment.id,
                effective_month=start,
                per_capita_income=data.per_capita_income,
                assessed_on=data.decision.on,
                reference=data.decision.reference,
                recorded_by=principal.actor,
            )
        )
    await take_booked_months(
        write,
        target=enrolment,
        why=f"enrolled from {data.start_month} ({data.decision.reference})",
        runs=runs,
    )
    await write.record(
        action="create",
        entity="enrolment",
        entity_id=enrolment.id,
        jurisdiction=enrolment.jurisdiction,
        after=data.model_dump(mode="json"),
        event=await enrolment_event(session, enrolment, "started"),
    )
    return enrolment


async def refuse_a_second_enrolment(
    write: WriteContext, enrolment: Enrolment, *, end: dt.date | None = None
) -> None:
    """One enrolment per beneficiary, program and month: a second one would be paid twice.

    ``end`` is the last month ``enrolment`` is to have when it is an existing enrolment whose
    months grow (a PATCH of its end month); the enrolment itself is not its own second one.

    Checked under a transaction-level advisory lock per beneficiary, so that identical
    requests arriving together (a double click, a retry without Idempotency-Key, two
    replicas) are decided one after the other: the first is enrolled, the others are 409.
    """
    beneficiary = enrolment.household_id or enrolment.person_id
    await hold_lock(write.session, f"welfare.enrolment:{beneficiary}")
    existing = await repository.overlapping_enrolment(
        write.session,
        household_id=enrolment.household_id,
        person_id=enrolment.person_id,
        program=enrolment.program,
        start=enrolment.start_month,
        end=end or enrolment.end_month,
        excluding=enrolment.id,
    )
    if existing is not None:
        who = "household" if enrolment.household_id else "person"
        until = f" to {YearMonth.of(existing.end_month)}" if existing.end_month else ""
        raise Conflict(
            f"The {who} is already enrolled in {existing.program} from "
            f"{YearMonth.of(existing.start_month)}{until} (enrolment {existing.id}, {existing.status}): "
            "one enrolment per program and month; end or change that one instead."
        )


async def get_enrolment(session: AsyncSession, *, principal: Principal, enrolment_id: uuid.UUID) -> Enrolment:
    enrolment: Enrolment = await load_in_scope(session, Enrolment, enrolment_id, principal, "enrolment")
    return enrolment


async def enrolment_reads(session: AsyncSession, *, enrolments: Sequence[Enrolment]) -> list[EnrolmentRead]:
    history = await repository.income_history(session, [e.id for e in enrolments])
    suspended = await repository.suspension_history(session, [e.id for e in enrolments])
    reads = []
    for enrolment in enrolments:
        read = EnrolmentRead.model_validate(enrolment)
        read.income_assessments = [IncomeAssessmentRead.model_validate(a) for a in history[enrolment.id]]
        read.suspensions = [SuspensionRead.model_validate(s) for s in suspended[enrolment.id]]
        reads.append(read)
    return reads


async def lookup_enrolments(
    session: AsyncSession, *, principal: Principal, vault: CitizenIdVault, data: EnrolmentLookup
) -> EnrolmentLookupRead:
    """The enrolments in force in the month of ``data.on`` for the person with this citizen ID.

    Dibao (低保) enrols a household, so a person is in dibao through their household's
    enrolment; the enrolment does not name which members it covers, so every member of the
    household counts. The other programs enrol the person. Only active enrolments count,
    as in the payroll.

    Not an error when nobody is found: a number nobody registered and a person registered
    outside the caller's area answer alike (no person, no enrolments, not in dibao), so the
    lookup reveals nothing the caller's own area of the register does not already show.
    """
    month, masked = YearMonth.of(data.on), mask(data.citizen_id)
    person = await registered_person(session, Person, vault=vault, citizen_id=data.citizen_id)
    if person is None or not principal.can_access(person.jurisdiction):
        return EnrolmentLookupRead(
            citizen_id=masked, on=data.on, month=str(month), person_id=None, dibao=False, enrolments=[]
        )
    enrolments = await repository.enrolments_in_force(
        session, person=person, month=month.first_day, principal=principal
    )
    return EnrolmentLookupRead(
        citizen_id=masked,
        on=data.on,
        month=str(month),
        person_id=person.id,
        dibao=any(e.program == "dibao" for e in enrolments),
        enrolments=[
            EnrolmentInForce.model_validate(
                {
                    "enrolment_id": e.id,
                    "program": e.program,
                    "jurisdiction": e.jurisdiction,
                    "beneficiary": "household" if e.household_id is not None else "person",
                    "household_id": e.household_id,
                    "arrangement": e.arrangement,
                    "start_month": e.start_month,
                    "end_month": e.end_month,
                    "status": e.status,
                }
            )
            for e in enrolments
        ],
    )


def _enrolment_state(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "status": enrolment.status,
        "end_month": str(YearMonth.of(enrolment.end_month)) if enrolment.end_month else None,
    }


async def update_enrolment(
    write: WriteContext, *, enrolment: Enrolment, data: EnrolmentUpdate, runs: list[uuid.UUID] | None = None
) -> Enrolment:
    """Suspend (from a month), resume (from a month) or end an enrolment. Months already paid that
    it no longer pays (an end month moved back, a suspension from a month already paid) start a
    recalculation from the first of them, which books what was paid for them as overpayments
    pending staff review (appended to ``runs``)."""
    write.expect_current(enrolment)
    before = _enrolment_state(enrolment)
    suspensions = await repository.suspensions(write.session, enrolment.id)
    open_suspension = next((s for s in suspensions if s.resumed_month is None), None)
    if data.suspended_from is not None and data.status != "suspended":
        raise InvalidInput.field("body.suspended_from", 'is given with status "suspended"')
    if data.resumed_from is not None and not (data.status == "active" and open_suspension is not None):
        raise InvalidInput.field("body.resumed_from", 'is given with status "active" to resume a suspension')
    no_longer_paid_from: dt.date | None = None
    if data.end_month is not None:
        end = data.end_month.first_day
        if end < enrolment.start_month:
            raise InvalidInput.field("body.end_month", "must not be before the enrolment's start month")
        if enrolment.end_month is not None and end > enrolment.end_month:
            # months it did not have: they may belong to a later enrolment by now
            await refuse_a_second_enrolment(write, enrolment, end=end)
        if enrolment.end_month is None or end < enrolment.end_month:
            no_longer_paid_from = YearMonth.of(end).next().first_day
        enrolment.end_month = end
    if data.status == "suspended" and open_suspension is None:
        start = (
            data.suspended_from.first_day
            if data.suspended_from is not None
            else await first_unpaid_month(write, enrolment=enrolment)
        )
        if start < enrolment.start_month:
            raise InvalidInput.field("body.suspended_from", "must not be before the enrolment's start month")
        await write.add(
            EnrolmentSuspension(
                enrolment_id=enrolment.id, from_month=start, recorded_by=write.principal.actor
            )
        )
        if no_longer_paid_from is None or start < no_longer_paid_from:
            no_longer_paid_from = start
    if data.status == "active" and open_suspension is not None:
        this_month = YearMonth.of(policy_today()).first_day
        first_month = YearMonth.of(open_suspension.from_month)
        resumed = (
            data.resumed_from.first_day
            if data.resumed_from is not None
            else max(this_month, first_month.next().first_day)
        )
        if resumed <= open_suspension.from_month:
            # a suspension lasts at least its first month: resuming from that month would undo it
            # after the fact and pay the months it held back (and cancel their overpayments)
            raise InvalidInput.field(
                "body.resumed_from",
                f"must be after the suspension's first month {first_month}: a suspension lasts at "
                "least one month and is not undone after the fact",
            )
        open_suspension.resumed_month = resumed
    if data.status is not None:
        enrolment.status = data.status
    if enrolment.status == "ended" and enrolment.end_month is None:
        raise InvalidInput.field("body.end_month", "an ended enrolment needs its last month")
    if no_longer_paid_from is not None and await paid_from(
        write, enrolment=enrolment, month=no_longer_paid_from
    ):
        run = await start_recalculation(
            write, jurisdiction=enrolment.jurisdiction, from_month=no_longer_paid_from
        )
        if runs is not None:
            runs.append(run.id)
    enrolment.updated_at = func.now()  # a change even when the values are the same: a new version
    await write.flush()
    await write.session.refresh(enrolment)
    ended = enrolment.status == "ended" and before["status"] != "ended"
    await write.record(
        action="update",
        entity="enrolment",
        entity_id=enrolment.id,
        jurisdiction=enrolment.jurisdiction,
        before=before,
        after=_enrolment_state(enrolment),
        event=await enrolment_event(write.session, enrolment, "ended" if ended else "changed"),
    )
    return enrolment


ORPHAN_PROGRAMS = {"concentrated": "orphan_concentrated", "scattered": "orphan_scattered"}


async def change_care_arrangement(
    write: WriteContext,
    *,
    enrolment: Enrolment,
    data: CareArrangementChange,
    takes_effect: str,
    runs: list[uuid.UUID] | None = None,
) -> Enrolment:
    """End the orphan or tekun enrolment and open one under the other arrangement, in the same
    status (active or suspended) and until the same last month. An orphan's arrangement is its
    program (orphan_concentrated / orphan_scattered); a tekun enrolment keeps the program and
    records the arrangement (分散供养 scattered / 集中供养 concentrated).

    ``takes_effect`` is the interpretation setting: ``next_month`` (the new amount from the
    month after the change, the spec's choice) or ``same_month``.
    """
    write.expect_current(enrolment)
    tekun = enrolment.program == "tekun"
    if not tekun and enrolment.program not in ORPHAN_PROGRAMS.values():
        raise InvalidInput.field(
            "path.enrolment_id", "only orphan and tekun enrolments have a care arrangement"
        )
    new_program = enrolment.program if tekun else ORPHAN_PROGRAMS[data.arrangement]
    already = enrolment.arrangement == data.arrangement if tekun else new_program == enrolment.program
    if already:
        raise InvalidInput.field("body.arrangement", f"the enrolment is already {data.arrangement}")
    if enrolment.status == "ended":
        raise InvalidInput.field("path.enrolment_id", "the enrolment has ended")
    changed = YearMonth.of(data.changed_on)
    first_new = changed.next() if takes_effect == "next_month" else changed
    if first_new.first_day <= enrolment.start_month:
        raise InvalidInput.field("body.changed_on", "must fall after the enrolment's first month")
    last = enrolment.end_month
    if last is not None and first_new.first_day > last:
        # the enrolment would run on past its last month, into months that may be another's
        raise InvalidInput.field(
            "body.changed_on",
            f"the new arrangement must begin by the enrolment's last month {YearMonth.of(last)}",
        )
    before = _enrolment_state(enrolment)
    status = enrolment.status  # a suspended allowance stays suspended under the new arrangement
    enrolment.end_month = first_new.plus(-1).first_day
    enrolment.status = "ended"
    successor = Enrolment(
        program=new_program,
        jurisdiction=enrolment.jurisdiction,
        person_id=enrolment.person_id,
        start_month=first_new.first_day,
        end_month=last,
        status=status,
        arrangement=data.arrangement if tekun else None,
        decision_by=write.principal.actor,
        decision_on=data.changed_on,
        decision_reference=data.reference,
        version=1,
    )
    await write.flush()  # the ended enrolment first: compare-and-set on its version
    await write.add(successor)
    for suspension in await repository.suspensions(write.session, enrolment.id):
        if suspension.resumed_month is None or suspension.resumed_month > first_new.first_day:
            await write.add(
                EnrolmentSuspension(
                    enrolment_id=successor.id,
                    from_month=max(suspension.from_month, first_new.first_day),
                    resumed_month=suspension.resumed_month,
                    recorded_by=write.principal.actor,
                )
            )
    # months from the new arrangement's first that were paid under the old one: what was paid
    # moves with them, and the recalculation books the new amount's difference
    await take_booked_months(
        write,
        target=successor,
        why=f"care arrangement {data.arrangement} from {first_new} (changed on {data.changed_on}, "
        f"{data.reference})",
        runs=runs,
    )
    await write.record(
        action="change_care_arrangement",
        entity="enrolment",
        entity_id=enrolment.id,
        jurisdiction=enrolment.jurisdiction,
        before=before,
        after={
            **_enrolment_state(enrolment),
            "successor": str(successor.id),
            "successor_program": new_program,
            "successor_start": str(first_new),
        },
        event=await enrolment_event(write.session, enrolment, "ended"),
    )
    await write.emit(await enrolment_event(write.session, successor, "started"))
    return successor


async def add_income_assessment(
    write: WriteContext, *, enrolment: Enrolment, data: IncomeAssessmentCreate
) -> IncomeAssessment:
    write.expect_current(enrolment)
    session = write.session
    if enrolment.program != "dibao":
        raise InvalidInput.field("path.enrolment_id", "only dibao enrolments have assessed incomes")
    month = data.effective_month.first_day
    if month < enrolment.start_month:
        raise InvalidInput.field("body.effective_month", "must not be before the enrolment's start month")
    history = (await repository.income_history(session, [enrolment.id]))[enrolment.id]
    exists = f"An assessment taking effect in {data.effective_month} exists; add a later one."
    if any(a.effective_month == month for a in history):
        raise Conflict(exists)
    # the enrolment's new version first: of two assessments sent with one ETag, one is 412 here
    enrolment.updated_at = func.now()
    await write.flush()
    superseded_from = await repository.next_income_month(session, enrolment.id, month)
    await repository.supersede_income(session, enrolment.id, month)
    assessment = IncomeAssessment(
        enrolment_id=enrolment.id,
        effective_month=month,
        superseded_from=superseded_from,
        per_capita_income=data.per_capita_income,
        assessed_on=data.assessed_on,
        reference=data.reference,
        recorded_by=write.principal.actor,
    )
    await write.add(assessment, conflict=exists)
    await write.session.refresh(enrolment)
    await write.record(
        action="create",
        entity="income_assessment",
        entity_id=enrolment.id,
        jurisdiction=enrolment.jurisdiction,
        after=data.model_dump(mode="json"),
        event=await enrolment_event(session, enrolment, "changed"),
    )
    return assessment
