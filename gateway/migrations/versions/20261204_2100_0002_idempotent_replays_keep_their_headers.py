"""idempotent replays keep their headers

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.add_replayed_headers("iam")


def downgrade() -> None:
    migration_ops.drop_replayed_headers("iam")
