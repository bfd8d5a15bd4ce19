"""Queries for adjustments, circumstance findings, incidents, computed and published results."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.evaluation.models import (
    Adjustment,
    CircumstanceFinding,
    Incident,
    PublishedResult,
    Result,
)


async def adjustments_of(session: AsyncSession, subject_ids: Collection[uuid.UUID]) -> Sequence[Adjustment]:
    """The subjects' bonuses and deductions, in the order they were recorded."""
    query = (
        select(Adjustment)
        .where(Adjustment.subject_id.in_(list(subject_ids)))
        .order_by(Adjustment.recorded_at, Adjustment.id)
    )
    return (await session.scalars(query)).all()


async def findings_of(
    session: AsyncSession, subject_ids: Collection[uuid.UUID]
) -> Sequence[CircumstanceFinding]:
    """The subjects' downgrade and veto circumstances, in the order they were recorded."""
    query = (
        select(CircumstanceFinding)
        .where(CircumstanceFinding.subject_id.in_(list(subject_ids)))
        .order_by(CircumstanceFinding.recorded_at, CircumstanceFinding.id)
    )
    return (await session.scalars(query)).all()


async def incidents_counted_in(
    session: AsyncSession, scheme: str, year: int, *, jurisdictions: Collection[str] | None = None
) -> Sequence[Incident]:
    """The incidents counted against ``year`` (carried back ones too), by day;
    ``jurisdictions``: only those in these areas."""
    query = select(Incident).where(Incident.scheme == scheme, Incident.counted_year == year)
    if jurisdictions is not None:
        query = query.where(Incident.jurisdiction.in_(list(jurisdictions)))
    return (await session.scalars(query.order_by(Incident.occurred_on))).all()


async def results_of(session: AsyncSession, subject_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Result]:
    """Each subject's kept result, by subject id."""
    rows = await session.scalars(select(Result).where(Result.subject_id.in_(list(subject_ids))))
    return {row.subject_id: row for row in rows}


async def publications_of(session: AsyncSession, subject_id: uuid.UUID) -> int:
    """How often the subject's result has been published."""
    count = await session.scalar(
        select(func.count()).select_from(PublishedResult).where(PublishedResult.subject_id == subject_id)
    )
    return count or 0


async def latest_published(
    session: AsyncSession, scheme: str, years: Collection[int]
) -> dict[int, dict[str, PublishedResult]]:
    """Year → subject code → its last published result (a reopening publishes again)."""
    rows = await session.scalars(
        select(PublishedResult)
        .where(PublishedResult.scheme == scheme, PublishedResult.year.in_(list(years)))
        .order_by(PublishedResult.year, PublishedResult.publication, PublishedResult.recorded_at)
    )
    latest: dict[int, dict[str, PublishedResult]] = defaultdict(dict)
    for row in rows:
        latest[row.year][row.subject_code] = row
    return latest
