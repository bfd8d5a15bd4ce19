"""Unit amounts per (jurisdiction, program, tier, month): what bulk SQL multiplies by.

For dibao the unit is the standard S (the amount is ``max(0, S − I) × n``); for every
other program it is the monthly amount itself. Unknown standards are ``None`` and the
enrolments that need them are reported, never paid at a guessed amount.
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


@dataclass(frozen=True)
class UnitAmount:
    jurisdiction: str
    program: str
    tier: int
    month: dt.date
    amount: Decimal


class Pricing(Protocol):
    def unit_amounts(self, jurisdiction: str, month: YearMonth) -> dict[tuple[str, int], Decimal | None]:
        """``{(program, tier): unit amount or None}`` in force on the first day of ``month``."""
        ...


def price_table(
    pricing: Pricing, jurisdictions: Iterable[str], months: Iterable[YearMonth]
) -> list[UnitAmount]:
    rows = []
    for month in months:
        for jurisdiction in jurisdictions:
            for (program, tier), amount in pricing.unit_amounts(jurisdiction, month).items():
                if amount is not None:
                    rows.append(UnitAmount(jurisdiction, program, tier, month.first_day, amount))
    return rows


async def load_price_table(connection: AsyncSession | AsyncConnection, rows: list[UnitAmount]) -> None:
    """A temporary ``unit_amounts`` table for this transaction, analysed so joins plan well."""
    await connection.execute(
        text(
            "CREATE TEMPORARY TABLE unit_amounts (jurisdiction text, program text, tier int, month date, "
            "amount numeric(14,2), PRIMARY KEY (jurisdiction, program, tier, month)) ON COMMIT DROP"
        )
    )
    if rows:
        await connection.execute(
            text("INSERT INTO unit_amounts VALUES (:jurisdiction, :program, :tier, :month, :amount)"),
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
UNIT_JOIN_SQL = (
    "JOIN unit_amounts u ON u.jurisdiction = e.jurisdiction AND u.program = e.program "
    "AND u.tier = COALESCE(e.tier, 0) AND u.month = {month} "
    "LEFT JOIN income_assessments a ON a.enrolment_id = e.id AND a.effective_month <= {month} "
    "AND (a.superseded_from IS NULL OR a.superseded_from > {month})"
)
ACTIVE_IN_MONTH_SQL = (
    "e.status = 'active' AND e.start_month <= {month} AND (e.end_month IS NULL OR e.end_month >= {month})"
)
