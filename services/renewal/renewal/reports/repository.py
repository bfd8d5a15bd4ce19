"""Every query of progress reports."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.reports.models import ProgressReport


@dataclass(frozen=True)
class ReportSeries:
    """The revisions of one unit's report on one task for one period."""

    plan_id: str
    task_number: int
    unit: str
    period: str


async def lock_series(session: AsyncSession, series: ReportSeries) -> None:
    """Serialize the revisions of ``series`` until the transaction ends (a transaction-level
    advisory lock: also across replicas and behind PgBouncer), so concurrent submissions
    number their revisions one after another."""
    key = f"renewal.progress_reports|{series.plan_id}|{series.task_number}|{series.unit}|{series.period}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def latest_revision(session: AsyncSession, series: ReportSeries) -> ProgressReport | None:
    return await session.scalar(
        select(ProgressReport)
        .where(
            ProgressReport.plan_id == series.plan_id,
            ProgressReport.task_number == series.task_number,
            ProgressReport.unit == series.unit,
            ProgressReport.period == series.period,
        )
        .order_by(ProgressReport.revision.desc())
        .limit(1)
    )


async def get(session: AsyncSession, report_id: uuid.UUID) -> ProgressReport | None:
    return await session.get(ProgressReport, report_id)


async def latest_of_task(
    session: AsyncSession, *, plan_id: str, task_number: int, limit: int
) -> Sequence[ProgressReport]:
    rows = await session.scalars(
        select(ProgressReport)
        .where(ProgressReport.plan_id == plan_id, ProgressReport.task_number == task_number)
        .order_by(ProgressReport.submitted_at.desc())
        .limit(limit)
    )
    return list(rows)


async def first_revisions(session: AsyncSession, *, plan_id: str) -> Sequence[ProgressReport]:
    """The first revision of every report of the plan: when each report was first submitted."""
    rows = await session.scalars(
        select(ProgressReport).where(ProgressReport.plan_id == plan_id, ProgressReport.revision == 1)
    )
    return list(rows)


async def counted_until(session: AsyncSession, *, plan_id: str, end: dt.datetime) -> Sequence[ProgressReport]:
    """Reports submitted by ``end`` that were not returned, oldest first (their values count)."""
    rows = await session.scalars(
        select(ProgressReport)
        .where(
            ProgressReport.plan_id == plan_id,
            ProgressReport.submitted_at <= end,
            ProgressReport.review_status != "returned",
        )
        .order_by(ProgressReport.submitted_at)
    )
    return list(rows)
