"""The appraisal schema: metadata, declarative base, and the platform's per-service tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import ServerDefaultsReturned, service_metadata
from shared.records import PlatformTables

SCHEMA = "appraisal"
metadata = service_metadata(SCHEMA)
platform_tables = PlatformTables.declare(metadata)


class Base(ServerDefaultsReturned, DeclarativeBase):
    metadata = metadata
