"""snapshot runs as jobs; snapshots point to shared evaluated profiles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'eldercare'
STATUSES = "status IN ('queued', 'running', 'succeeded', 'partial', 'failed')"
# the content of a profile, as the migration names it (new runs derive their own ids)
CONTENT = "md5(catalogue_version || '|' || monthly_total::text || '|' || complete::text || '|' || degraded::text || '|' || entitlements::text)::uuid"


def upgrade() -> None:
    # runs: the job shape (status, progress, lease, errors) and the batches written so far
    op.add_column('snapshot_runs', sa.Column('status', sa.String(length=16), nullable=False, server_default='succeeded'), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default=sa.text("'[]'::jsonb")), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('total', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('done', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('lease_owner', sa.String(length=200), nullable=True), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('batches', sa.Integer(), nullable=False, server_default='0'), schema=SCHEMA)
    op.add_column('snapshot_runs', sa.Column('completed_batches', postgresql.ARRAY(sa.Integer()), nullable=False, server_default='{}'), schema=SCHEMA)
    op.execute("UPDATE eldercare.snapshot_runs SET created_at = started_at, total = persons_created, done = persons_created")
    for column in ('status', 'total', 'done', 'batches', 'completed_batches'):
        op.alter_column('snapshot_runs', column, server_default=None, schema=SCHEMA)
    op.alter_column('snapshot_runs', 'started_at', nullable=True, schema=SCHEMA)
    op.alter_column('snapshot_runs', 'finished_at', nullable=True, server_default=None, schema=SCHEMA)
    op.create_check_constraint(op.f('ck_snapshot_runs_known_status'), 'snapshot_runs', STATUSES, schema=SCHEMA)
    op.create_index('ix_snapshot_runs_jurisdiction', 'snapshot_runs', ['jurisdiction'], unique=False, schema=SCHEMA)

    # evaluated profiles shared by the snapshots of persons alike
    op.create_table('snapshot_profiles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('catalogue_version', sa.String(length=200), nullable=False),
    sa.Column('monthly_total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('entitlements', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshot_profiles')),
    schema=SCHEMA
    )
    op.execute(
        f"INSERT INTO eldercare.snapshot_profiles (id, catalogue_version, monthly_total, complete, degraded, entitlements) "
        f"SELECT DISTINCT ON ({CONTENT}) {CONTENT}, catalogue_version, monthly_total, complete, degraded, entitlements "
        f"FROM eldercare.entitlement_snapshots"
    )
    op.add_column('entitlement_snapshots', sa.Column('profile_id', sa.Uuid(), nullable=True), schema=SCHEMA)
    op.execute(f"UPDATE eldercare.entitlement_snapshots SET profile_id = {CONTENT}")
    op.alter_column('entitlement_snapshots', 'profile_id', nullable=False, schema=SCHEMA)
    op.create_foreign_key(op.f('fk_entitlement_snapshots_profile_id_snapshot_profiles'), 'entitlement_snapshots', 'snapshot_profiles', ['profile_id'], ['id'], source_schema=SCHEMA, referent_schema=SCHEMA)
    op.drop_constraint(op.f('fk_entitlement_snapshots_run_id_snapshot_runs'), 'entitlement_snapshots', type_='foreignkey', schema=SCHEMA)
    for column in ('catalogue_version', 'monthly_total', 'complete', 'degraded', 'entitlements'):
        op.drop_column('entitlement_snapshots', column, schema=SCHEMA)

    op.create_table('snapshot_profile_keys',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['eldercare.snapshot_profiles.id'], name=op.f('fk_snapshot_profile_keys_profile_id_snapshot_profiles')),
    sa.ForeignKeyConstraint(['run_id'], ['eldercare.snapshot_runs.id'], name=op.f('fk_snapshot_profile_keys_run_id_snapshot_runs')),
    sa.PrimaryKeyConstraint('run_id', 'key', name=op.f('pk_snapshot_profile_keys')),
    schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table('snapshot_profile_keys', schema=SCHEMA)
    op.add_column('entitlement_snapshots', sa.Column('catalogue_version', sa.String(length=200), nullable=True), schema=SCHEMA)
    op.add_column('entitlement_snapshots', sa.Column('monthly_total', sa.Numeric(precision=14, scale=2), nullable=True), schema=SCHEMA)
    op.add_column('entitlement_snapshots', sa.Column('complete', sa.Boolean(), nullable=True), schema=SCHEMA)
    op.add_column('entitlement_snapshots', sa.Column('degraded', sa.Boolean(), nullable=True), schema=SCHEMA)
    op.add_column('entitlement_snapshots', sa.Column('entitlements', postgresql.JSONB(astext_type=sa.Text()), nullable=True), schema=SCHEMA)
    op.execute(
        "UPDATE eldercare.entitlement_snapshots s SET catalogue_version = p.catalogue_version, "
        "monthly_total = p.monthly_total, complete = p.complete, degraded = p.degraded, entitlements = p.entitlements "
        "FROM eldercare.snapshot_profiles p WHERE p.id = s.profile_id"
    )
    for column in ('catalogue_version', 'monthly_total', 'complete', 'degraded', 'entitlements'):
        op.alter_column('entitlement_snapshots', column, nullable=False, schema=SCHEMA)
    op.drop_constraint(op.f('fk_entitlement_snapshots_profile_id_snapshot_profiles'), 'entitlement_snapshots', type_='foreignkey', schema=SCHEMA)
    op.drop_column('entitlement_snapshots', 'profile_id', schema=SCHEMA)
    op.drop_table('snapshot_profiles', schema=SCHEMA)
    # snapshots written by runs that did not finish keep a run row with its counts
    op.execute("DELETE FROM eldercare.entitlement_snapshots s WHERE NOT EXISTS (SELECT 1 FROM eldercare.snapshot_runs r WHERE r.id = s.run_id)")
    op.create_foreign_key(op.f('fk_entitlement_snapshots_run_id_snapshot_runs'), 'entitlement_snapshots', 'snapshot_runs', ['run_id'], ['id'], source_schema=SCHEMA, referent_schema=SCHEMA)
    op.drop_index('ix_snapshot_runs_jurisdiction', table_name='snapshot_runs', schema=SCHEMA)
    op.drop_constraint(op.f('ck_snapshot_runs_known_status'), 'snapshot_runs', type_='check', schema=SCHEMA)
    op.execute("UPDATE eldercare.snapshot_runs SET started_at = coalesce(started_at, created_at), finished_at = coalesce(finished_at, now())")
    op.alter_column('snapshot_runs', 'started_at', nullable=False, schema=SCHEMA)
    op.alter_column('snapshot_runs', 'finished_at', nullable=False, server_default=sa.text('now()'), schema=SCHEMA)
    for column in ('completed_batches', 'batches', 'attempts', 'lease_expires_at', 'lease_owner', 'done', 'total', 'created_at', 'errors', 'status'):
        op.drop_column('snapshot_runs', column, schema=SCHEMA)
