"""Every query of the snapshots: the batch read, the batch write, and the month-to-month diff."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from eldercare.register.models import Circumstances, Person
from eldercare.register.repository import CIRCUMSTANCE_FIELDS
from eldercare.snapshots.models import EntitlementSnapshot
from shared.pagination import PageParams


async def lock_month(session: AsyncSession, month: dt.date) -> None:
    """One snapshot request per month at a time (until the transaction ends)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"eldercare.snapshot:{month}"}
    )


async def persons_to_snapshot(
    session: AsyncSession,
    jurisdictions: Sequence[str],
    day: dt.date,
    after: uuid.UUID | None,
    limit: int,
) -> list[Any]:
    """The next batch of persons registered on ``day`` without a snapshot of its month, with
    the circumstances in force on ``day`` (NULLs when none is)."""
    c = aliased(Circumstances, name="c")
    taken = exists().where(EntitlementSnapshot.person_id == Person.id, EntitlementSnapshot.month == day)
    query = (
        select(  # the order of snapshots.service.PERSON_COLUMNS
            Person.id,
            Person.jurisdiction,
            Person.birth_date,
            Person.sex,
            *(getattr(c, name) for name in CIRCUMSTANCE_FIELDS),
        )
        .select_from(Person)
        .outerjoin(
            c,
            and_(
                c.person_id == Person.id,
                c.effective_from <= day,
                or_(c.superseded_from.is_(None), c.superseded_from > day),
            ),
        )
        .where(
            Person.jurisdiction.in_(jurisdictions),
            Person.birth_date <= day,
            or_(Person.left_on.is_(None), Person.left_on > day),
            ~taken,
        )
        .order_by(Person.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Person.id > after)
    return list(await session.execute(query))


@dataclass
class SnapshotRows:
    """A batch of snapshots to write, column by column."""

    person_ids: list[uuid.UUID]
    jurisdictions: list[str]
    catalogue_versions: list[str]
    totals: list[Decimal]
    complete: list[bool]
    degraded: list[bool]
    entitlements: list[str]
    """JSON text of each person's entitlements."""


INSERT_SNAPSHOTS = text(
    """
    INSERT INTO eldercare.entitlement_snapshots
        (person_id, month, jurisdiction, run_id, catalogue_version, monthly_total, complete, degraded,
         entitlements)
    SELECT t.person_id, :month, t.jurisdiction, :run_id, t.catalogue_version, t.monthly_total, t.complete,
           t.degraded, t.entitlements::jsonb
    FROM unnest(CAST(:person_ids AS uuid[]), CAST(:jurisdictions AS text[]), CAST(:versions AS text[]),
                CAST(:totals AS numeric[]), CAST(:complete AS boolean[]), CAST(:degraded AS boolean[]),
                CAST(:entitlements AS text[]))
        AS t(person_id, jurisdiction, catalogue_version, monthly_total, complete, degraded, entitlements)
    ON CONFLICT (person_id, month) DO NOTHING
    """
)


async def insert_snapshots(
    session: AsyncSession, run_id: uuid.UUID, month: dt.date, rows: SnapshotRows
) -> int:
    result = await session.execute(
        INSERT_SNAPSHOTS,
        {
            "month": month,
            "run_id": run_id,
            "person_ids": rows.person_ids,
            "jurisdictions": rows.jurisdictions,
            "versions": rows.catalogue_versions,
            "totals": rows.totals,
            "complete": rows.complete,
            "degraded": rows.degraded,
            "entitlements": rows.entitlements,
        },
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_snapshots(session: AsyncSession, jurisdictions: Sequence[str], month: dt.date) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(EntitlementSnapshot)
            .where(EntitlementSnapshot.month == month, EntitlementSnapshot.jurisdiction.in_(jurisdictions))
        )
        or 0
    )


# The diff of two months, item by item, for the persons with a snapshot of the month. Only
# persons whose stored entitlements differ from the month before are taken apart item by item.
CHANGES = """
WITH scope AS (
    SELECT s.person_id, s.monthly_total, s.entitlements
    FROM eldercare.entitlement_snapshots s
    WHERE s.month = :month AND {scope}
),
candidates AS (
    SELECT scope.person_id, scope.entitlements AS now, before.entitlements AS then
    FROM scope
    LEFT JOIN eldercare.entitlement_snapshots before
           ON before.person_id = scope.person_id AND before.month = :previous
    WHERE before.entitlements IS DISTINCT FROM scope.entitlements
),
current_items AS (
    SELECT c.person_id, (e->>'item')::int AS item, e->>'name' AS name, e->>'amount' AS amount,
           e->>'period' AS period
    FROM candidates c CROSS JOIN LATERAL jsonb_array_elements(c.now) e
),
previous_items AS (
    SELECT c.person_id, (e->>'item')::int AS item, e->>'name' AS name, e->>'amount' AS amount,
           e->>'period' AS period
    FROM candidates c CROSS JOIN LATERAL jsonb_array_elements(coalesce(c.then, '[]'::jsonb)) e
),
diff AS (
    SELECT coalesce(c.person_id, p.person_id) AS person_id,
           coalesce(c.item, p.item) AS item,
           coalesce(c.name, p.name) AS name,
           CASE WHEN p.item IS NULL THEN 'added' WHEN c.item IS NULL THEN 'removed' ELSE 'amount' END
               AS change,
           p.amount AS previous_amount,
           c.amount AS amount,
           coalesce(c.period, p.period) AS period
    FROM current_items c FULL JOIN previous_items p ON p.person_id = c.person_id AND p.item = c.item
    WHERE c.item IS NULL OR p.item IS NULL OR c.amount IS DISTINCT FROM p.amount
),
changed AS (
    SELECT person_id,
           jsonb_agg(jsonb_build_object('item', item, 'name', name, 'change', change,
                                        'previous_amount', previous_amount, 'amount', amount,
                                        'period', period) ORDER BY item) AS changes
    FROM diff GROUP BY person_id
),
listed AS (
    SELECT scope.person_id, scope.monthly_total, coalesce(changed.changes, '[]'::jsonb) AS changes
    FROM scope {join} changed ON changed.person_id = scope.person_id
)
"""


def _changes_sql(scope: str, only_changed: bool) -> str:
    return CHANGES.format(scope=scope, join="JOIN" if only_changed else "LEFT JOIN")


async def changes(
    session: AsyncSession,
    *,
    month: dt.date,
    previous: dt.date,
    person_id: uuid.UUID | None = None,
    jurisdictions: Sequence[str] = (),
    page: PageParams | None = None,
) -> tuple[list[Any], int]:
    """Per person: the month's total, the previous month's, and the items that changed.

    With ``person_id``: that person (listed even without changes); else the persons of
    ``jurisdictions`` with at least one change, a page of them.
    """
    if person_id is not None:
        head = _changes_sql("s.person_id = :person_id", only_changed=False)
        params: dict[str, Any] = {"person_id": person_id}
    else:
        head = _changes_sql("s.jurisdiction = ANY(CAST(:jurisdictions AS text[]))", only_changed=True)
        params = {"jurisdictions": list(jurisdictions)}
    params.update(month=month, previous=previous)
    paging = ""
    if page is not None:
        paging = " LIMIT :limit OFFSET :offset"
        params.update(limit=page.limit, offset=page.offset)
    rows = list(
        await session.execute(
            text(
                head
                + """
                SELECT p.id AS person_id, p.name, p.citizen_id_masked, p.jurisdiction, listed.monthly_total,
                       before.monthly_total AS previous_monthly_total,
                       before.person_id IS NOT NULL AS previous_snapshot, listed.changes,
                       count(*) OVER () AS total
                FROM listed
                JOIN eldercare.persons p ON p.id = listed.person_id
                LEFT JOIN eldercare.entitlement_snapshots before
                       ON before.person_id = listed.person_id AND before.month = :previous
                ORDER BY p.jurisdiction, p.name, p.id
                """
                + paging
            ),
            params,
        )
    )
    if rows:
        total = int(rows[0].total)
    elif page is not None and page.offset > 0:  # past the end: count without a page
        total = int((await session.scalar(text(head + "SELECT count(*) FROM listed"), params)) or 0)
    else:
        total = 0
    return list(rows), total
