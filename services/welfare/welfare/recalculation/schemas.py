"""Recalculation run models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from shared.jurisdictions import JurisdictionCode
from shared.money import Money
from shared.months import Month
from shared.schemas import RequestModel, ResponseModel


class RecalculationCreate(RequestModel):
    jurisdiction: JurisdictionCode
    from_month: Month


class RecalculationRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    from_month: Month
    trigger: Literal["request", "standard_added"]
    standard_version_id: uuid.UUID | None
    status: Literal["queued", "running", "succeeded", "failed"]
    total: int
    done: int
    recalculated: int
    changed: int
    arrears_entries: int
    arrears_total: Money
    unpriced: int
    error: str | None
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
