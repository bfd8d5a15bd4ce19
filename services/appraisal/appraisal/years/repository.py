"""Queries for years, subjects, transitions, indicators and rules publications."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.years.models import AppraisalYear, Indicator, RulesPublication, Subject, Transition


async def years_numbered(session: AsyncSession, year: int, scheme: str | None) -> Sequence[AppraisalYear]:
    query = select(AppraisalYear).where(AppraisalYear.year == year)
    if scheme is not None:
        query = query.where(AppraisalYear.scheme == scheme)
    return (await session.scalars(query.order_by(AppraisalYear.scheme))).all()


async def years_of_scheme(session: AsyncSession, scheme: str) -> Sequence[AppraisalYear]:
    query = select(AppraisalYear).where(AppraisalYear.scheme == scheme).order_by(AppraisalYear.year)
    return (await session.scalars(query)).all()


async def every_year(session: AsyncSession) -> Sequence[AppraisalYear]:
    """Every appraisal year of every scheme, by scheme and year."""
    return (
        await session.scalars(select(AppraisalYear).order_by(AppraisalYear.scheme, AppraisalYear.year))
    ).all()


async def lock_year(session: AsyncSession, year_id: uuid.UUID) -> AppraisalYear:
    """The year row, locked (and read again): computations that rank all subjects run one at
    a time."""
    query = (
        select(AppraisalYear)
        .where(AppraisalYear.id == year_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one()


async def subjects_of(session: AsyncSession, year_id: uuid.UUID, *, lock: bool = False) -> list[Subject]:
    query = select(Subject).where(Subject.year_id == year_id).order_by(Subject.code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list((await session.scalars(query)).all())


async def subject_by_code(session: AsyncSession, year_id: uuid.UUID, code: str) -> Subject | None:
    query = select(Subject).where(Subject.year_id == year_id, Subject.code == code)
    return (await session.scalars(query)).one_or_none()


async def stage_counts(session: AsyncSession, year_id: uuid.UUID) -> list[tuple[str, int]]:
    query = (
        select(Subject.stage, func.count())
        .where(Subject.year_id == year_id)
        .group_by(Subject.stage)
        .order_by(Subject.stage)
    )
    return [(stage, count) for stage, count in (await session.execute(query)).all()]


async def transitions_of(session: AsyncSession, subject_ids: Sequence[uuid.UUID]) -> Sequence[Transition]:
    query = select(Transition).where(Transition.subject_id.in_(subject_ids)).order_by(Transition.id)
    return (await session.scalars(query)).all()


async def indicators_of(session: AsyncSession, year_id: uuid.UUID) -> list[Indicator]:
    query = select(Indicator).where(Indicator.year_id == year_id).order_by(Indicator.code)
    return list((await session.scalars(query)).all())


async def indicator_by_code(session: AsyncSession, year_id: uuid.UUID, code: str) -> Indicator | None:
    query = select(Indicator).where(Indicator.year_id == year_id, Indicator.code == code)
    return (await session.scalars(query)).one_or_none()


async def rules_publications_of(session: AsyncSession, year_id: uuid.UUID) -> list[RulesPublication]:
    query = select(RulesPublication).where(RulesPublication.year_id == year_id)
    return list((await session.scalars(query.order_by(RulesPublication.document))).all())


async def years_latest_first(session: AsyncSession, scheme: str | None) -> Sequence[AppraisalYear]:
    """Every year (of ``scheme``), latest first."""
    query = select(AppraisalYear)
    if scheme is not None:
        query = query.where(AppraisalYear.scheme == scheme)
    return (await session.scalars(query.order_by(AppraisalYear.year.desc(), AppraisalYear.scheme))).all()
