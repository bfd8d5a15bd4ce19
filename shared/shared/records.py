"""Tables every service keeps in its own schema: idempotency keys and the audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("owner", String(200), nullable=False, comment="subject or client that sent the key"),
        Column("key", String(200), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response_body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("owner", "key"),
    )


def audit_table(metadata: MetaData) -> Table:
    """Append-only: the migration adds a trigger that refuses UPDATE and DELETE."""
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", String(200), nullable=False),
        Column("client_id", String(200)),
        Column("request_id", String(128)),
        Column("action", String(64), nullable=False),
        Column("entity", String(64), nullable=False),
        Column("entity_id", String(200), nullable=False),
        Column("jurisdiction", String(32)),
        Column("before", JSONB),
        Column("after", JSONB),
    )
