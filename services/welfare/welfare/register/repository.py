"""Every query of the register."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import filtered_to, paginate, within_scope
from shared.auth import Principal
from shared.pagination import PageParams
from welfare.register.models import (
    Enrolment,
    EnrolmentSuspension,
    Household,
    HouseholdResidence,
    IncomeAssessment,
    Person,
)


async def households_in_scope(
    session: AsyncSession, *, principal: Principal, page: PageParams, jurisdiction: str | None
) -> tuple[Sequence[Household], int]:
    query = filtered_to(select(Household), Household.jurisdiction, principal, jurisdiction)
    return await paginate(session, query, page, Household.created_at, Household.id)


async def persons_in_scope(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    jurisdiction: str | None,
    household_id: uuid.UUID | None,
) -> tuple[Sequence[Person], int]:
    query = filtered_to(select(Person), Person.jurisdiction, principal, jurisdiction)
    if household_id is not None:
        query = query.where(Person.household_id == household_id)
    return await paginate(session, query, page, Person.created_at, Person.id)


async def enrolments_in_scope(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    jurisdiction: str | None,
    program: str | None,
    status: str | None,
) -> tuple[Sequence[Enrolment], int]:
    query = filtered_to(select(Enrolment), Enrolment.jurisdiction, principal, jurisdiction)
    if program is not None:
        query = query.where(Enrolment.program == program)
    if status is not None:
        query = query.where(Enrolment.status == status)
    return await paginate(session, query, page, Enrolment.created_at, Enrolment.id)


def persons_query(*, principal: Principal, jurisdiction: str | None) -> Select[Person]:
    return filtered_to(select(Person), Person.jurisdiction, principal, jurisdiction)


async def enrolments_in_force(
    session: AsyncSession, *, person: Person, month: dt.date, principal: Principal
) -> Sequence[Enrolment]:
    """The person's own enrolments and their household's dibao enrolment that are active in
    ``month`` (its first day), within the caller's area: the enrolments the payroll pays."""
    beneficiary = Enrolment.person_id == person.id
    if person.household_id is not None:
        beneficiary = or_(
            beneficiary, and_(Enrolment.household_id == person.household_id, Enrolment.program == "dibao")
        )
    query = select(Enrolment).where(
        beneficiary,
        Enrolment.status == "active",
        Enrolment.start_month <= month,
        or_(Enrolment.end_month.is_(None), Enrolment.end_month >= month),
    )
    query = within_scope(query, Enrolment.jurisdiction, principal)
    rows = await session.scalars(query.order_by(Enrolment.program, Enrolment.start_month, Enrolment.id))
    return list(rows)


PROGRAM_FAMILIES = {"orphan_concentrated": "orphan", "orphan_scattered": "orphan"}


def program_family(program: str) -> list[str]:
    """The programs a beneficiary can be in only once at a time: the program itself, and for an
    orphan both care arrangements (集中供养 and 分散供养 are one allowance, changed, not added)."""
    family = PROGRAM_FAMILIES.get(program, program)
    return [p for p in ("orphan_concentrated", "orphan_scattered") if family == "orphan"] or [program]


async def overlapping_enrolment(
    session: AsyncSession,
    *,
    household_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    program: str,
    start: dt.date,
    end: dt.date | None,
    excluding: uuid.UUID | None = None,
) -> Enrolment | None:
    """An enrolment of the same beneficiary in the same program (family) whose months overlap
    ``start``..``end`` (``end`` None: open-ended), other than ``excluding``; ended ones count
    for the months they ran."""
    beneficiary = (
        Enrolment.household_id == household_id
        if household_id is not None
        else Enrolment.person_id == person_id
    )
    query = select(Enrolment).where(
        beneficiary,
        Enrolment.program.in_(program_family(program)),
        or_(Enrolment.end_month.is_(None), Enrolment.end_month >= start),
    )
    if end is not None:
        query = query.where(Enrolment.start_month <= end)
    if excluding is not None:
        query = query.where(Enrolment.id != excluding)
    found: Enrolment | None = await session.scalar(query.order_by(Enrolment.start_month).limit(1))
    return found


async def income_history(
    session: AsyncSession, enrolment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[IncomeAssessment]]:
    rows = await session.scalars(
        select(IncomeAssessment)
        .where(IncomeAssessment.enrolment_id.in_(enrolment_ids))
        .order_by(IncomeAssessment.enrolment_id, IncomeAssessment.effective_month)
    )
    history: dict[uuid.UUID, list[IncomeAssessment]] = {i: [] for i in enrolment_ids}
    for row in rows:
        history[row.enrolment_id].append(row)
    return history


async def supersede_income(session: AsyncSession, enrolment_id: uuid.UUID, effective_month: dt.date) -> None:
    """Close the version in force before ``effective_month`` and open-ended after it."""
    await session.execute(
        update(IncomeAssessment)
        .where(
            IncomeAssessment.enrolment_id == enrolment_id,
            IncomeAssessment.effective_month < effective_month,
            (IncomeAssessment.superseded_from.is_(None))
            | (IncomeAssessment.superseded_from > effective_month),
        )
        .values(superseded_from=effective_month)
    )


async def next_income_month(
    session: AsyncSession, enrolment_id: uuid.UUID, effective_month: dt.date
) -> dt.date | None:
    """The month the next later version starts, if one was recorded already."""
    return await session.scalar(
        select(func.min(IncomeAssessment.effective_month)).where(
            IncomeAssessment.enrolment_id == enrolment_id,
            IncomeAssessment.effective_month > effective_month,
        )
    )


async def residence_history(
    session: AsyncSession, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[HouseholdResidence]]:
    """Every household's residence versions, oldest first (the first recorded, with no month, first)."""
    rows = await session.scalars(
        select(HouseholdResidence)
        .where(HouseholdResidence.household_id.in_(household_ids))
        .order_by(HouseholdResidence.household_id, HouseholdResidence.effective_month.asc().nulls_first())
    )
    history: dict[uuid.UUID, list[HouseholdResidence]] = {i: [] for i in household_ids}
    for row in rows:
        history[row.household_id].append(row)
    return history


def residence_in(history: Sequence[HouseholdResidence], month: dt.date) -> str | None:
    """The residence in force in ``month`` (its first day) in a household's history."""
    for row in history:
        started = row.effective_month is None or row.effective_month <= month
        if started and (row.superseded_from is None or row.superseded_from > month):
            return row.residence
    return None


async def supersede_residence(
    session: AsyncSession, household_id: uuid.UUID, effective_month: dt.date
) -> None:
    """Close the version in force before ``effective_month`` from that month on."""
    await session.execute(
        update(HouseholdResidence)
        .where(
            HouseholdResidence.household_id == household_id,
            HouseholdResidence.effective_month.is_(None)
            | (HouseholdResidence.effective_month < effective_month),
            HouseholdResidence.superseded_from.is_(None)
            | (HouseholdResidence.superseded_from > effective_month),
        )
        .values(superseded_from=effective_month)
    )


async def next_residence_month(
    session: AsyncSession, household_id: uuid.UUID, effective_month: dt.date
) -> dt.date | None:
    """The month the next later version starts, if one was recorded already."""
    return await session.scalar(
        select(func.min(HouseholdResidence.effective_month)).where(
            HouseholdResidence.household_id == household_id,
            HouseholdResidence.effective_month > effective_month,
        )
    )


async def suspensions(session: AsyncSession, enrolment_id: uuid.UUID) -> list[EnrolmentSuspension]:
    """The enrolment's suspensions, earliest first."""
    rows = await session.scalars(
        select(EnrolmentSuspension)
        .where(EnrolmentSuspension.enrolment_id == enrolment_id)
        .order_by(EnrolmentSuspension.from_month, EnrolmentSuspension.id)
    )
    return list(rows)


async def suspension_history(
    session: AsyncSession, enrolment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EnrolmentSuspension]]:
    found: dict[uuid.UUID, list[EnrolmentSuspension]] = {i: [] for i in enrolment_ids}
    rows = await session.scalars(
        select(EnrolmentSuspension)
        .where(EnrolmentSuspension.enrolment_id.in_(list(enrolment_ids)))
        .order_by(EnrolmentSuspension.from_month, EnrolmentSuspension.id)
    )
    for row in rows:
        found[row.enrolment_id].append(row)
    return found
