"""Every query of reporting duties."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.duties.models import ReportingDuty


async def exists(session: AsyncSession, *, plan_id: str, task_number: int, unit: str) -> bool:
    duty_id = await session.scalar(
        select(ReportingDuty.id).where(
            ReportingDuty.plan_id == plan_id,
            ReportingDuty.task_number == task_number,
            ReportingDuty.unit == unit,
        )
    )
    return duty_id is not None


async def of_plan(session: AsyncSession, *, plan_id: str) -> Sequence[ReportingDuty]:
    rows = await session.scalars(
        select(ReportingDuty)
        .where(ReportingDuty.plan_id == plan_id)
        .order_by(ReportingDuty.task_number, ReportingDuty.unit)
    )
    return list(rows)
