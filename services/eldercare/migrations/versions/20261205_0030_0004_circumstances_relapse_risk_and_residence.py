"""circumstances: at_risk_of_relapse (农村易返贫致贫) apart from relapsed_into_poverty, and
usual_resident (常住居民, item 6; null: unknown)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "circumstances",
        sa.Column("at_risk_of_relapse", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="eldercare",
    )
    op.add_column("circumstances", sa.Column("usual_resident", sa.Boolean(), nullable=True), schema="eldercare")


def downgrade() -> None:
    op.drop_column("circumstances", "usual_resident", schema="eldercare")
    op.drop_column("circumstances", "at_risk_of_relapse", schema="eldercare")
