"""audit log and idempotency keys

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 23:21:48.533471
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_audit_log_and_idempotency_keys("renewal")


def downgrade() -> None:
    migration_ops.drop_audit_log_and_idempotency_keys("renewal")
