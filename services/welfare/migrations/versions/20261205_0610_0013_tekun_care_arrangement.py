"""tekun enrolments record their care arrangement: 分散供养 (scattered) or 集中供养 (concentrated);
a person.registered event for every person registered before registering was an event

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "welfare"


def upgrade() -> None:
    # tekun enrolments recorded before stay NULL: their arrangement was never recorded
    op.add_column(
        "enrolments",
        sa.Column(
            "arrangement",
            sa.String(length=16),
            nullable=True,
            comment="tekun: scattered (分散供养) or concentrated (集中供养)",
        ),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_enrolments_tekun_arrangement"),
        "enrolments",
        "arrangement IS NULL OR (program = 'tekun' AND arrangement IN ('scattered', 'concentrated'))",
        schema=SCHEMA,
    )


    # readers of the feed (eldercare's projection) learn who was registered before, as a new
    # registration tells them: the household and, for welfare:pii readers, the number (kept
    # encrypted as the person row keeps it). Once each: not again for a person that has one.
    op.execute(
        f"""
        INSERT INTO {SCHEMA}.outbox (id, type, subject, jurisdiction, data)
        SELECT gen_random_uuid(), 'civic.welfare.person.registered', '/persons/' || p.id, p.jurisdiction,
               jsonb_build_object(
                   'person_id', p.id, 'household_id', p.household_id, 'jurisdiction', p.jurisdiction,
                   'version', p.version,
                   '_personal', jsonb_build_object('citizen_id', jsonb_build_object(
                       'cipher', translate(encode(p.citizen_id_cipher, 'base64'), E'\\n', ''),
                       'key_id', p.citizen_id_key_id,
                       'masked', p.citizen_id_masked)))
        FROM {SCHEMA}.persons p
        WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.outbox o
                          WHERE o.type = 'civic.welfare.person.registered' AND o.subject = '/persons/' || p.id)
        ORDER BY p.created_at, p.id
        """
    )


def downgrade() -> None:
    # the person.registered events stay: an event, once in the feed, keeps its id for life
    op.drop_constraint(op.f("ck_enrolments_tekun_arrangement"), "enrolments", type_="check", schema=SCHEMA)
    op.drop_column("enrolments", "arrangement", schema=SCHEMA)
