"""Queries for score entries, mid-year reviews, status evaluations, self-evaluations and
review opinions."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment.models import (
    MidYearReview,
    ReviewOpinion,
    ScoreEntry,
    SelfEvaluation,
    StatusEvaluation,
)
from appraisal.years.models import Indicator, Subject

ScoreRow = tuple[ScoreEntry, Subject, Indicator]
OpinionRow = tuple[ReviewOpinion, Subject, Indicator]


async def score_entry(session: AsyncSession, year_id: uuid.UUID, entry_id: uuid.UUID) -> ScoreRow | None:
    """A score entry of the year with its subject and indicator."""
    query = (
        select(ScoreEntry, Subject, Indicator)
        .join(Subject, Subject.id == ScoreEntry.subject_id)
        .join(Indicator, Indicator.id == ScoreEntry.indicator_id)
        .where(ScoreEntry.id == entry_id, ScoreEntry.year_id == year_id)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def score_entries(
    session: AsyncSession,
    year_id: uuid.UUID,
    *,
    departments: Collection[str] | None,
    subject: str | None,
    indicator: str | None,
) -> list[ScoreRow]:
    """The year's score entries by subject and indicator code; ``departments``: only theirs."""
    query = (
        select(ScoreEntry, Subject, Indicator)
        .join(Subject, Subject.id == ScoreEntry.subject_id)
        .join(Indicator, Indicator.id == ScoreEntry.indicator_id)
        .where(ScoreEntry.year_id == year_id)
    )
    if departments is not None:
        query = query.where(ScoreEntry.department.in_(list(departments)))
    if subject is not None:
        query = query.where(Subject.code == subject)
    if indicator is not None:
        query = query.where(Indicator.code == indicator)
    rows = await session.execute(query.order_by(Subject.code, Indicator.code))
    return [(row[0], row[1], row[2]) for row in rows.all()]


async def score_points(
    session: AsyncSession, year_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID, Decimal]]:
    """(subject id, indicator id, points) of every score entry of the year."""
    query = select(ScoreEntry.subject_id, ScoreEntry.indicator_id, ScoreEntry.points).where(
        ScoreEntry.year_id == year_id
    )
    return [
        (subject_id, indicator_id, points)
        for subject_id, indicator_id, points in await session.execute(query)
    ]


async def review_points(
    session: AsyncSession, year_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID, Decimal]]:
    """(subject id, indicator id, points) of every review opinion of the year."""
    query = select(ReviewOpinion.subject_id, ReviewOpinion.indicator_id, ReviewOpinion.points).where(
        ReviewOpinion.year_id == year_id
    )
    return [
        (subject_id, indicator_id, points)
        for subject_id, indicator_id, points in await session.execute(query)
    ]


async def review_opinions(
    session: AsyncSession, year_id: uuid.UUID, *, departments: Collection[str] | None
) -> list[OpinionRow]:
    """The year's review opinions by subject and indicator code; ``departments``: only theirs."""
    query = (
        select(ReviewOpinion, Subject, Indicator)
        .join(Subject, Subject.id == ReviewOpinion.subject_id)
        .join(Indicator, Indicator.id == ReviewOpinion.indicator_id)
        .where(ReviewOpinion.year_id == year_id)
    )
    if departments is not None:
        query = query.where(ReviewOpinion.department.in_(list(departments)))
    rows = await session.execute(query.order_by(Subject.code, Indicator.code))
    return [(row[0], row[1], row[2]) for row in rows.all()]


async def mid_year_review(session: AsyncSession, subject_id: uuid.UUID) -> MidYearReview | None:
    return await session.scalar(select(MidYearReview).where(MidYearReview.subject_id == subject_id))


async def subjects_not_rectified(
    session: AsyncSession, subject_ids: Collection[uuid.UUID]
) -> list[uuid.UUID]:
    """Subjects whose mid-year review records last year's problems as not rectified."""
    query = select(MidYearReview.subject_id).where(
        MidYearReview.subject_id.in_(list(subject_ids)), MidYearReview.last_year_rectified.is_(False)
    )
    return list(await session.scalars(query))


async def status_evaluation(session: AsyncSession, subject_id: uuid.UUID) -> StatusEvaluation | None:
    return await session.scalar(select(StatusEvaluation).where(StatusEvaluation.subject_id == subject_id))


async def self_evaluation(session: AsyncSession, subject_id: uuid.UUID) -> SelfEvaluation | None:
    return await session.scalar(select(SelfEvaluation).where(SelfEvaluation.subject_id == subject_id))
