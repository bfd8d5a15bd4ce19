"""Payroll and ledger models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from shared.jurisdictions import JurisdictionCode
from shared.money import Money
from shared.months import Month
from shared.schemas import RequestModel, ResponseModel


class PayrollCreate(RequestModel):
    jurisdiction: JurisdictionCode
    month: Month


class PayrollRunRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    month: Month
    entries: int
    total: Money
    unpriced: int
    created_by: str
    created_at: dt.datetime


class LedgerEntryRead(ResponseModel):
    id: int
    enrolment_id: uuid.UUID
    jurisdiction: str
    month: Month
    kind: Literal["regular", "arrears", "correction"]
    amount: Money
    corrects_entry_id: int | None
    payroll_run_id: uuid.UUID | None
    recalculation_id: uuid.UUID | None
    created_at: dt.datetime
