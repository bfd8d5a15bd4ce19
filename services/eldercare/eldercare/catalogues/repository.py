"""Every query of the county overrides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.models import CatalogueOverrideVersion


async def newest_row_ids(session: AsyncSession, jurisdictions: Sequence[str]) -> dict[str, int]:
    """The id of the newest saved overrides row of each jurisdiction that has one (a cache key:
    rows are never rewritten, so an unchanged newest id means an unchanged history)."""
    rows = await session.execute(
        select(CatalogueOverrideVersion.jurisdiction, func.max(CatalogueOverrideVersion.id))
        .where(CatalogueOverrideVersion.jurisdiction.in_(jurisdictions))
        .group_by(CatalogueOverrideVersion.jurisdiction)
    )
    return {str(row[0]): int(row[1]) for row in rows.all()}


async def versions(session: AsyncSession, jurisdiction: str) -> list[CatalogueOverrideVersion]:
    """Every saved version of a county's overrides, in the order they were recorded."""
    rows = await session.scalars(
        select(CatalogueOverrideVersion)
        .where(CatalogueOverrideVersion.jurisdiction == jurisdiction)
        .order_by(CatalogueOverrideVersion.version)
    )
    return list(rows)


async def lock_jurisdiction(session: AsyncSession, jurisdiction: str) -> None:
    """Serialise saves of one county's overrides until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"eldercare.catalogue:{jurisdiction}"}
    )
