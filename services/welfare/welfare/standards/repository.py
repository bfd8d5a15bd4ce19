"""The queries of the standards: versions added through the API, and whether months are paid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from welfare.payroll.models import LedgerEntry
from welfare.standards.models import AddedStandardVersion


async def added_versions(session: AsyncSession) -> Sequence[AddedStandardVersion]:
    """Every row in the order it was recorded."""
    query = select(AddedStandardVersion).order_by(AddedStandardVersion.created_at, AddedStandardVersion.id)
    return (await session.scalars(query)).all()


async def version_id_taken(session: AsyncSession, version_id: str) -> bool:
    found = await session.scalar(select(exists().where(AddedStandardVersion.version_id == version_id)))
    return bool(found)


async def paid_since(session: AsyncSession, *, scope: list[str], from_month: dt.date) -> bool:
    """Whether the ledger has entries of ``scope`` from ``from_month`` on."""
    found = await session.scalar(
        select(exists().where(LedgerEntry.month >= from_month, LedgerEntry.jurisdiction.in_(scope)))
    )
    return bool(found)
