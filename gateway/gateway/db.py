"""The gateway's schema ``iam``: accounts, API clients, signing keys."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import ServerDefaultsReturned, service_metadata
from shared.records import audit_table, idempotency_table

SCHEMA = "iam"
metadata = service_metadata(SCHEMA)
audit_log = audit_table(metadata)
idempotency_keys = idempotency_table(metadata)


class Base(ServerDefaultsReturned, DeclarativeBase):
    metadata = metadata
