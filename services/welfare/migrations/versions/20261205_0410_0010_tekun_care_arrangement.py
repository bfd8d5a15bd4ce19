"""tekun enrolments record their care arrangement: 分散供养 (scattered) or 集中供养 (concentrated)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    # tekun enrolments recorded before stay NULL: their arrangement was never recorded
    op.add_column(
        "enrolments",
        sa.Column(
            "arrangement",
            sa.String(length=16),
            nullable=True,
            comment="tekun: scattered (分散供养) or concentrated (集中供养)",
        ),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_enrolments_tekun_arrangement"),
        "enrolments",
        "arrangement IS NULL OR (program = 'tekun' AND arrangement IN ('scattered', 'concentrated'))",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_enrolments_tekun_arrangement"), "enrolments", type_="check", schema=SCHEMA)
    op.drop_column("enrolments", "arrangement", schema=SCHEMA)
