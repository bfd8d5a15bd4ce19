"""The discovery query: birthdays and circumstance changes that make items apply, in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from eldercare.catalogues.sql import Facts, ages_in, condition_sql
from eldercare.discoveries.events import ItemWatch
from eldercare.interpretations import EldercareInterpretations
from eldercare.projection import service as projection
from eldercare.register.models import Circumstances, Person
from eldercare.register.repository import CIRCUMSTANCE_FIELDS, facts_of
from shared.pagination import PageParams

INT_ARRAY = ARRAY(Integer)


@dataclass(frozen=True)
class Group:
    """Jurisdictions that share one effective catalogue, and what to watch in it."""

    jurisdictions: Sequence[str]
    watches: Sequence[ItemWatch]
    ages: Sequence[int]


def birthday_at(age: int) -> ColumnElement[dt.date]:
    """The day a person turns ``age`` (周岁); born on 29 February: 1 March in other years."""
    first_of_month = func.date_trunc("month", Person.birth_date) + func.make_interval(age)
    return cast(first_of_month, Date) + (cast(extract("day", Person.birth_date), Integer) - 1)


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _items(cases: list[tuple[ColumnElement[bool], int]]) -> ColumnElement[Any]:
    if not cases:
        return cast(literal_column("'{}'"), INT_ARRAY)
    elements: list[Any] = [case((condition, literal(number)), else_=null()) for condition, number in cases]
    items: array[Any] = array(elements, type_=Integer)
    return func.array_remove(items, null(), type_=INT_ARRAY)


def _holds(
    watch: ItemWatch,
    facts: Facts,
    age: int | ColumnElement[int],
    settings: EldercareInterpretations,
    part: Any = None,
) -> ColumnElement[bool]:
    condition = condition_sql(watch.eligibility, facts, age, settings)
    if part is not None and part.component.eligibility is not None:
        condition = and_(condition, condition_sql(part.component.eligibility, facts, age, settings))
    return condition


def _alive_and_registered(day: Any) -> ColumnElement[bool]:
    return and_(Person.birth_date <= day, or_(Person.left_on.is_(None), Person.left_on > day))


def birthday_branch(
    group: Group,
    age: int,
    start: dt.date,
    end: dt.date,
    settings: EldercareInterpretations,
    *,
    projected: bool = False,
) -> Select[Any] | None:
    c = aliased(Circumstances, name="c")
    facts = facts_of(c)
    if projected:  # dibao and tekun in the birthday's month from the projection of welfare's register
        facts = projection.projected_facts(facts, Person.citizen_id_hash, birthday_at(age))
    eligible: list[tuple[ColumnElement[bool], int]] = []
    amounts: list[tuple[ColumnElement[bool], int]] = []
    for watch in group.watches:
        if age in ages_in(watch.eligibility, settings):
            eligible.append(
                (
                    and_(_holds(watch, facts, age, settings), ~_holds(watch, facts, age - 1, settings)),
                    watch.number,
                )
            )
        for part in watch.money:
            rises = age in part.band_changes
            newly = part.component.eligibility is not None and age in ages_in(
                part.component.eligibility, settings
            )
            if not (rises or newly):
                continue
            condition = and_(
                _holds(watch, facts, age, settings, part), _holds(watch, facts, age - 1, settings)
            )
            if newly and not rises:
                condition = and_(condition, ~_holds(watch, facts, age - 1, settings, part))
            amounts.append((condition, watch.number))
    if not eligible and not amounts:
        return None
    birthday = birthday_at(age)
    return (
        select(
            Person.id.label("person_id"),
            literal("birthday").label("event"),
            birthday.label("event_on"),
            literal(age).label("age"),
            _items(eligible).label("eligible"),
            _items(amounts).label("amounts"),
            cast(null(), JSONB).label("before"),
            cast(null(), JSONB).label("after"),
        )
        .select_from(Person)
        .outerjoin(
            c,
            and_(
                c.person_id == Person.id,
                c.effective_from <= birthday,
                or_(c.superseded_from.is_(None), c.superseded_from > birthday),
            ),
        )
        .where(
            Person.jurisdiction.in_(group.jurisdictions),
            # a range on the indexed birth date first, then the exact day
            Person.birth_date.between(
                _shift_years(start, -age) - dt.timedelta(days=3), _shift_years(end, -age)
            ),
            birthday.between(start, end),
            or_(Person.left_on.is_(None), Person.left_on > birthday),
        )
    )


def _fields_json(circumstances: Any) -> ColumnElement[Any]:
    pairs: list[Any] = []
    for name in CIRCUMSTANCE_FIELDS:
        pairs.extend((literal(name), getattr(circumstances, name)))
    return func.jsonb_build_object(*pairs, type_=JSONB)


def circumstances_branch(
    group: Group,
    start: dt.date,
    end: dt.date,
    settings: EldercareInterpretations,
    *,
    projected: bool = False,
) -> Select[Any]:
    new = aliased(Circumstances, name="new")
    old = aliased(Circumstances, name="old")
    now, before = facts_of(new), facts_of(old)
    if projected:
        # welfare decides dibao and tekun: a change of the register's flags alone is no event
        now = projection.projected_facts(now, Person.citizen_id_hash, new.effective_from)
        before = projection.projected_facts(before, Person.citizen_id_hash, new.effective_from)
    age = cast(extract("year", func.age(new.effective_from, Person.birth_date)), Integer)
    eligible = []
    amounts = []
    for watch in group.watches:
        holds_now, held = _holds(watch, now, age, settings), _holds(watch, before, age, settings)
        eligible.append((and_(holds_now, ~held), watch.number))
        for part in watch.money:
            if part.component.eligibility is None:
                continue
            amounts.append(
                (
                    and_(
                        holds_now,
                        held,
                        _holds(watch, now, age, settings, part),
                        ~_holds(watch, before, age, settings, part),
                    ),
                    watch.number,
                )
            )
    return (
        select(
            Person.id.label("person_id"),
            literal("circumstances").label("event"),
            new.effective_from.label("event_on"),
            age.label("age"),
            _items(eligible).label("eligible"),
            _items(amounts).label("amounts"),
            _fields_json(old).label("before"),
            _fields_json(new).label("after"),
        )
        .select_from(new)
        .join(Person, Person.id == new.person_id)
        .join(old, and_(old.person_id == new.person_id, old.superseded_from == new.effective_from))
        .where(
            Person.jurisdiction.in_(group.jurisdictions),
            new.effective_from.between(start, end),
            _alive_and_registered(new.effective_from),
        )
    )


async def discoveries(
    session: AsyncSession,
    groups: Sequence[Group],
    start: dt.date,
    end: dt.date,
    settings: EldercareInterpretations,
    page: PageParams,
    *,
    projected: bool = False,
) -> tuple[list[Any], int]:
    """``projected``: dibao and tekun from the projection of welfare's register."""
    branches: list[Select[Any]] = []
    for group in groups:
        for age in group.ages:
            branch = birthday_branch(group, age, start, end, settings, projected=projected)
            if branch is not None:
                branches.append(branch)
        branches.append(circumstances_branch(group, start, end, settings, projected=projected))
    hits = union_all(*branches).subquery("hits")
    found = func.cardinality(hits.c.eligible) + func.cardinality(hits.c.amounts) > 0
    total = await session.scalar(select(func.count()).select_from(hits).where(found)) or 0
    rows = await session.execute(
        select(
            hits,
            Person.name,
            Person.citizen_id_masked,
            Person.jurisdiction,
        )
        .join(Person, Person.id == hits.c.person_id)
        .where(found)
        .order_by(hits.c.event_on, Person.jurisdiction, hits.c.person_id, hits.c.event)
        .limit(page.limit)
        .offset(page.offset)
    )
    return list(rows), total
