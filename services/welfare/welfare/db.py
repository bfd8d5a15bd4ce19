"""The welfare schema: metadata, declarative base, and the platform's per-service tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import ServerDefaultsReturned, service_metadata
from shared.personal_data import personal_data_access_table
from shared.records import PlatformTables

SCHEMA = "welfare"
metadata = service_metadata(SCHEMA)
platform_tables = PlatformTables.declare(metadata)
personal_data_access = personal_data_access_table(metadata)


class Base(ServerDefaultsReturned, DeclarativeBase):
    metadata = metadata
