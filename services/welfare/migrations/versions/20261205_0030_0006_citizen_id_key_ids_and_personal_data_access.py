"""citizen ID ciphertexts record their key id; the log of who saw a citizen ID in full

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared import migration_ops

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    # rows written before key ids have none: every configured key is tried, and
    # platformctl rotate-citizen-id-key gives them the current key's id
    op.add_column(
        "persons",
        sa.Column(
            "citizen_id_key_id",
            sa.String(length=32),
            nullable=True,
            comment="the key that made the ciphertext (shared.citizen_ids.DataKey.id)",
        ),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_persons_citizen_id_key_id"), "persons", ["citizen_id_key_id"], schema=SCHEMA)
    migration_ops.create_personal_data_access(SCHEMA)


def downgrade() -> None:
    migration_ops.drop_personal_data_access(SCHEMA)
    op.drop_index(op.f("ix_persons_citizen_id_key_id"), table_name="persons", schema=SCHEMA)
    op.drop_column("persons", "citizen_id_key_id", schema=SCHEMA)
