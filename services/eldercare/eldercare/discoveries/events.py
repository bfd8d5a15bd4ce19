"""Proactive discovery (主动发现机制, 驻政办〔2023〕35号 二（一）3): who becomes eligible, and when.

"从被动保障到主动服务": staff look ahead at a window of dates and act before anyone
applies. Two kinds of event make a person newly eligible for an item:

- a birthday at an age the item's rule reads (60, 65, 80, 90, 100 in the Zhumadian list),
  with the circumstances in force on that day — including the age bands of item 8, where
  the amount rises (80–89 → 90–99 → 100+);
- a new version of their circumstances (newly in dibao, tekun, a new disability grade…)
  under which an item's rule holds that did not hold under the version before.

Both are computed in SQL over the whole register, reading the county catalogue's own
conditions (:mod:`eldercare.catalogues.sql`). A first version of someone's circumstances
is not an event: it records what already was, not a change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from eldercare.catalogues.pack import AgeBand, Catalogue, Component, Condition
from eldercare.catalogues.sql import ages_in
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput
from shared.money import money_str
from shared.months import YearMonth

MAX_WINDOW_DAYS = 366
MAX_AGE = 150


@dataclass(frozen=True)
class MoneyComponent:
    component: Component
    band_changes: dict[int, str] = field(default_factory=dict)
    """Ages at which an age-banded amount rises, with a note (``90: "band 90—99岁: 100.00"``)."""


@dataclass(frozen=True)
class ItemWatch:
    """What discovery watches of one catalogue item."""

    number: int
    name: str
    eligibility: Condition
    monthly_allowance: bool
    money: tuple[MoneyComponent, ...]


def _band_amount(bands: list[AgeBand], age: int, upper: bool) -> Decimal | None:
    covering = [band for band in bands if band.covers(age)]
    if not covering:
        return None
    return (covering[-1] if upper else covering[0]).amount


def band_changes(bands: list[AgeBand], interpretations: EldercareInterpretations) -> dict[int, str]:
    """Ages at which the amount of an age-banded rule rises (setting longevity_band_overlap)."""
    upper = interpretations.longevity_band_overlap == "upper_band"
    changes: dict[int, str] = {}
    for age in range(1, MAX_AGE + 1):
        before, now = _band_amount(bands, age - 1, upper), _band_amount(bands, age, upper)
        if before is not None and now is not None and now > before:
            changes[age] = f"from age {age}: {money_str(now)} (was {money_str(before)})"
    return changes


def watches(catalogue: Catalogue, interpretations: EldercareInterpretations) -> list[ItemWatch]:
    result = []
    for item in catalogue.items.values():
        money = tuple(
            MoneyComponent(
                component,
                band_changes(component.amount.by_age, interpretations) if component.amount.by_age else {},
            )
            for component in item.components.values()
            if component.amount is not None
        )
        result.append(ItemWatch(item.number, item.name, item.eligibility, item.monthly_allowance, money))
    return result


def event_ages(item_watches: list[ItemWatch], interpretations: EldercareInterpretations) -> list[int]:
    """Every age at which some item's eligibility or amount can change."""
    ages: set[int] = set()
    for watch in item_watches:
        ages |= ages_in(watch.eligibility, interpretations)
        for part in watch.money:
            ages |= set(part.band_changes)
            if part.component.eligibility is not None:
                ages |= ages_in(part.component.eligibility, interpretations)
    return sorted(age for age in ages if 0 < age <= MAX_AGE)


EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


def check_window(start: dt.date, end: dt.date) -> None:
    for name, day in (("query.from", start), ("query.to", end)):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidInput.field(name, f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    if end < start:
        raise InvalidInput.field("query.to", "must not be before from")
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise InvalidInput.field("query.to", f"the window may span at most {MAX_WINDOW_DAYS} days")


def eligible_from(
    event: str, event_on: dt.date, monthly_allowance: bool, interpretations: EldercareInterpretations
) -> dt.date:
    """From when an item applies after an event.

    A service applies from the day itself. A monthly allowance: after a birthday, by the
    setting age_allowance_starts (次月起: the month after); after a change of
    circumstances, from the first month whose first day the new version is in force on.
    """
    if not monthly_allowance:
        return event_on
    month = YearMonth.of(event_on)
    if event == "birthday":
        return (
            month.first_day
            if interpretations.age_allowance_starts == "birthday_month"
            else month.next().first_day
        )
    return event_on if event_on.day == 1 else month.next().first_day


def describe_change(before: dict[str, object] | None, after: dict[str, object] | None) -> str:
    if not before or not after:
        return "circumstances changed"
    changed = [
        f"{name}: {before.get(name)} → {value}" for name, value in after.items() if before.get(name) != value
    ]
    return "; ".join(changed) or "circumstances re-assessed"
