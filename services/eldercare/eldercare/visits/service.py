"""Visit care (探访关爱, 驻政办〔2023〕35号 二（一）4 and annex item 22).

「对独居、空巢、留守、失能、重残、计划生育特殊家庭等老年人……每月至少开展一次探访关爱服务」:
who is due a visit in a month is whoever item 22 of their county's catalogue applies to,
with the circumstances in force on the month's first day; the report lists those with no
visit recorded in the month.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import Condition
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.interpretations import EldercareInterpretations
from eldercare.register.models import Person
from eldercare.register.service import get_person
from eldercare.visits import repository
from eldercare.visits.models import Visit
from eldercare.visits.schemas import MissingVisit, VisitCreate
from shared.auth import Principal
from shared.errors import InvalidInput
from shared.jurisdictions import registry
from shared.months import YearMonth, policy_today
from shared.pagination import PageParams
from shared.writes import WriteContext

VISIT_ITEM = 22
"""探访服务: 「每月至少开展一次探访关爱服务」 (annex item 22)."""

LIVING_GROUPS = {
    "alone": "独居 (living alone)",
    "empty_nest": "空巢 (empty-nest)",
    "left_behind": "留守 (left-behind)",
}


async def list_person_visits(
    session: AsyncSession, *, principal: Principal, person_id: uuid.UUID, page: PageParams
) -> tuple[list[Visit], int]:
    """A person's visits, newest first (404 outside the caller's area)."""
    person = await get_person(session, principal=principal, person_id=person_id)
    rows, total = await repository.person_visits(session, person.id, page)
    return list(rows), total


async def record_visit(*, write: WriteContext, data: VisitCreate) -> Visit:
    session, principal = write.session, write.principal
    person: Person = await get_person(session, principal=principal, person_id=data.person_id)
    if data.visited_on < person.birth_date:
        raise InvalidInput.field("body.visited_on", "is before the person's birth date")
    if data.visited_on > policy_today():
        raise InvalidInput.field("body.visited_on", "is in the future: record a visit once it took place")
    if person.left_on is not None and data.visited_on >= person.left_on:
        raise InvalidInput.field("body.visited_on", f"the person left the register on {person.left_on}")
    visit = Visit(
        person_id=person.id,
        jurisdiction=person.jurisdiction,
        visited_on=data.visited_on,
        method=data.method,
        visitor=data.visitor,
        notes=data.notes,
        recorded_by=principal.actor,
    )
    await write.add(visit)
    await write.record(
        action="create",
        entity="visit",
        entity_id=str(visit.id),
        jurisdiction=visit.jurisdiction,
        after={
            "person_id": str(person.id),
            "visited_on": visit.visited_on.isoformat(),
            "method": visit.method,
            "visitor": visit.visitor,
        },
        event=None,
    )
    return visit


def visit_groups(row: Any) -> list[str]:
    groups = []
    if row.living_arrangement in LIVING_GROUPS:
        groups.append(LIVING_GROUPS[row.living_arrangement])
    if row.ability_level is not None and row.ability_level >= 1:
        groups.append(f"失能 (ability level {row.ability_level})")
    if row.disability_grade in (1, 2):
        groups.append(f"重残 (disability grade {row.disability_grade})")
    if row.family_planning_special is not None:
        groups.append(f"计划生育特殊家庭 ({row.family_planning_special})")
    return groups or [f"item {VISIT_ITEM} of the county catalogue applies"]


async def missing(
    session: AsyncSession,
    *,
    library: CatalogueLibrary,
    settings: EldercareInterpretations,
    jurisdiction: str,
    month: YearMonth,
    page: PageParams,
) -> tuple[list[MissingVisit], int]:
    codes = [code for code in registry().subtree(jurisdiction) if library.city_of(code) is not None]
    if not codes:
        raise InvalidInput.field("query.jurisdiction", f"no service catalogue covers {jurisdiction}")
    effective = await library.effective_many(session, codes, on=month.first_day)
    rules: dict[int, tuple[list[str], Condition]] = {}
    for code, found in effective.items():
        item = found.catalogue.items[VISIT_ITEM]
        rules.setdefault(id(item.eligibility), ([], item.eligibility))[0].append(code)
    rows, total = await repository.missing_visits(session, list(rules.values()), month, settings, page)
    return [
        MissingVisit(
            person_id=row.id,
            name=row.name,
            citizen_id=row.citizen_id_masked,
            jurisdiction=row.jurisdiction,
            age=row.age,
            groups=visit_groups(row),
            last_visited_on=row.last_visited_on,
        )
        for row in rows
    ], total
