"""Recalculation run models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, computed_field

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
    trigger: Literal["request", "standard_added", "standard_corrected", "register_change"]
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


class OverpaymentDecisionCreate(RequestModel):
    """Staff's decision on an overpayment: recover it or waive it, why, and the document."""

    decision: Literal["recover", "waive"]
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\u0000]*\S[^\u0000]*$")
    ]
    document_reference: Annotated[
        str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\u0000]*\S[^\u0000]*$")
    ]


class OverpaymentDecisionRead(ResponseModel):
    decision: Literal["recover", "waive"]
    reason: str
    document_reference: str
    decided_by: str
    decided_at: dt.datetime


class OverpaymentRead(ResponseModel):
    """A negative difference a recalculation booked: ``review`` is ``pending`` until staff record
    a decision; nothing deducts it from a later payment."""

    entry_id: int
    enrolment_id: uuid.UUID
    jurisdiction: str
    month: Month
    amount: Money
    recalculation_id: uuid.UUID | None
    booked_at: dt.datetime
    review: Literal["pending", "decided"]
    decision: OverpaymentDecisionRead | None
