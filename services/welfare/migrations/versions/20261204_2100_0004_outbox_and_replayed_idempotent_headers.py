"""outbox of change events; idempotent replays keep their headers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_outbox_and_replayed_headers("welfare")


def downgrade() -> None:
    migration_ops.drop_outbox_and_replayed_headers("welfare")
