"""Recalculation run models."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, computed_field

from shared.jobs import BackgroundJobRead
from shared.jurisdictions import JurisdictionCode
from shared.money import Money
from shared.months import Month
from shared.schemas import RequestModel, ResponseModel


class RecalculationCreate(RequestModel):
    jurisdiction: JurisdictionCode
    from_month: Month


class RecalculationRead(BackgroundJobRead):
    """A run: the job fields (status, progress ``done``/``total`` in enrolments, ``errors``,
    ``attempts``) and its counts."""

    from_month: Month
    trigger: Literal["request", "standard_added", "standard_corrected"]
    standard_version_id: uuid.UUID | None
    recalculated: int
    changed: int
    arrears_entries: int
    arrears_total: Money
    overpayments: int = Field(description="negative differences booked as overpayments pending staff review")
    overpayment_total: Money
    unpriced: int = Field(
        description="enrolment-months stopped because no standard prices them (listed under /unpriced)"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error(self) -> str | None:
        """Why the run failed (the last of ``errors``); null unless ``status`` is ``failed``."""
        return self.errors[-1].message if self.status == "failed" and self.errors else None


class UnpricedMonthRead(ResponseModel):
    """An enrolment-month the run stopped, and why."""

    enrolment_id: uuid.UUID
    jurisdiction: str
    program: str
    month: Month
    reason: str
