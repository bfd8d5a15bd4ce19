"""the keys of the events the scheduler has written (each emitted once)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_scheduled_events("appraisal")


def downgrade() -> None:
    migration_ops.drop_scheduled_events("appraisal")
