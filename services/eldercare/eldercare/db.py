"""The eldercare schema: metadata, declarative base, and the platform's per-service tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.personal_data import personal_data_access_table
from shared.records import PlatformTables

SCHEMA = "eldercare"
metadata = service_metadata(SCHEMA)
platform_tables = PlatformTables.declare(metadata)
audit_log = platform_tables.audit_log
personal_data_access = personal_data_access_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    # fetch server-set values (timestamps) with RETURNING, so no lazy load follows a flush
    __mapper_args__ = {"eager_defaults": True}
