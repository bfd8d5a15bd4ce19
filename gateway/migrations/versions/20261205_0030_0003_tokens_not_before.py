"""tokens issued before a deactivation or a change of grants are refused

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("accounts", "api_clients"):
        op.add_column(
            table, sa.Column("tokens_not_before", sa.DateTime(timezone=True), nullable=True), schema="iam"
        )


def downgrade() -> None:
    for table in ("accounts", "api_clients"):
        op.drop_column(table, "tokens_not_before", schema="iam")
