"""The visit report's query: persons due a visit in a month with none recorded, in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, Integer, and_, cast, exists, extract, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from eldercare.catalogues.pack import Condition
from eldercare.catalogues.sql import condition_sql
from eldercare.interpretations import EldercareInterpretations
from eldercare.register.models import Circumstances, Person
from eldercare.register.repository import facts_of, in_force_on
from eldercare.visits.models import Visit
from shared.access import paginate
from shared.months import YearMonth
from shared.pagination import PageParams


async def missing_visits(
    session: AsyncSession,
    groups: Sequence[tuple[Sequence[str], Condition]],
    month: YearMonth,
    settings: EldercareInterpretations,
    page: PageParams,
) -> tuple[list[Any], int]:
    """``groups``: jurisdictions sharing a catalogue, with that catalogue's visit-item rule."""
    first, last = month.first_day, month.last_day
    c = aliased(Circumstances, name="c")
    facts = facts_of(c)
    age = cast(extract("year", func.age(literal(first, Date), Person.birth_date)), Integer)
    due = or_(
        *(
            and_(Person.jurisdiction.in_(codes), condition_sql(rule, facts, age, settings))
            for codes, rule in groups
        )
    )
    visited = exists().where(Visit.person_id == Person.id, Visit.visited_on.between(first, last))
    last_visit = select(func.max(Visit.visited_on)).where(Visit.person_id == Person.id).scalar_subquery()
    query = (
        select(
            Person.id,
            Person.name,
            Person.citizen_id_masked,
            Person.jurisdiction,
            age.label("age"),
            c.living_arrangement,
            c.ability_level,
            c.disability_grade,
            c.family_planning_special,
            last_visit.label("last_visited_on"),
        )
        .select_from(Person)
        .outerjoin(c, and_(c.person_id == Person.id, in_force_on(first, c)))
        .where(
            Person.birth_date <= first,
            or_(Person.left_on.is_(None), Person.left_on > first),
            due,
            ~visited,
        )
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Person.jurisdiction, Person.name, Person.id).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


async def person_visits(
    session: AsyncSession, person_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Visit], int]:
    """A person's visits, newest first."""
    query = select(Visit).where(Visit.person_id == person_id)
    return await paginate(session, query, page, Visit.visited_on.desc(), Visit.created_at.desc())
