"""API models of proactive discovery (主动发现)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.schemas import ResponseModel


class DiscoveredItem(ResponseModel):
    item: int
    name: str
    change: Literal["eligible", "amount"] = Field(
        description="eligible: newly eligible for the item; amount: already eligible, the amount rises "
        "(an age band, or a component with money newly applies)"
    )
    eligible_from: dt.date = Field(
        description="from when: a monthly allowance from the month the setting age_allowance_starts "
        "gives (次月起: the month after the birthday); a service from the day itself"
    )
    note: str | None = None


class Discovery(ResponseModel):
    person_id: uuid.UUID
    name: str
    citizen_id: str = Field(description="masked")
    jurisdiction: str
    event: Literal["birthday", "circumstances"]
    event_on: dt.date
    reason: str
    items: list[DiscoveredItem]
