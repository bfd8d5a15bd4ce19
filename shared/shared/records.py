"""Tables every service keeps in its own schema: idempotency keys, the audit log and the
outbox of change events. Created by every service's first migrations through
:mod:`shared.migration_ops`, so the four schemas hold the same tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
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
        Index("ix_outbox_position", "transaction_id", "sequence"),
    )


def webhook_subscriptions_table(metadata: MetaData) -> Table:
    """Webhook subscriptions: each owned by the API client that made it, seeing what it may see."""
    return Table(
        "webhook_subscriptions",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("version", Integer, nullable=False, server_default=text("1")),
        Column("owner", String(200), nullable=False, comment="the API client (or subject) that made it"),
        Column("owner_scopes", JSONB, nullable=False, comment="the owner's scopes, as of its last change"),
        Column(
            "owner_jurisdictions",
            JSONB,
            nullable=False,
            comment="the owner's jurisdictions, as of its last change",
        ),
        Column(
            "owner_subject",
            String(200),
            comment="the owner's token subject (client:<id>): its revocations pause the subscription",
        ),
        Column(
            "grants_issued_at",
            DateTime(timezone=True),
            comment="when the token that confirmed owner_scopes/owner_jurisdictions was issued",
        ),
        Column(
            "grants_checked_at",
            DateTime(timezone=True),
            comment="the revocation list found nothing against those grants as of this instant",
        ),
        Column("url", Text, nullable=False),
        Column("types", JSONB, nullable=False, comment="event types delivered; empty: every type"),
        Column("description", Text, nullable=False, server_default=""),
        Column("active", Boolean, nullable=False, server_default=text("true")),
        Column("paused_reason", Text),
        Column("secret", Text, nullable=False),
        Column("previous_secret", Text),
        Column("previous_secret_until", DateTime(timezone=True)),
        Column("after_transaction_id", BigInteger, nullable=False, comment="events up to here are queued"),
        Column("after_sequence", BigInteger, nullable=False),
        Column("lease_owner", String(200), comment="the replica delivering now"),
        Column("lease_until", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def webhook_deliveries_table(metadata: MetaData) -> Table:
    """One row per (subscription, event): its attempts, last answer and next retry."""
    schema = metadata.schema
    return Table(
        "webhook_deliveries",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column(
            "subscription_id",
            Uuid,
            ForeignKey(f"{schema}.webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", String(128), nullable=False),
        Column("transaction_id", BigInteger, nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("status", String(16), nullable=False, comment="pending, delivered, failed or withheld"),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_status_code", Integer),
        Column("last_error", Text),
        Column("last_attempt_at", DateTime(timezone=True)),
        Column("next_attempt_at", DateTime(timezone=True)),
        Column("delivered_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_queue", "subscription_id", "status", "transaction_id", "sequence"),
        Index(
            "ix_webhook_deliveries_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")
        ),
    )


def event_publications_table(metadata: MetaData) -> Table:
    """How far each transport (NATS) has published the outbox: one row per transport."""
    return Table(
        "event_publications",
        metadata,
        Column("transport", String(64), primary_key=True),
        Column("after_transaction_id", BigInteger, nullable=False),
        Column("after_sequence", BigInteger, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def scheduled_events_table(metadata: MetaData) -> Table:
    """The keys of the events the scheduler has written (one row per key, written in the
    transaction of its event): a key is emitted once, whichever replica or round gets there."""
    return Table(
        "scheduled_events",
        metadata,
        Column("key", String(300), primary_key=True),
        Column("event_id", Uuid, nullable=False),
        Column("emitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@dataclass(frozen=True)
class PlatformTables:
    """The per-service tables the write path writes to."""

    audit_log: Table
    idempotency_keys: Table
    outbox: Table | None
    webhook_subscriptions: Table | None = None
    webhook_deliveries: Table | None = None
    event_publications: Table | None = None
    scheduled_events: Table | None = None

    @classmethod
    def declare(cls, metadata: MetaData) -> PlatformTables:
        """Declare the tables in ``metadata`` (a service's ``db.py`` does this once)."""
        return cls(
            audit_table(metadata),
            idempotency_table(metadata),
            outbox_table(metadata),
            webhook_subscriptions_table(metadata),
            webhook_deliveries_table(metadata),
            event_publications_table(metadata),
            scheduled_events_table(metadata),
        )

    @classmethod
    def of(cls, metadata: MetaData) -> PlatformTables:
        """The tables already declared in ``metadata``."""
        schema = metadata.schema
        return cls(
            metadata.tables[f"{schema}.audit_log"],
            metadata.tables[f"{schema}.idempotency_keys"],
            metadata.tables.get(f"{schema}.outbox"),
            metadata.tables.get(f"{schema}.webhook_subscriptions"),
            metadata.tables.get(f"{schema}.webhook_deliveries"),
            metadata.tables.get(f"{schema}.event_publications"),
            metadata.tables.get(f"{schema}.scheduled_events"),
        )
