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


class StandardUsed(ResponseModel):
    """The standard the entry's month is priced with: its amount, version and article."""

    program: str
    amount: Money = Field(
        description="the unit: the dibao standard S (the amount is (S − income) × members), else the "
        "program's monthly amount (a 1960s retiree's: of the tier)"
    )
    residence: Literal["urban", "rural"] | None = Field(
        description="the residence whose standard it is; null where the city sets one standard"
    )
    version: str
    jurisdiction: str = Field(description="whose version: the county's own, or its city's")
    document: str
    article: str
    text: str | None = None


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
    residence: Literal["urban", "rural"] | None = Field(
        default=None,
        description="the household's residence whose standard priced the entry, where the city sets urban "
        "and rural standards apart; null where the standard is one",
    )
    note: str | None = Field(
        default=None,
        description="why a correction was booked (months of one allowance moved from one enrolment to "
        "another, e.g. by a change of care arrangement)",
    )
    standard: StandardUsed | None = Field(
        default=None,
        description="the standard in force for the entry's month and residence in the standards as they "
        "stand (a regular entry whose month's standard was corrected later shows the corrected one; the "
        "arrears or overpayment entry beside it books the difference); null where none is known",
    )
    created_at: dt.datetime
