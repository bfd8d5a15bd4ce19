"""Unit amounts per (jurisdiction, program, tier, month, residence): what bulk SQL multiplies by.

For dibao the unit is the standard S (the amount is ``max(0, S − I) × n``); for every
other program it is the monthly amount itself. Where a city sets urban (城市) and rural
(农村) standards apart, the unit depends on the residence of the enrolment's household in
that month (``household_residences``; a person's enrolment takes their household's): the
table then has an ``urban`` and a ``rural`` row, and a household with no residence
recorded for the month matches neither. Where the standard is one, a row for every
residence (and for none, ``-``) carries the same amount, so the residence is ignored.
Unknown standards and missing residences are reported, never paid at a guessed amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.months import YearMonth

NO_TIER = 0
NO_RESIDENCE = "-"
"""The residence key of a household with no residence recorded for the month."""
SPLIT_RESIDENCES = ("urban", "rural")

Unit = Decimal | dict[str, Decimal] | None
"""One amount, an amount per residence (urban, rural) where the city sets them apart, or unknown."""


@dataclass(frozen=True)
class UnitAmount:
    jurisdiction: str
    program: str
    tier: int
    month: dt.date
    residence: str
    split: bool
    amount: Decimal


class Pricing(Protocol):
    def unit_amounts(self, jurisdiction: str, month: YearMonth) -> dict[tuple[str, int], Unit]:
        """``{(program, tier): unit amount, amounts by residence, or None}`` in force on the
        first day of ``month``."""
        ...


def price_table(
    pricing: Pricing, jurisdictions: Iterable[str], months: Iterable[YearMonth]
) -> list[UnitAmount]:
    rows = []
    for month in months:
        for jurisdiction in jurisdictions:
            for (program, tier), unit in pricing.unit_amounts(jurisdiction, month).items():
                if unit is None:
                    continue
                if isinstance(unit, dict):
                    for residence, amount in unit.items():
                        rows.append(
                            UnitAmount(jurisdiction, program, tier, month.first_day, residence, True, amount)
                        )
                else:
                    for residence in (*SPLIT_RESIDENCES, NO_RESIDENCE):
                        rows.append(
                            UnitAmount(jurisdiction, program, tier, month.first_day, residence, False, unit)
                        )
    return rows


def by_residence(rows: Iterable[UnitAmount]) -> bool:
    """Whether any unit depends on the residence: only then do the queries look it up."""
    return any(row.split for row in rows)


async def load_price_table(connection: AsyncSession | AsyncConnection, rows: list[UnitAmount]) -> None:
    """A temporary ``unit_amounts`` table for this transaction, analysed so joins plan well."""
    await connection.execute(
        text(
            "CREATE TEMPORARY TABLE unit_amounts (jurisdiction text, program text, tier int, month date, "
            "residence text, split boolean, amount numeric(14,2), "
            "PRIMARY KEY (jurisdiction, program, tier, month, residence)) ON COMMIT DROP"
        )
    )
    if rows:
        await connection.execute(
            text(
                "INSERT INTO unit_amounts VALUES "
                "(:jurisdiction, :program, :tier, :month, :residence, :split, :amount)"
            ),
            [row.__dict__ for row in rows],
        )
    await connection.execute(text("ANALYZE unit_amounts"))


# The amount due for enrolment e in month m, given u (unit_amounts) and a (income in force):
# 社会救助暂行办法 Art. 12 for dibao; the unit amount itself for the person programs.
AMOUNT_DUE_SQL = (
    "ROUND(CASE WHEN e.program = 'dibao' "
    "THEN GREATEST(0, u.amount - a.per_capita_income) * e.covered_members "
    "ELSE u.amount END, 2)"
)
RESIDENCE_USED_SQL = "CASE WHEN u.split THEN u.residence END"
"""The residence whose standard priced the entry (NULL where the standard is one)."""


def residence_join_sql(month: str, *, residences: bool) -> tuple[str, str]:
    """The joins that find the residence of enrolment ``e``'s household in ``month`` (a
    person's enrolment: the person's household), and the key to match ``u.residence`` with.
    Without split standards in the table, no join: every enrolment matches ``-``."""
    if not residences:
        return "", f"'{NO_RESIDENCE}'"
    joins = (
        "LEFT JOIN persons pr ON pr.id = e.person_id "
        "LEFT JOIN household_residences r ON r.household_id = COALESCE(e.household_id, pr.household_id) "
        f"AND (r.effective_month IS NULL OR r.effective_month <= {month}) "
        f"AND (r.superseded_from IS NULL OR r.superseded_from > {month}) "
    )
    return joins, f"COALESCE(r.residence, '{NO_RESIDENCE}')"


def unit_join_sql(month: str, *, residences: bool, outer: bool = False) -> str:
    """Joins ``u`` (the unit amount of enrolment ``e`` in ``month``: of its household's
    residence where the standards are split) and ``a`` (the income in force)."""
    joins, key = residence_join_sql(month, residences=residences)
    return (
        f"{joins}{'LEFT ' if outer else ''}JOIN unit_amounts u ON u.jurisdiction = e.jurisdiction "
        f"AND u.program = e.program AND u.tier = COALESCE(e.tier, 0) AND u.month = {month} "
        f"AND u.residence = {key} "
        f"LEFT JOIN income_assessments a ON a.enrolment_id = e.id AND a.effective_month <= {month} "
        f"AND (a.superseded_from IS NULL OR a.superseded_from > {month})"
    )


SPLIT_STANDARD_SQL = (
    "EXISTS (SELECT 1 FROM unit_amounts s WHERE s.jurisdiction = e.jurisdiction AND s.program = e.program "
    "AND s.tier = COALESCE(e.tier, 0) AND s.month = {month} AND s.split)"
)
"""Whether enrolment ``e``'s standard in ``month`` is set apart by residence."""

SUSPENDED_IN_MONTH_SQL = (
    "EXISTS (SELECT 1 FROM enrolment_suspensions s WHERE s.enrolment_id = e.id AND s.from_month <= {month} "
    "AND (s.resumed_month IS NULL OR s.resumed_month > {month}))"
)
"""Whether enrolment ``e`` is suspended in ``month`` (a month of one of its suspensions)."""

IN_FORCE_IN_MONTH_SQL = (
    "(e.start_month <= {month} AND (e.end_month IS NULL OR e.end_month >= {month}) "
    f"AND NOT {SUSPENDED_IN_MONTH_SQL})"
)
"""Whether enrolment ``e`` pays ``month``: within its months and not suspended in it (its status
aside: an ended enrolment was in force up to its end month)."""


def family_sql(alias: str) -> str:
    """The allowance family of enrolment ``alias``: the two orphan programs are one (an orphan
    moves between them by a change of care arrangement); every other program is its own."""
    return (
        f"CASE WHEN {alias}.program IN ('orphan_concentrated', 'orphan_scattered') THEN 'orphan' "
        f"ELSE {alias}.program END"
    )


def _paid_in_family_through(column: str) -> str:
    """Whether another enrolment of ``e``'s beneficiary (by ``column``: person_id or household_id)
    in the same allowance family has a regular entry for ``month``: then ``e`` is not paid for it
    (nobody is paid twice for one month of one allowance); what is due beyond it is booked by the
    recalculation. One EXISTS per kind of beneficiary: each is an anti-join, an OR of the two is not."""
    return (
        "EXISTS (SELECT 1 FROM enrolments o JOIN ledger_entries f ON f.enrolment_id = o.id "
        "AND f.month = {month} AND f.kind = 'regular' WHERE o.id <> e.id "
        # only an enrolment not holding the month can be the other (one holds it at a time): the
        # open-ended enrolments of everyone else drop out before the join with the month's entries
        "AND (o.start_month > {month} OR o.end_month < {month}) "
        f"AND o.{column} = e.{column} AND {family_sql('o')} = {family_sql('e')})"
    )


ACTIVE_IN_MONTH_SQL = (
    f"e.status = 'active' AND {IN_FORCE_IN_MONTH_SQL} "
    f"AND NOT {_paid_in_family_through('person_id')} AND NOT {_paid_in_family_through('household_id')}"
)
"""Whether the payroll of ``month`` pays enrolment ``e`` (when it is not paid yet)."""
