"""Every query of the register."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.register.models import Circumstances, Person
from eldercare.register.schemas import CircumstanceFields
from shared.access import paginate, within_scope
from shared.auth import Principal
from shared.pagination import PageParams

CIRCUMSTANCE_FIELDS: tuple[str, ...] = tuple(CircumstanceFields.model_fields)
"""The profile fields kept as circumstances (all but birth date and sex)."""


def facts_of(circumstances: Any) -> dict[str, ColumnElement[Any]]:
    """The columns of a (possibly outer-joined) circumstances alias, by profile field, and the
    person's sex: what :func:`eldercare.catalogues.sql.condition_sql` reads."""
    facts: dict[str, ColumnElement[Any]] = {
        name: getattr(circumstances, name) for name in CIRCUMSTANCE_FIELDS
    }
    facts["sex"] = Person.sex.expression
    return facts


def in_force_on(
    day: dt.date | ColumnElement[dt.date], circumstances: Any = Circumstances
) -> ColumnElement[bool]:
    """The circumstances version in force on ``day``: the one condition every query of "the
    circumstances in force on a day" uses. ``circumstances`` is the table or an alias of it
    (a day may be a column, e.g. a birthday, for set-based queries)."""
    return and_(
        circumstances.effective_from <= day,
        or_(circumstances.superseded_from.is_(None), circumstances.superseded_from > day),
    )


async def persons_page(
    session: AsyncSession, *, principal: Principal, jurisdictions: Sequence[str] | None, page: PageParams
) -> tuple[Sequence[Person], int]:
    """Registered persons the caller may see (in ``jurisdictions`` when given), oldest entry first."""
    query = persons_query(principal=principal, jurisdictions=jurisdictions)
    return await paginate(session, query, page, Person.created_at, Person.id)


def persons_query(*, principal: Principal, jurisdictions: Sequence[str] | None) -> Select[Person]:
    """Registered persons the caller may see (in ``jurisdictions`` when given)."""
    query = within_scope(select(Person), Person.jurisdiction, principal)
    if jurisdictions is not None:
        query = query.where(Person.jurisdiction.in_(jurisdictions))
    return query


async def circumstances_page(
    session: AsyncSession, person_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Circumstances], int]:
    """Every version of a person's circumstances, oldest first."""
    query = select(Circumstances).where(Circumstances.person_id == person_id)
    return await paginate(session, query, page, Circumstances.effective_from)


async def circumstances_in_force(
    session: AsyncSession, person_ids: Sequence[uuid.UUID], day: dt.date
) -> dict[uuid.UUID, Circumstances]:
    rows = await session.scalars(
        select(Circumstances).where(Circumstances.person_id.in_(person_ids), in_force_on(day))
    )
    return {row.person_id: row for row in rows}


async def has_version_on(session: AsyncSession, person_id: uuid.UUID, effective_from: dt.date) -> bool:
    found = await session.scalar(
        select(Circumstances.id).where(
            Circumstances.person_id == person_id, Circumstances.effective_from == effective_from
        )
    )
    return found is not None


async def next_version_start(
    session: AsyncSession, person_id: uuid.UUID, effective_from: dt.date
) -> dt.date | None:
    """The day the next later version starts, if one was recorded already."""
    return await session.scalar(
        select(func.min(Circumstances.effective_from)).where(
            Circumstances.person_id == person_id, Circumstances.effective_from > effective_from
        )
    )


async def supersede(session: AsyncSession, person_id: uuid.UUID, effective_from: dt.date) -> None:
    """End the version in force before ``effective_from`` on that day."""
    await session.execute(
        update(Circumstances)
        .where(
            Circumstances.person_id == person_id,
            Circumstances.effective_from < effective_from,
            or_(Circumstances.superseded_from.is_(None), Circumstances.superseded_from > effective_from),
        )
        .values(superseded_from=effective_from)
    )
