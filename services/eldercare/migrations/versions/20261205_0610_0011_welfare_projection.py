"""the projection of welfare's register (dibao and tekun enrolments, persons) and the feed
consumer's position, lease and freshness; snapshot runs say where dibao came from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eldercare"


def upgrade() -> None:
    op.add_column(
        "snapshot_runs",
        sa.Column(
            "dibao_status",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="where dibao and tekun came from, and how fresh the projection was",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "welfare_feed",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "cursor", sa.String(length=64), nullable=True, comment="welfare's next_cursor, read on from it"
        ),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_id", sa.Uuid(), nullable=True),
        sa.Column("last_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sequence", sa.String(length=64), nullable=True),
        sa.Column("events_applied", sa.BigInteger(), nullable=False),
        sa.Column("events_ignored", sa.BigInteger(), nullable=False),
        sa.Column(
            "caught_up_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when a read last reached the end of the feed",
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_welfare_feed")),
        schema=SCHEMA,
    )
    op.create_table(
        "welfare_events_seen",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_welfare_events_seen")),
        schema=SCHEMA,
    )
    op.create_table(
        "welfare_persons",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("citizen_id_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_welfare_persons")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_welfare_persons_citizen_id_hash"), "welfare_persons", ["citizen_id_hash"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_welfare_persons_household_id"), "welfare_persons", ["household_id"], schema=SCHEMA
    )
    op.create_table(
        "welfare_enrolments",
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("start_month", sa.Date(), nullable=False),
        sa.Column("end_month", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("arrangement", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("enrolment_id", name=op.f("pk_welfare_enrolments")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_welfare_enrolments_household_id"), "welfare_enrolments", ["household_id"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_welfare_enrolments_person_id"), "welfare_enrolments", ["person_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("welfare_enrolments", schema=SCHEMA)
    op.drop_table("welfare_persons", schema=SCHEMA)
    op.drop_table("welfare_events_seen", schema=SCHEMA)
    op.drop_table("welfare_feed", schema=SCHEMA)
    op.drop_column("snapshot_runs", "dibao_status", schema=SCHEMA)
