"""The eldercare schema: metadata, declarative base, and the platform's per-service tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.records import audit_table, idempotency_table

SCHEMA = "eldercare"
metadata = service_metadata(SCHEMA)
audit_log = audit_table(metadata)
idempotency_keys = idempotency_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    # fetch server-set values (timestamps) with RETURNING, so no lazy load follows a flush
    __mapper_args__ = {"eager_defaults": True}
