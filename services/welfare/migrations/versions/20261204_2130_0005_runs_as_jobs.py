"""runs as jobs: leases and errors on recalculation runs; payroll runs per month repeatable

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'welfare'
STATUSES = "status IN ('queued', 'running', 'succeeded', 'partial', 'failed')"


def upgrade() -> None:
    # recalculation runs: a lease (owner + expiry), attempts, and a list of errors
    op.add_column('recalculation_runs', sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default=sa.text("'[]'::jsonb")), schema=SCHEMA)
    op.add_column('recalculation_runs', sa.Column('lease_owner', sa.String(length=200), nullable=True), schema=SCHEMA)
    op.add_column('recalculation_runs', sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('recalculation_runs', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.execute(
        "UPDATE welfare.recalculation_runs SET errors = jsonb_build_array(jsonb_build_object('message', error)) "
        "WHERE error IS NOT NULL"
    )
    op.drop_column('recalculation_runs', 'error', schema=SCHEMA)
    op.create_check_constraint(op.f('ck_recalculation_runs_known_status'), 'recalculation_runs', STATUSES, schema=SCHEMA)

    # payroll runs: several per (jurisdiction, month), each with a job's status and errors
    op.drop_constraint(op.f('uq_payroll_runs_jurisdiction_month'), 'payroll_runs', type_='unique', schema=SCHEMA)
    op.create_index(op.f('ix_payroll_runs_jurisdiction_month'), 'payroll_runs', ['jurisdiction', 'month'], unique=False, schema=SCHEMA)
    op.alter_column('payroll_runs', 'created_by', new_column_name='requested_by', schema=SCHEMA)
    op.add_column('payroll_runs', sa.Column('status', sa.String(length=16), nullable=False, server_default='succeeded'), schema=SCHEMA)
    op.add_column('payroll_runs', sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default=sa.text("'[]'::jsonb")), schema=SCHEMA)
    op.add_column('payroll_runs', sa.Column('already_paid', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.add_column('payroll_runs', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('payroll_runs', sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.execute(
        "UPDATE welfare.payroll_runs SET started_at = created_at, finished_at = created_at, "
        "status = CASE WHEN unpriced > 0 THEN 'partial' ELSE 'succeeded' END"
    )
    for column in ('status', 'already_paid'):
        op.alter_column('payroll_runs', column, server_default=None, schema=SCHEMA)
    op.create_check_constraint(op.f('ck_payroll_runs_known_status'), 'payroll_runs', STATUSES, schema=SCHEMA)


def downgrade() -> None:
    op.drop_constraint(op.f('ck_payroll_runs_known_status'), 'payroll_runs', type_='check', schema=SCHEMA)
    for column in ('finished_at', 'started_at', 'already_paid', 'errors', 'status'):
        op.drop_column('payroll_runs', column, schema=SCHEMA)
    op.alter_column('payroll_runs', 'requested_by', new_column_name='created_by', schema=SCHEMA)
    op.drop_index(op.f('ix_payroll_runs_jurisdiction_month'), table_name='payroll_runs', schema=SCHEMA)
    # runs added since for a month already paid: keep the first of each (jurisdiction, month)
    op.execute(
        "DELETE FROM welfare.payroll_runs r USING welfare.payroll_runs f "
        "WHERE r.jurisdiction = f.jurisdiction AND r.month = f.month AND (r.created_at, r.id) > (f.created_at, f.id)"
    )
    op.create_unique_constraint(op.f('uq_payroll_runs_jurisdiction_month'), 'payroll_runs', ['jurisdiction', 'month'], schema=SCHEMA)

    op.drop_constraint(op.f('ck_recalculation_runs_known_status'), 'recalculation_runs', type_='check', schema=SCHEMA)
    op.add_column('recalculation_runs', sa.Column('error', sa.Text(), nullable=True), schema=SCHEMA)
    op.execute("UPDATE welfare.recalculation_runs SET error = errors -> -1 ->> 'message' WHERE errors <> '[]'")
    for column in ('attempts', 'lease_expires_at', 'lease_owner', 'errors'):
        op.drop_column('recalculation_runs', column, schema=SCHEMA)
