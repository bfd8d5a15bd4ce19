"""Every query of the county overrides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.models import CatalogueOverrideVersion


async def latest_ids(session: AsyncSession, jurisdictions: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The newest saved overrides of each jurisdiction: ``{code: (row id, version)}``."""
    rows = await session.execute(
        select(
            CatalogueOverrideVersion.jurisdiction,
            CatalogueOverrideVersion.id,
            CatalogueOverrideVersion.version,
        )
        .where(CatalogueOverrideVersion.jurisdiction.in_(jurisdictions))
        .order_by(CatalogueOverrideVersion.jurisdiction, CatalogueOverrideVersion.version.desc())
        .ext(distinct_on(CatalogueOverrideVersion.jurisdiction))
    )
    return {row.jurisdiction: (row.id, row.version) for row in rows}


async def latest(session: AsyncSession, jurisdiction: str) -> CatalogueOverrideVersion | None:
    return await session.scalar(
        select(CatalogueOverrideVersion)
        .where(CatalogueOverrideVersion.jurisdiction == jurisdiction)
        .order_by(CatalogueOverrideVersion.version.desc())
        .limit(1)
    )


async def by_id(session: AsyncSession, row_id: int) -> CatalogueOverrideVersion | None:
    return await session.get(CatalogueOverrideVersion, row_id)


async def lock_jurisdiction(session: AsyncSession, jurisdiction: str) -> None:
    """Serialise saves of one county's overrides until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"eldercare.catalogue:{jurisdiction}"}
    )
