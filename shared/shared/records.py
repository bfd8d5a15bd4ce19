"""Tables every service keeps in its own schema: idempotency keys, the audit log and the
outbox of change events. Created by every service's first migrations through
:mod:`shared.migration_ops`, so the four schemas hold the same tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
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
        Column(
            "response_headers",
            JSONB,
            comment="headers of the first answer (ETag, Location, Content-Type) replayed with it",
        ),
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


def outbox_table(metadata: MetaData) -> Table:
    """Change events, written in the same transaction as the change (transactional outbox).

    ``sequence`` is taken at insert; ``transaction_id`` (``pg_current_xact_id()``) lets a reader
    take only events whose transaction and every earlier one have finished, so a cursor never
    passes an event that commits late. Append-only, like the audit log.
    """
    return Table(
        "outbox",
        metadata,
        Column("sequence", BigInteger, Identity(always=True), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True, comment="the event id, one for life"),
        Column(
            "transaction_id",
            BigInteger,
            nullable=False,
            server_default=text("(pg_current_xact_id()::text)::bigint"),
            comment="the writing transaction's id (xid8 with its epoch, as a number)",
        ),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("type", String(128), nullable=False),
        Column("subject", Text, nullable=False),
        Column("jurisdiction", String(32)),
        Column("data", JSONB, nullable=False),
        Column("actor", String(200)),
        Column("request_id", String(128)),
        Index(None, "type"),
    )


@dataclass(frozen=True)
class PlatformTables:
    """The per-service tables the write path writes to."""

    audit_log: Table
    idempotency_keys: Table
    outbox: Table | None

    @classmethod
    def declare(cls, metadata: MetaData) -> PlatformTables:
        """Declare the tables in ``metadata`` (a service's ``db.py`` does this once)."""
        return cls(audit_table(metadata), idempotency_table(metadata), outbox_table(metadata))

    @classmethod
    def of(cls, metadata: MetaData) -> PlatformTables:
        """The tables already declared in ``metadata``."""
        schema = metadata.schema
        return cls(
            metadata.tables[f"{schema}.audit_log"],
            metadata.tables[f"{schema}.idempotency_keys"],
            metadata.tables.get(f"{schema}.outbox"),
        )
