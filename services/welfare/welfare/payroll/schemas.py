"""Payroll and ledger models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field, computed_field

from shared.jobs import JobRead
from shared.jurisdictions import JurisdictionCode
from shared.money import Money
from shared.months import Month
from shared.schemas import RequestModel, ResponseModel


class PayrollCreate(RequestModel):
    jurisdiction: JurisdictionCode
    month: Month


class PayrollRunRead(JobRead):
    """A payroll run: the job fields (``status`` ``partial`` when some active enrolments have
    no standard in force, said in ``errors``) and what it paid."""

    month: Month
    entries: int
    total: Money
    unpriced: int
    already_paid: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def created_by(self) -> str:
        """The same as ``requested_by`` (kept for clients that read this name)."""
        return self.requested_by


class LedgerEntryRead(ResponseModel):
    id: int
    enrolment_id: uuid.UUID
    jurisdiction: str
    month: Month
    kind: Literal["regular", "arrears", "correction", "overpayment"]
    amount: Money
    corrects_entry_id: int | None
    payroll_run_id: uuid.UUID | None
    recalculation_id: uuid.UUID | None
    review: Literal["pending"] | None = Field(
        default=None,
        description="overpayments: booked pending staff review (the decision: GET /overpayments); never "
        "deducted from a later payment",
    )
    created_at: dt.datetime
