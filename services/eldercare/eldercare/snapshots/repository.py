"""Every query of the snapshots: the month's groups, the batch write, the runs, the month-to-month diff.

A month is written set-based. :func:`profile_groups` reads the scope (in parts of its
jurisdictions), grouped in the database by a key that decides the result (catalogue, the
circumstances its rules read, which side of each age threshold the person is on); the service
evaluates each group once and stores which profile each key gets (``snapshot_profile_keys``);
then :func:`write_batch` writes one range of person ids with a single ``INSERT … SELECT`` that
computes the same key per person and joins it to its profile. No person row goes through
Python.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import Boolean

from eldercare.projection import service as projection
from eldercare.register.models import Circumstances
from eldercare.register.repository import CIRCUMSTANCE_FIELDS
from eldercare.snapshots.models import (
    EntitlementSnapshot,
    SnapshotProfileKey,
    SnapshotRun,
    SnapshotRunWelfare,
)
from shared import jobs
from shared.access import paginate
from shared.jobs import BatchRecorded, Lease
from shared.pagination import PageParams

UUID_SPACE = 1 << 128
GROUPS_PER_FETCH = 500
"""Groups read per fetch of the month's cursor (each fetch is decoded without a yield to the
event loop: small enough to keep that short)."""
ROWS_PER_STATEMENT = 5_000
"""Profiles or keys stored per statement (their parameters are encoded without a yield)."""


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_class_sql(on: dt.date, thresholds: Sequence[int]) -> str:
    """How many of ``thresholds`` ``p.birth_date`` has *not* reached on ``on`` (a label of its
    age class: which side of each threshold the completed years, 周岁, fall).

    A person is ``t`` or older on ``on`` when born on or before the day ``t`` years earlier
    (28 February for 29 February in a common year), as ``completed_years`` counts; so the
    class is a comparison of dates, done by ``width_bucket`` over the days after those.
    """
    bounds = sorted(_years_before(on, int(age)) + dt.timedelta(days=1) for age in thresholds)
    dates = ",".join(f"DATE '{bound.isoformat()}'" for bound in bounds)
    return f"width_bucket(p.birth_date, ARRAY[{dates}])"


@dataclass(frozen=True)
class KeyGroup:
    """Jurisdictions that share one catalogue, and what decides their result in it."""

    jurisdictions: Sequence[str]
    by_jurisdiction: bool
    """The result depends on the jurisdiction itself (its dibao standard prices an item)."""
    facts: Sequence[str]
    """The person's fields the catalogue reads: ``sex`` and circumstance names."""
    thresholds: Sequence[int]
    """Every age at which the catalogue's result can change, ascending."""


@dataclass(frozen=True)
class MonthKey:
    """The key expression of a month (SQL text) and its parameters."""

    sql: str
    params: dict[str, Any]
    projected: bool = False
    """dibao and tekun from the projection of welfare's register (the register's for persons
    welfare does not know), not from the recorded circumstances."""


def fact_sql(name: str, *, projected: bool) -> str:
    """A circumstance of ``c`` (the register), or of the projection for dibao and tekun."""
    column = f"c.{name}"
    return (projected and projection.projected_fact(name, column)) or column


def month_key(
    groups: Sequence[KeyGroup], on: dt.date, counted_on: dt.date, *, projected: bool = False
) -> MonthKey:
    """The text key of a person's result (``on``: the day of the month the rules read;
    ``counted_on``: the day whose age a monthly allowance counts; ``projected``: dibao and
    tekun from the projection of welfare's register)."""
    cases = []
    params: dict[str, Any] = {}
    for index, group in enumerate(groups):
        params[f"key_group_{index}"] = list(group.jurisdictions)
        parts = ["p.jurisdiction" if group.by_jurisdiction else f"'{index:d}'"]
        for name in group.facts:
            if name != "sex" and name not in CIRCUMSTANCE_FIELDS:
                raise ValueError(f"not a person's field: {name}")
            column = "p.sex" if name == "sex" else fact_sql(name, projected=projected)
            parts.append(f"coalesce({column}::text, '-')")
        if group.thresholds:
            parts.append(f"{age_class_sql(on, group.thresholds)}::text")
            parts.append(f"{age_class_sql(counted_on, group.thresholds)}::text")
        members = f"p.jurisdiction = ANY(CAST(:key_group_{index:d} AS text[]))"
        cases.append(f"WHEN {members} THEN concat_ws('|', {', '.join(parts)})")
    return MonthKey(f"CASE {' '.join(cases)} END", params, projected)


RUN_WELFARE_JOIN = """
    LEFT JOIN (SELECT rw.citizen_id_hash, true AS known, rw.dibao, rw.tekun_in, rw.tekun
               FROM eldercare.snapshot_run_welfare rw WHERE rw.run_id = :run_id) w
           ON w.citizen_id_hash = p.citizen_id_hash
"""
"""Welfare's status of the person as the run read it from the projection when it began
(:func:`store_welfare_status`), in the columns :func:`projection.projected_fact` reads."""


async def store_welfare_status(session: AsyncSession, run_id: uuid.UUID, day: dt.date) -> int:
    """Read welfare's dibao and tekun status of every person the projection knows, in ``day``'s
    month, once for the run (an earlier attempt's is replaced): its grouping and every batch
    read this, not the projection as it changes meanwhile. Returns how many persons."""
    await session.execute(delete(SnapshotRunWelfare).where(SnapshotRunWelfare.run_id == run_id))
    result = await session.execute(
        text(
            f"""
            INSERT INTO eldercare.snapshot_run_welfare (run_id, citizen_id_hash, dibao, tekun_in, tekun)
            SELECT :run_id, w.citizen_id_hash, w.dibao, w.tekun_in, w.tekun
            FROM ({projection.welfare_status("CAST(:day AS date)")}) w
            """
        ),
        {"run_id": run_id, "day": day},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _to_snapshot(
    range_sql: str = "",
    c_range_sql: str = "",
    join: str = "",
    *,
    projected: bool = False,
    unwritten: bool = True,
) -> str:
    """Persons of the scope registered on :day (``unwritten``: only those without a snapshot of
    its month), with the circumstances in force that day. A person with none in force that day
    (the first recorded ones begin later) is not in the register yet, as a single evaluation of
    them that day answers (422), and gets no snapshot of the month.

    A range of person ids is put on both tables (``c_range_sql`` repeats ``range_sql`` for
    ``c.person_id``): the planner does not carry a condition on ``p.id`` over to the join's
    other side, and without it each batch scans the circumstances from the first
    person on (the quadratic cost of a month read in keyset batches).

    The write leaves ``unwritten`` out: its ``ON CONFLICT DO NOTHING`` already skips persons
    with a snapshot, and an anti-join there reads the very table the statement fills. Planned
    while the month has no rows yet (the table's statistics say empty), it became a nested
    loop scanning the snapshots written so far once per person: quadratic in the batch.
    """
    written = (
        """
      AND NOT EXISTS (SELECT 1 FROM eldercare.entitlement_snapshots s
                      WHERE s.person_id = p.id AND s.month = :day)"""
        if unwritten
        else ""
    )
    return f"""
    FROM eldercare.persons p
    JOIN eldercare.circumstances c
      ON c.person_id = p.id AND c.effective_from <= :day
          AND (c.superseded_from IS NULL OR c.superseded_from > :day) {c_range_sql}
    {RUN_WELFARE_JOIN if projected else ""}
    {join}
    WHERE p.jurisdiction = ANY(CAST(:scope AS text[])) AND p.birth_date <= :day
      AND (p.left_on IS NULL OR p.left_on > :day) {range_sql}{written}
    """


def _aggregate(name: str, *, projected: bool) -> str:
    """Any member's value (the key makes every value the catalogue reads equal in a group)."""
    column = Circumstances.__table__.c[name]
    function = "bool_or" if isinstance(column.type, Boolean) else "min"
    return f"{function}({fact_sql(name, projected=projected)}) AS {name}"


def _id_range(low: uuid.UUID | None, high: uuid.UUID | None, params: dict[str, Any]) -> tuple[str, str]:
    """The conditions putting persons (``p.id``) and their circumstances (``c.person_id``) in
    [low, high) (None: unbounded), their parameters added to ``params``."""
    ranges = []
    c_ranges = []
    if low is not None:
        ranges.append("AND p.id >= :low")
        c_ranges.append("AND c.person_id >= :low")
        params["low"] = low
    if high is not None:
        ranges.append("AND p.id < :high")
        c_ranges.append("AND c.person_id < :high")
        params["high"] = high
    return " ".join(ranges), " ".join(c_ranges)


async def profile_groups(
    session: AsyncSession,
    *,
    key: MonthKey,
    scope: Sequence[str],
    day: dt.date,
    run_id: uuid.UUID,
) -> AsyncIterator[Any]:
    """One row per key among the persons of ``scope`` still to snapshot: the key, a member's
    jurisdiction, birth date and fields (in the order of ``service.PERSON_COLUMNS`` after the
    id), and how many persons share it. Streamed (a server-side cursor): tens of thousands of
    keys at city scale are not held in memory at once."""
    params = key.params | {"scope": list(scope), "day": day, "run_id": run_id}
    query = f"""
    SELECT {key.sql} AS key, min(p.jurisdiction) AS jurisdiction, min(p.birth_date) AS birth_date,
           min(p.sex) AS sex,
           {", ".join(_aggregate(name, projected=key.projected) for name in CIRCUMSTANCE_FIELDS)},
           count(*) AS persons
    {_to_snapshot(projected=key.projected)}
    GROUP BY 1
    """
    # The planner cannot estimate how many keys there are (it takes every person for a group)
    # and sorts the whole register on disk to group it; the keys are a few per thousand
    # persons and their hash table fits in work_mem.
    await session.execute(text("SELECT set_config('enable_sort', 'off', true)"))
    result = await session.stream(text(query).execution_options(yield_per=GROUPS_PER_FETCH), params)
    async for row in result:
        yield row


@dataclass(frozen=True)
class ProfileRows:
    """Evaluated profiles to store, column by column."""

    ids: list[uuid.UUID]
    catalogue_versions: list[str]
    totals: list[Decimal]
    complete: list[bool]
    degraded: list[bool]
    entitlements: list[str]
    """JSON text of the entitlements."""


async def store_profiles(session: AsyncSession, rows: ProfileRows) -> None:
    for start in range(0, len(rows.ids), ROWS_PER_STATEMENT):
        part = slice(start, start + ROWS_PER_STATEMENT)
        await _store_profiles(
            session,
            ProfileRows(
                rows.ids[part],
                rows.catalogue_versions[part],
                rows.totals[part],
                rows.complete[part],
                rows.degraded[part],
                rows.entitlements[part],
            ),
        )
        await asyncio.sleep(0)


async def _store_profiles(session: AsyncSession, rows: ProfileRows) -> None:
    await session.execute(
        text(
            """
            INSERT INTO eldercare.snapshot_profiles
                (id, catalogue_version, monthly_total, complete, degraded, entitlements)
            SELECT t.id, t.catalogue_version, t.monthly_total, t.complete, t.degraded, t.entitlements::jsonb
            FROM unnest(CAST(:ids AS uuid[]), CAST(:versions AS text[]), CAST(:totals AS numeric[]),
                        CAST(:complete AS boolean[]), CAST(:degraded AS boolean[]),
                        CAST(:entitlements AS text[]))
                AS t(id, catalogue_version, monthly_total, complete, degraded, entitlements)
            ON CONFLICT (id) DO NOTHING
            """
        ),
        {
            "ids": rows.ids,
            "versions": rows.catalogue_versions,
            "totals": rows.totals,
            "complete": rows.complete,
            "degraded": rows.degraded,
            "entitlements": rows.entitlements,
        },
    )


async def store_keys(
    session: AsyncSession, run_id: uuid.UUID, keys: Sequence[str], profile_ids: Sequence[uuid.UUID]
) -> None:
    """The run's keys from now on (those of an earlier attempt are replaced)."""
    await session.execute(delete(SnapshotProfileKey).where(SnapshotProfileKey.run_id == run_id))
    for start in range(0, len(keys), ROWS_PER_STATEMENT):
        await session.execute(
            text(
                """
                INSERT INTO eldercare.snapshot_profile_keys (run_id, key, profile_id)
                SELECT :run_id, t.key, t.profile_id
                FROM unnest(CAST(:keys AS text[]), CAST(:profile_ids AS uuid[])) AS t(key, profile_id)
                """
            ),
            {
                "run_id": run_id,
                "keys": list(keys[start : start + ROWS_PER_STATEMENT]),
                "profile_ids": list(profile_ids[start : start + ROWS_PER_STATEMENT]),
            },
        )
        await asyncio.sleep(0)


async def drop_keys(session: AsyncSession, run_id: uuid.UUID) -> None:
    """Forget what the run kept while it wrote: its keys and the welfare status it read."""
    await session.execute(delete(SnapshotProfileKey).where(SnapshotProfileKey.run_id == run_id))
    await session.execute(delete(SnapshotRunWelfare).where(SnapshotRunWelfare.run_id == run_id))


def id_range(batch: int, batches: int) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The person ids of batch ``batch`` of ``batches`` equal ranges of the id space."""
    low = None if batch == 0 else uuid.UUID(int=UUID_SPACE * batch // batches)
    high = None if batch == batches - 1 else uuid.UUID(int=UUID_SPACE * (batch + 1) // batches)
    return low, high


async def write_batch(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    key: MonthKey,
    scope: Sequence[str],
    day: dt.date,
    low: uuid.UUID | None,
    high: uuid.UUID | None,
    skip_present: bool = True,
) -> Any:
    """Write the snapshots of the persons with ids in [low, high) (None: unbounded) whose key
    the run has; returns (created, degraded) counts.

    ``skip_present``: persons with a snapshot of the month already are left as they are
    (``ON CONFLICT DO NOTHING``). Without it the insert is a plain one, about a tenth
    cheaper, for when the month has no snapshot yet; a snapshot written meanwhile then fails
    the statement with a unique violation (the caller writes the batch again, skipping)."""
    params: dict[str, Any] = key.params | {"scope": list(scope), "day": day, "run_id": run_id}
    range_sql, c_range_sql = _id_range(low, high, params)
    join = f"JOIN eldercare.snapshot_profile_keys k ON k.run_id = :run_id AND k.key = {key.sql}"
    query = f"""
    WITH written AS (
        INSERT INTO eldercare.entitlement_snapshots (person_id, month, jurisdiction, run_id, profile_id)
        SELECT p.id, :day, p.jurisdiction, :run_id, k.profile_id
        {_to_snapshot(range_sql, c_range_sql, join, projected=key.projected, unwritten=False)}
        {"ON CONFLICT (person_id, month) DO NOTHING" if skip_present else ""}
        RETURNING profile_id
    )
    SELECT count(*) AS created, count(*) FILTER (WHERE pr.degraded) AS degraded
    FROM written w JOIN eldercare.snapshot_profiles pr ON pr.id = w.profile_id
    """
    return (await session.execute(text(query), params)).one()


async def record_batch(
    session: AsyncSession, *, lease: Lease, batch: int | None, created: int, degraded: int
) -> BatchRecorded:
    """Add a written batch's counts to the run (:func:`shared.jobs.record_batch`: only while
    ``lease`` holds it and the batch was not recorded yet). ``batch`` None: the persons left over
    after the batches (not numbered)."""
    return await jobs.record_batch(
        session,
        lease=lease,
        batch=batch,
        values={
            "done": SnapshotRun.done + created,
            "persons_created": SnapshotRun.persons_created + created,
            "degraded": SnapshotRun.degraded + degraded,
        },
    )


async def run(session: AsyncSession, run_id: uuid.UUID) -> SnapshotRun | None:
    return await session.get(SnapshotRun, run_id)


async def month_begun(session: AsyncSession, month: dt.date) -> bool:
    """Whether any person, anywhere, has a snapshot of ``month``."""
    found = await session.scalar(
        select(EntitlementSnapshot.person_id).where(EntitlementSnapshot.month == month).limit(1)
    )
    return found is not None


async def count_unwritten(session: AsyncSession, scope: Sequence[str], day: dt.date) -> int:
    """How many persons of the scope registered on ``day`` have no snapshot of its month yet: a
    count, without the grouping that evaluating them needs (nobody, once a run has written)."""
    query = f"SELECT count(*) {_to_snapshot()}"
    return int(await session.scalar(text(query), {"scope": list(scope), "day": day}) or 0)


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
    SELECT s.person_id, s.profile_id, pr.monthly_total, pr.entitlements
    FROM eldercare.entitlement_snapshots s
    JOIN eldercare.snapshot_profiles pr ON pr.id = s.profile_id
    WHERE s.month = :month AND {scope}
),
candidates AS (
    SELECT scope.person_id, scope.entitlements AS now, bp.entitlements AS then
    FROM scope
    LEFT JOIN eldercare.entitlement_snapshots before
           ON before.person_id = scope.person_id AND before.month = :previous
    LEFT JOIN eldercare.snapshot_profiles bp ON bp.id = before.profile_id
    WHERE before.profile_id IS DISTINCT FROM scope.profile_id
      AND bp.entitlements IS DISTINCT FROM scope.entitlements
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
                       bp.monthly_total AS previous_monthly_total,
                       before.person_id IS NOT NULL AS previous_snapshot, listed.changes,
                       count(*) OVER () AS total
                FROM listed
                JOIN eldercare.persons p ON p.id = listed.person_id
                LEFT JOIN eldercare.entitlement_snapshots before
                       ON before.person_id = listed.person_id AND before.month = :previous
                LEFT JOIN eldercare.snapshot_profiles bp ON bp.id = before.profile_id
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


async def person_snapshots(
    session: AsyncSession, *, person_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[EntitlementSnapshot], int]:
    """A person's monthly snapshots, newest first, one page of them and their number."""
    query = select(EntitlementSnapshot).where(EntitlementSnapshot.person_id == person_id)
    return await paginate(session, query, page, EntitlementSnapshot.month.desc())
