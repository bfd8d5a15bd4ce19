"""suspensions of an enrolment with their months (from, resumed), and a note on ledger entries
that explains a correction (months moved between enrolments of one allowance)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    op.create_table(
        "enrolment_suspensions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("from_month", sa.Date(), nullable=False),
        sa.Column("resumed_month", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "resumed_month IS NULL OR resumed_month >= from_month",
            name=op.f("ck_enrolment_suspensions_resumed_after_from"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            [f"{SCHEMA}.enrolments.id"],
            name=op.f("fk_enrolment_suspensions_enrolment_id_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_suspensions")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_enrolment_suspensions_enrolment_id"),
        "enrolment_suspensions",
        ["enrolment_id"],
        unique=False,
        schema=SCHEMA,
    )
    # enrolments suspended before suspensions had months: suspended from their first month not paid
    op.execute(
        "INSERT INTO welfare.enrolment_suspensions (enrolment_id, from_month, recorded_by) "
        "SELECT e.id, GREATEST(e.start_month, COALESCE((SELECT max(l.month) FROM welfare.ledger_entries l "
        "WHERE l.enrolment_id = e.id AND l.kind = 'regular') + interval '1 month', e.start_month))::date, "
        "'migration 0011' FROM welfare.enrolments e WHERE e.status = 'suspended'"
    )
    op.add_column(
        "ledger_entries",
        sa.Column("note", sa.Text(), nullable=True, comment="why a correction was booked"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("ledger_entries", "note", schema=SCHEMA)
    op.drop_index(
        op.f("ix_enrolment_suspensions_enrolment_id"), table_name="enrolment_suspensions", schema=SCHEMA
    )
    op.drop_table("enrolment_suspensions", schema=SCHEMA)
