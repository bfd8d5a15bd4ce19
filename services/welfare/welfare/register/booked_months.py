"""Months of an allowance already booked when the register changes under them.

Nobody is paid twice for one month of one allowance family (the two orphan programs are one
family). The payroll pays an enrolment for a month only when no other enrolment of the same
beneficiary and family has a regular entry for it (``welfare.payroll.pricing``), so a register
change that hands months already paid to another enrolment must carry what was paid with them:

- a change of care arrangement back-dated over paid months (the successor enrolment holds
  them now), or a new enrolment over months paid under an earlier one whose end month was moved
  back: the sum booked for each such month moves to the enrolment that holds it, as a pair of
  ``correction`` entries with a note (out of the old enrolment, into the new one, both naming
  the regular entry that paid the month). The ledger stays append-only; nothing is paid.
- then a recalculation of the jurisdiction from the first such month books the difference
  (the new amount due − what was paid) as arrears, or as an overpayment pending staff review.

This follows welfare.md: "a change of arrangement takes effect from the month after the change"
and "where a regular entry for that month already exists at another amount, book an arrears
entry for the difference". Months an enrolment no longer holds and no other enrolment takes (an
end month moved back, a suspension back-dated over paid months) are due nothing: the
recalculation books what was paid as overpayments pending review, never deducted by itself.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from shared.jobs import lock_for_booking
from shared.months import YearMonth
from shared.writes import WriteContext
from welfare.payroll.ledger import ledger_locks
from welfare.recalculation import service as recalculation
from welfare.recalculation.models import RecalculationRun
from welfare.register.models import Enrolment
from welfare.register.repository import program_family

MOVE_SQL = """
WITH moved AS (
    SELECT month, sum(amount) AS net,
           coalesce(min(id) FILTER (WHERE kind = 'regular'), min(id)) AS entry_id
    FROM ledger_entries
    WHERE enrolment_id = :source AND month >= :first AND (CAST(:last AS date) IS NULL OR month <= :last)
    GROUP BY month
),
moved_out AS (
    INSERT INTO ledger_entries (enrolment_id, jurisdiction, month, kind, amount, corrects_entry_id, note)
    SELECT :source, :source_jurisdiction, month, 'correction', -net, entry_id, :note_out
    FROM moved WHERE net <> 0
    RETURNING 1
),
moved_in AS (
    INSERT INTO ledger_entries (enrolment_id, jurisdiction, month, kind, amount, corrects_entry_id, note)
    SELECT :target, :target_jurisdiction, month, 'correction', net, entry_id, :note_in
    FROM moved
    RETURNING month
)
SELECT min(month) FROM moved_in
"""

SIBLINGS_WITH_ENTRIES_SQL = """
SELECT DISTINCT o.id, o.jurisdiction
FROM enrolments o JOIN ledger_entries l ON l.enrolment_id = o.id
WHERE (o.household_id = :household OR o.person_id = :person) AND o.program = ANY(:family) AND o.id <> :target
  AND l.month >= :first AND (CAST(:last AS date) IS NULL OR l.month <= :last)
ORDER BY o.id
"""


async def take_booked_months(
    write: WriteContext, *, target: Enrolment, why: str, runs: list[uuid.UUID] | None = None
) -> dt.date | None:
    """Move to ``target`` what other enrolments of its beneficiary and family booked for the
    months ``target`` holds, and start the recalculation of those months; the first month moved
    (None when there was none)."""
    session = write.session
    family = program_family(target.program)
    siblings = await session.execute(
        text(
            "SELECT DISTINCT jurisdiction FROM enrolments "
            "WHERE (household_id = :household OR person_id = :person) "
            "AND program = ANY(:family) AND id <> :target"
        ),
        {"household": target.household_id, "person": target.person_id, "family": family, "target": target.id},
    )
    jurisdictions = {row.jurisdiction for row in siblings}
    if not jurisdictions:
        return None
    # no payroll or recalculation books these entries meanwhile
    await lock_for_booking(session, ledger_locks(sorted(jurisdictions | {target.jurisdiction})))
    bounds = {"first": target.start_month, "last": target.end_month}
    sources = (
        await session.execute(
            text(SIBLINGS_WITH_ENTRIES_SQL),
            {
                "household": target.household_id,
                "person": target.person_id,
                "family": family,
                "target": target.id,
                **bounds,
            },
        )
    ).all()
    first: dt.date | None = None
    for source in sources:
        moved = await session.scalar(
            text(MOVE_SQL),
            {
                "source": source.id,
                "source_jurisdiction": source.jurisdiction,
                "target": target.id,
                "target_jurisdiction": target.jurisdiction,
                "note_out": f"moved to enrolment {target.id} ({target.program}), holding the month: {why}",
                "note_in": f"moved from enrolment {source.id}, which paid this month: {why}",
                **bounds,
            },
        )
        if moved is not None and (first is None or moved < first):
            first = moved
    if first is not None:
        run = await start_recalculation(write, jurisdiction=target.jurisdiction, from_month=first)
        if runs is not None:
            runs.append(run.id)
    return first


async def start_recalculation(
    write: WriteContext, *, jurisdiction: str, from_month: dt.date
) -> RecalculationRun:
    """A recalculation of ``jurisdiction`` from ``from_month`` after a register change over
    months already paid (queued behind an active run of the area, never refused)."""
    return await recalculation.record_run(
        write, jurisdiction=jurisdiction, from_month=YearMonth.of(from_month), trigger="register_change"
    )


async def paid_from(write: WriteContext, *, enrolment: Enrolment, month: dt.date) -> bool:
    """Whether ``enrolment`` has ledger entries for ``month`` or later."""
    found = await write.session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE enrolment_id = :id AND month >= :month)"),
        {"id": enrolment.id, "month": month},
    )
    return bool(found)


async def first_unpaid_month(write: WriteContext, *, enrolment: Enrolment) -> dt.date:
    """The enrolment's first month after the last one a payroll paid (its start month when none)."""
    last = await write.session.scalar(
        text("SELECT max(month) FROM ledger_entries WHERE enrolment_id = :id AND kind = 'regular'"),
        {"id": enrolment.id},
    )
    if last is None:
        return enrolment.start_month
    return max(enrolment.start_month, YearMonth.of(last).next().first_day)
