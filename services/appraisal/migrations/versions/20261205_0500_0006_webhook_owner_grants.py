"""webhook subscriptions remember whose token confirmed their grants and when (revocations pause them)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 05:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.add_webhook_owner_grants("appraisal")


def downgrade() -> None:
    migration_ops.drop_webhook_owner_grants("appraisal")
