"""Every query of leader absences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.leader_absences.models import LeaderAbsence


async def away_on(session: AsyncSession, *, plan_id: str, on: dt.date) -> set[str]:
    """Names of the leaders recorded as away on ``on``."""
    rows = await session.scalars(
        select(LeaderAbsence.leader).where(
            LeaderAbsence.plan_id == plan_id, LeaderAbsence.away_from <= on, LeaderAbsence.away_to >= on
        )
    )
    return set(rows)


async def overlapping(
    session: AsyncSession, *, plan_id: str, leader: str, away_from: dt.date, away_to: dt.date
) -> LeaderAbsence | None:
    """A recorded absence of ``leader`` whose days overlap ``away_from``..``away_to``."""
    found: LeaderAbsence | None = await session.scalar(
        select(LeaderAbsence)
        .where(
            LeaderAbsence.plan_id == plan_id,
            LeaderAbsence.leader == leader,
            LeaderAbsence.away_from <= away_to,
            LeaderAbsence.away_to >= away_from,
        )
        .order_by(LeaderAbsence.away_from)
        .limit(1)
    )
    return found


async def of_plan(
    session: AsyncSession, *, plan_id: str, limit: int, offset: int
) -> tuple[Sequence[LeaderAbsence], int]:
    where = LeaderAbsence.plan_id == plan_id
    total = await session.scalar(select(func.count()).select_from(LeaderAbsence).where(where)) or 0
    rows = await session.scalars(
        select(LeaderAbsence)
        .where(where)
        .order_by(LeaderAbsence.away_from, LeaderAbsence.leader, LeaderAbsence.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
