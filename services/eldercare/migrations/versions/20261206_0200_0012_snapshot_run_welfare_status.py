"""a month's run reads welfare's projection once: the dibao and tekun status of each person
welfare knows, as of the run's start, kept while it runs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eldercare"


def upgrade() -> None:
    op.create_table(
        "snapshot_run_welfare",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id_hash", sa.String(length=64), nullable=False),
        sa.Column("dibao", sa.Boolean(), nullable=False),
        sa.Column("tekun_in", sa.Boolean(), nullable=False),
        sa.Column("tekun", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            [f"{SCHEMA}.snapshot_runs.id"],
            name=op.f("fk_snapshot_run_welfare_run_id_snapshot_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "citizen_id_hash", name=op.f("pk_snapshot_run_welfare")),
        schema=SCHEMA,
        comment="while a month's run writes: welfare's dibao and tekun status of each person it knows, "
        "read from the projection once when the run (or its resumed attempt) began",
    )


def downgrade() -> None:
    op.drop_table("snapshot_run_welfare", schema=SCHEMA)
