"""standard history (corrections with reason and document), overpayments for review and the
decisions on them, the enrolment-months a recalculation could not price

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    # a correction names the versions it corrects, why, and the document that decided it
    op.add_column(
        "standard_versions",
        sa.Column("corrects", postgresql.ARRAY(sa.String(length=100)), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.add_column("standard_versions", sa.Column("reason", sa.Text(), nullable=True), schema=SCHEMA)
    op.add_column(
        "standard_versions", sa.Column("document_reference", sa.String(length=200), nullable=True), schema=SCHEMA
    )

    # overpayments found by a recalculation: negative entries marked for staff review
    op.drop_constraint(op.f("ck_ledger_entries_known_kind"), "ledger_entries", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_ledger_entries_known_kind"),
        "ledger_entries",
        "kind IN ('regular', 'arrears', 'correction', 'overpayment')",
        schema=SCHEMA,
    )
    op.add_column("ledger_entries", sa.Column("review", sa.String(length=16), nullable=True), schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_ledger_entries_overpayments_reviewed"),
        "ledger_entries",
        "(kind = 'overpayment') = (review IS NOT NULL)",
        schema=SCHEMA,
    )
    op.add_column(
        "recalculation_runs",
        sa.Column("overpayments", sa.Integer(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.add_column(
        "recalculation_runs",
        sa.Column("overpayment_total", sa.Numeric(14, 2), nullable=False, server_default="0"),
        schema=SCHEMA,
    )

    # the enrolment-months a run stopped because no standard prices them
    op.create_table(
        "recalculation_unpriced",
        sa.Column("recalculation_id", sa.Uuid(), nullable=False),
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recalculation_id"],
            [f"{SCHEMA}.recalculation_runs.id"],
            name=op.f("fk_recalculation_unpriced_recalculation_id_recalculation_runs"),
        ),
        sa.PrimaryKeyConstraint("recalculation_id", "enrolment_id", "month", name=op.f("pk_recalculation_unpriced")),
        schema=SCHEMA,
    )

    # staff's decision on an overpayment (recover or waive), one each, never changed
    op.create_table(
        "overpayment_decisions",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document_reference", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("decision IN ('recover', 'waive')", name=op.f("ck_overpayment_decisions_known_decision")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            [f"{SCHEMA}.ledger_entries.id"],
            name=op.f("fk_overpayment_decisions_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_overpayment_decisions")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("overpayment_decisions", schema=SCHEMA)
    op.drop_table("recalculation_unpriced", schema=SCHEMA)
    op.drop_column("recalculation_runs", "overpayment_total", schema=SCHEMA)
    op.drop_column("recalculation_runs", "overpayments", schema=SCHEMA)
    op.drop_constraint(
        op.f("ck_ledger_entries_overpayments_reviewed"), "ledger_entries", type_="check", schema=SCHEMA
    )
    op.drop_column("ledger_entries", "review", schema=SCHEMA)
    op.drop_constraint(op.f("ck_ledger_entries_known_kind"), "ledger_entries", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_ledger_entries_known_kind"),
        "ledger_entries",
        "kind IN ('regular', 'arrears', 'correction')",
        schema=SCHEMA,
    )
    op.drop_column("standard_versions", "document_reference", schema=SCHEMA)
    op.drop_column("standard_versions", "reason", schema=SCHEMA)
    op.drop_column("standard_versions", "corrects", schema=SCHEMA)
