"""years: the version of the scheme a year is appraised under

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # years opened before schemes had versions were opened under the first (and only) one
    op.add_column(
        "years",
        sa.Column("scheme_version", sa.SmallInteger(), server_default="1", nullable=False),
        schema="appraisal",
    )


def downgrade() -> None:
    op.drop_column("years", "scheme_version", schema="appraisal")
