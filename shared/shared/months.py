"""Calendar months ("2024-07") and dates in the policy time zone (Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

POLICY_TZ = ZoneInfo("Asia/Shanghai")
MONTH_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"
"""A month written YYYY-MM; for query parameters (parse with ``YearMonth.parse``)."""
# ASCII digits and fullmatch: \\d takes any Unicode digit and $ matches before a final newline
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class YearMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        match = _MONTH.fullmatch(text)
        if not match:
            raise ValueError("must be a month written YYYY-MM, e.g. 2024-07")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or not 1900 <= year <= 2199:
            raise ValueError(f"{text} is not a real month")
        return cls(year, month)

    @classmethod
    def of(cls, day: dt.date) -> YearMonth:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> YearMonth:
        return self.plus(1)

    def plus(self, months: int) -> YearMonth:
        index = self.year * 12 + self.month - 1 + months
        return YearMonth(index // 12, index % 12 + 1)

    def months_until(self, other: YearMonth) -> int:
        return (other.year - self.year) * 12 + other.month - self.month

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _parse_month(value: Any) -> YearMonth:
    if isinstance(value, YearMonth):
        return value
    if isinstance(value, dt.date):  # a month stored as its first day
        return YearMonth.of(value)
    if not isinstance(value, str):
        raise ValueError("must be a month written YYYY-MM, e.g. 2024-07")
    return YearMonth.parse(value)


Month = Annotated[
    YearMonth,
    BeforeValidator(_parse_month),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2024-07"]}),
]


def policy_today() -> dt.date:
    """Today's date where the policies apply (Asia/Shanghai)."""
    return dt.datetime.now(POLICY_TZ).date()


def completed_years(birth: dt.date, on: dt.date) -> int:
    """Age in completed years (周岁) on a date."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years
