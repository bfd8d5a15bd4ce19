"""catalogue overrides are dated versions: valid_from / valid_to, and corrections that name the
versions they correct with a reason and a document reference

Versions saved before carry the day they were saved as valid_from; a later version saved on the
same day is recorded as a correction of the one before it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "eldercare"


def upgrade() -> None:
    op.add_column("catalogue_overrides", sa.Column("valid_from", sa.Date(), nullable=True), schema=SCHEMA)
    op.add_column("catalogue_overrides", sa.Column("valid_to", sa.Date(), nullable=True), schema=SCHEMA)
    op.add_column(
        "catalogue_overrides",
        sa.Column("corrects", postgresql.ARRAY(sa.Integer()), server_default="{}", nullable=False),
        schema=SCHEMA,
    )
    op.add_column("catalogue_overrides", sa.Column("correction_reason", sa.Text(), nullable=True), schema=SCHEMA)
    op.add_column(
        "catalogue_overrides", sa.Column("correction_reference", sa.String(400), nullable=True), schema=SCHEMA
    )
    op.execute(
        """
        WITH dated AS (
            SELECT id, created_at::date AS day,
                   lag(version) OVER w AS previous, lag(created_at::date) OVER w AS previous_day
            FROM eldercare.catalogue_overrides
            WINDOW w AS (PARTITION BY jurisdiction ORDER BY version)
        )
        UPDATE eldercare.catalogue_overrides AS o
        SET valid_from = dated.day,
            corrects = CASE WHEN dated.previous_day >= dated.day THEN ARRAY[dated.previous] ELSE '{}' END,
            correction_reason = CASE WHEN dated.previous_day >= dated.day
                THEN 'saved on the same day as the version before, before versions were dated' END,
            correction_reference = CASE WHEN dated.previous_day >= dated.day THEN o.body->>'document' END
        FROM dated WHERE dated.id = o.id
        """
    )
    op.alter_column("catalogue_overrides", "valid_from", nullable=False, schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_catalogue_overrides_valid_range"), "catalogue_overrides", "valid_to IS NULL OR valid_to >= valid_from", schema=SCHEMA
    )
    op.create_check_constraint(
        op.f("ck_catalogue_overrides_correction_explained"),
        "catalogue_overrides",
        "cardinality(corrects) = 0 OR (correction_reason IS NOT NULL AND correction_reference IS NOT NULL)",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_catalogue_overrides_correction_explained"), "catalogue_overrides", schema=SCHEMA)
    op.drop_constraint(op.f("ck_catalogue_overrides_valid_range"), "catalogue_overrides", schema=SCHEMA)
    for column in ("correction_reference", "correction_reason", "corrects", "valid_to", "valid_from"):
        op.drop_column("catalogue_overrides", column, schema=SCHEMA)
