"""Every query of the register."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.register.models import Circumstances, Person
from eldercare.register.schemas import CircumstanceFields

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


def in_force_on(day: dt.date | ColumnElement[dt.date]) -> ColumnElement[bool]:
    """The circumstances version in force on ``day``."""
    return and_(
        Circumstances.effective_from <= day,
        or_(Circumstances.superseded_from.is_(None), Circumstances.superseded_from > day),
    )


async def person_by_citizen_id_hash(session: AsyncSession, lookup_hash: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.citizen_id_hash == lookup_hash))


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
