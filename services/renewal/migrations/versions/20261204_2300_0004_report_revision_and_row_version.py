"""progress reports: the report's own numbering is its revision, the row's version is version

The write path's compare-and-set (shared.writes, shared.db.Versioned) keeps a record's
version in a column named ``version``; progress reports used that name for the report's
revision number (1, 2, … per unit, task and period) and kept the row's version in
``row_version``. The API keeps its field names (``version`` is the revision, ``row_version``
the row's version).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = "uq_progress_reports_plan_id_task_number_unit_period_version"
NEW_UNIQUE = "uq_progress_reports_plan_id_task_number_unit_period_revision"


def upgrade() -> None:
    op.alter_column("progress_reports", "version", new_column_name="revision", schema="renewal")
    op.alter_column("progress_reports", "row_version", new_column_name="version", schema="renewal")
    op.execute(f"ALTER TABLE renewal.progress_reports RENAME CONSTRAINT {OLD_UNIQUE} TO {NEW_UNIQUE}")


def downgrade() -> None:
    op.execute(f"ALTER TABLE renewal.progress_reports RENAME CONSTRAINT {NEW_UNIQUE} TO {OLD_UNIQUE}")
    op.alter_column("progress_reports", "version", new_column_name="row_version", schema="renewal")
    op.alter_column("progress_reports", "revision", new_column_name="version", schema="renewal")
