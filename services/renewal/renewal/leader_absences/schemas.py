"""API models of leaders recorded as away."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.schemas import CalendarDate, Name, RequestModel, ResponseModel, Text


class AbsenceCreate(RequestModel):
    leader: Name
    away_from: CalendarDate
    away_to: CalendarDate
    reason: Text


class AbsenceRead(ResponseModel):
    id: uuid.UUID
    leader: str
    away_from: dt.date
    away_to: dt.date
    reason: str
