"""the households' residence (urban / rural) from a month, and the residence whose standard
priced each ledger entry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    op.create_table(
        "household_residences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("effective_month", sa.Date(), nullable=True),
        sa.Column("superseded_from", sa.Date(), nullable=True),
        sa.Column("residence", sa.String(length=5), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "residence IN ('urban', 'rural')", name=op.f("ck_household_residences_known_residence")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            [f"{SCHEMA}.households.id"],
            name=op.f("fk_household_residences_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_residences")),
        sa.UniqueConstraint(
            "household_id", "effective_month", name=op.f("uq_household_residences_household_id_effective_month")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_household_residences_household_id"),
        "household_residences",
        ["household_id"],
        unique=False,
        schema=SCHEMA,
    )
    # the residence recorded first (NULL effective month) is one per household
    op.create_index(
        "uq_household_residences_first",
        "household_residences",
        ["household_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("effective_month IS NULL"),
    )
    op.add_column(
        "ledger_entries",
        sa.Column(
            "residence",
            sa.String(length=5),
            nullable=True,
            comment="the residence whose standard priced the entry; NULL where the standard is one",
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("ledger_entries", "residence", schema=SCHEMA)
    op.drop_index("uq_household_residences_first", table_name="household_residences", schema=SCHEMA)
    op.drop_index(
        op.f("ix_household_residences_household_id"), table_name="household_residences", schema=SCHEMA
    )
    op.drop_table("household_residences", schema=SCHEMA)
