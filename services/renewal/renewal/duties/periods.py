"""The expected reports of a duty and their state: due, submitted on time, submitted late, missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.months import YearMonth


@dataclass(frozen=True)
class Period:
    label: str  # 2025-01 or 2025-Q1
    last_month: YearMonth


def periods(cadence: str, starts: dt.date, until: dt.date, ends: dt.date | None = None) -> list[Period]:
    """Periods that have ended by ``until`` (a report is expected after its period ends),
    from the one holding ``starts`` to the last one ending by ``ends``."""
    ended: list[Period] = []
    month = YearMonth.of(starts)
    while month.last_day < until and (ends is None or month.last_day <= ends):
        if cadence == "monthly":
            ended.append(Period(str(month), month))
        elif month.month % 3 == 0:
            ended.append(Period(f"{month.year}-Q{month.month // 3}", month))
        month = month.next()
    return ended


def period_last_day(label: str) -> dt.date:
    """The last day of a period written 2025-01 (a month) or 2025-Q1 (a quarter)."""
    year, part = label.split("-")
    month = int(part[1]) * 3 if part.startswith("Q") else int(part)
    return YearMonth(int(year), month).last_day


def due_date(period: Period, due_day: int) -> dt.date:
    following = period.last_month.next()
    return min(following.first_day + dt.timedelta(days=due_day - 1), following.last_day)


def report_state(submitted_on: dt.date | None, due: dt.date, grace_days: int, on: dt.date) -> str:
    closes = due + dt.timedelta(days=grace_days)
    if submitted_on is not None and submitted_on <= on:
        return "submitted on time" if submitted_on <= closes else "submitted late"
    return "due" if on <= closes else "missing"
