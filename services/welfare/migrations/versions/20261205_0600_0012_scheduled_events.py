"""the keys of the events the scheduler has written (each emitted once)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_scheduled_events("welfare")


def downgrade() -> None:
    migration_ops.drop_scheduled_events("welfare")
