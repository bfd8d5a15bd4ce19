"""The renewal schema: metadata, declarative base, and the platform's per-service tables."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.errors import Conflict
from shared.records import PlatformTables

SCHEMA = "renewal"
metadata = service_metadata(SCHEMA)
platform_tables = PlatformTables.declare(metadata)
audit_log = platform_tables.audit_log


class Base(DeclarativeBase):
    metadata = metadata
    # fetch server-set values (timestamps) with RETURNING, so no lazy load follows a flush
    __mapper_args__ = {"eager_defaults": True}


async def flush_or_conflict(session: AsyncSession, message: str) -> None:
    """Flush; a unique constraint hit by a concurrent request becomes a 409, not a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc
