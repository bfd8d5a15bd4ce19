"""Queries for rectification reports."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.rectification.models import RectificationReport


async def reports_of(
    session: AsyncSession, subject_ids: Collection[uuid.UUID]
) -> Sequence[RectificationReport]:
    """Every rectification report of the subjects (one per publication)."""
    query = select(RectificationReport).where(RectificationReport.subject_id.in_(list(subject_ids)))
    return (await session.scalars(query)).all()
