"""citizen ID ciphertexts record their key id; the log of who saw a citizen ID in full

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

from shared import migration_ops

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eldercare"


def upgrade() -> None:
    migration_ops.add_citizen_id_key_ids(SCHEMA)
    migration_ops.create_personal_data_access(SCHEMA)


def downgrade() -> None:
    migration_ops.drop_personal_data_access(SCHEMA)
    migration_ops.drop_citizen_id_key_ids(SCHEMA)
