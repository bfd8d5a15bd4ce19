"""The standard histories as unit amounts for the bulk SQL of payroll and recalculation."""

from __future__ import annotations

import datetime as dt

from shared.months import YearMonth
from welfare.payroll.pricing import NO_TIER, Unit
from welfare.standards.history import DERIVED_PROGRAMS, TIERS, StandardHistories

STALENESS_IRRELEVANT = 1_000_000


class StandardPricing:
    """Unit amounts in force on the first day of a month (the spec's monthly rule); where the
    city sets urban and rural standards apart, one per residence (derived standards follow
    the one they are derived from)."""

    def __init__(self, standards: StandardHistories) -> None:
        self.standards = standards
        self._paid_from: dict[tuple[str, str], dt.date | None] = {}

    def paid_from(self, jurisdiction: str, program: str) -> dt.date | None:
        key = (jurisdiction, program)
        if key not in self._paid_from:
            self._paid_from[key] = self.standards.paid_from(jurisdiction, program)
        return self._paid_from[key]

    def unit_amounts(self, jurisdiction: str, month: YearMonth) -> dict[tuple[str, int], Unit]:
        units = self._unit_amounts(jurisdiction, month)
        for program, tier in units:  # an open start pays no month before OPEN_START_FLOOR
            first = self.paid_from(jurisdiction, program)
            if first is None or month.first_day < first:
                units[(program, tier)] = None
        return units

    def _unit_amounts(self, jurisdiction: str, month: YearMonth) -> dict[tuple[str, int], Unit]:
        found = self.standards.standards_on(jurisdiction, month.first_day, STALENESS_IRRELEVANT).values
        units: dict[tuple[str, int], Unit] = {}
        for program in ("dibao", *DERIVED_PROGRAMS):
            value = found[program]
            if value is None:
                units[(program, NO_TIER)] = None
            elif value.by_residence:
                units[(program, NO_TIER)] = {str(r): amount for r, amount in value.by_residence.items()}
            else:
                units[(program, NO_TIER)] = value.amount
        tiers = found["retiree_1960s"]
        for tier in TIERS:
            units[("retiree_1960s", tier)] = tiers.tiers[tier] if tiers and tiers.tiers else None
        return units
