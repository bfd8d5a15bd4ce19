"""Migration steps every service's history shares (the platform's own tables).

A service's migration calls these with its schema, so the four histories create the same
tables the same way instead of four copies of the same DDL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def append_only(schema: str, table: str) -> None:
    """A trigger that refuses UPDATE and DELETE on ``schema.table``."""
    function = f"{schema}.refuse_change_{table}"
    op.execute(
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{schema}.{table} is append-only' "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {schema}.{table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def drop_append_only(schema: str, table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {schema}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.refuse_change_{table}()")


def create_audit_log_and_idempotency_keys(schema: str) -> None:
    """The first migration of every service: the audit log (append-only) and idempotency keys."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema=schema,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "owner", sa.String(length=200), nullable=False, comment="subject or client that sent the key"
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_idempotency_keys")),
        schema=schema,
    )
    append_only(schema, "audit_log")


def drop_audit_log_and_idempotency_keys(schema: str) -> None:
    drop_append_only(schema, "audit_log")
    op.drop_table("idempotency_keys", schema=schema)
    op.drop_table("audit_log", schema=schema)


def add_replayed_headers(schema: str) -> None:
    """The headers an idempotent replay repeats (ETag, Location, Content-Type)."""
    op.add_column(
        "idempotency_keys",
        sa.Column(
            "response_headers",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="headers of the first answer (ETag, Location, Content-Type) replayed with it",
        ),
        schema=schema,
    )


def drop_replayed_headers(schema: str) -> None:
    op.drop_column("idempotency_keys", "response_headers", schema=schema)


def create_outbox_and_replayed_headers(schema: str) -> None:
    """The outbox of change events (append-only) and the headers an idempotent replay repeats."""
    add_replayed_headers(schema)
    op.create_table(
        "outbox",
        sa.Column("sequence", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False, comment="the event id, one for life"),
        sa.Column(
            "transaction_id",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
            comment="the writing transaction's id (xid8 with its epoch, as a number)",
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
        schema=schema,
    )
    op.create_index(op.f("ix_outbox_type"), "outbox", ["type"], unique=False, schema=schema)
    append_only(schema, "outbox")


def drop_outbox_and_replayed_headers(schema: str) -> None:
    drop_append_only(schema, "outbox")
    op.drop_index(op.f("ix_outbox_type"), table_name="outbox", schema=schema)
    op.drop_table("outbox", schema=schema)
    drop_replayed_headers(schema)


def create_personal_data_access(schema: str) -> None:
    """The log of who saw which citizen ID number in full (append-only)."""
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=True),
        sa.Column(
            "purpose",
            sa.String(length=200),
            nullable=True,
            comment="as the caller stated; null when not stated",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_access")),
        schema=schema,
    )
    append_only(schema, "personal_data_access")


def drop_personal_data_access(schema: str) -> None:
    drop_append_only(schema, "personal_data_access")
    op.drop_table("personal_data_access", schema=schema)


def add_citizen_id_key_ids(schema: str) -> None:
    """``persons.citizen_id_key_id``: the key that made each ciphertext. Rows written before
    key ids have none: every configured key is tried, and ``platformctl
    rotate-citizen-id-key`` gives them the current key's id."""
    op.add_column(
        "persons",
        sa.Column(
            "citizen_id_key_id",
            sa.String(length=32),
            nullable=True,
            comment="the key that made the ciphertext (shared.citizen_ids.DataKey.id)",
        ),
        schema=schema,
    )
    op.create_index(op.f("ix_persons_citizen_id_key_id"), "persons", ["citizen_id_key_id"], schema=schema)


def drop_citizen_id_key_ids(schema: str) -> None:
    op.drop_index(op.f("ix_persons_citizen_id_key_id"), table_name="persons", schema=schema)
    op.drop_column("persons", "citizen_id_key_id", schema=schema)


def create_webhooks(schema: str) -> None:
    """Webhook subscriptions and deliveries, the transports' publication cursors, and the
    outbox's index in feed order (transaction, sequence)."""
    from shared.db import service_metadata
    from shared.records import event_publications_table, webhook_deliveries_table, webhook_subscriptions_table

    metadata = service_metadata(schema)
    bind = op.get_bind()
    for declare in (webhook_subscriptions_table, webhook_deliveries_table, event_publications_table):
        declare(metadata).create(bind)
    op.create_index(
        "ix_outbox_position", "outbox", ["transaction_id", "sequence"], unique=False, schema=schema
    )


def drop_webhooks(schema: str) -> None:
    op.drop_index("ix_outbox_position", table_name="outbox", schema=schema)
    for table in ("event_publications", "webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table, schema=schema)


def add_webhook_owner_grants(schema: str) -> None:
    """Whose token confirmed a subscription's grants, and when: the relay compares that instant
    with the gateway's revocations (a client deactivated or whose grants changed later pauses
    it). Existing subscriptions count as confirmed at their last change. (:func:`create_webhooks`
    declares the table as it is now, so on a new database the columns are there already.)"""
    op.execute(
        f'ALTER TABLE "{schema}".webhook_subscriptions '
        "ADD COLUMN IF NOT EXISTS owner_subject VARCHAR(200), "
        "ADD COLUMN IF NOT EXISTS grants_issued_at TIMESTAMP WITH TIME ZONE, "
        "ADD COLUMN IF NOT EXISTS grants_checked_at TIMESTAMP WITH TIME ZONE"
    )
    op.execute(
        f'UPDATE "{schema}".webhook_subscriptions '
        "SET owner_subject = 'client:' || owner, grants_issued_at = updated_at, "
        "grants_checked_at = now() WHERE owner_subject IS NULL"
    )


def drop_webhook_owner_grants(schema: str) -> None:
    op.drop_column("webhook_subscriptions", "grants_checked_at", schema=schema)
    op.drop_column("webhook_subscriptions", "grants_issued_at", schema=schema)
    op.drop_column("webhook_subscriptions", "owner_subject", schema=schema)


def create_scheduled_events(schema: str) -> None:
    """The keys of the events the scheduler has written (each emitted once)."""
    from shared.db import service_metadata
    from shared.records import scheduled_events_table

    scheduled_events_table(service_metadata(schema)).create(op.get_bind())


def drop_scheduled_events(schema: str) -> None:
    op.drop_table("scheduled_events", schema=schema)
