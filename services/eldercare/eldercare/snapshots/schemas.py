"""API models of monthly entitlement snapshots and of what changed since the month before."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from shared.jobs import BackgroundJobRead
from shared.jurisdictions import JurisdictionCode
from shared.money import Money
from shared.months import Month
from shared.schemas import RequestModel, ResponseModel

Period = Literal["month", "year"]


class SnapshotRequest(RequestModel):
    jurisdiction: JurisdictionCode = Field(description="every registered person here and below")
    month: Month


class SnapshotRunRead(BackgroundJobRead):
    """A run: the job fields (status, progress ``done``/``total`` in persons, ``errors``,
    ``attempts``) and its counts."""

    month: Month
    persons_created: int = Field(description="snapshots computed and stored by this run")
    persons_already_present: int = Field(
        description="persons whose snapshot of the month existed when the run began"
    )
    distinct_profiles: int = Field(
        description="distinct (catalogue, circumstances, age class) combinations evaluated"
    )
    degraded: int = Field(description="snapshots with an amount that could not be known (e.g. item 13)")
    dibao_standards: dict[str, Any] = Field(
        description="per jurisdiction whose catalogue prices an item from it: the dibao standard used "
        "(read from the welfare service when the run was requested), or why there was none"
    )
    dibao_status: dict[str, Any] | None = Field(
        default=None,
        description="where the run read dibao and tekun: `source` `projection` (the projection of "
        "welfare's register; with `current_as_of`, `last_sequence`, `lag_seconds` when the run "
        "evaluated, and `persons_known_to_welfare`, whose status the run read from it once, when it "
        "began, for all its batches; persons welfare does not know keep the register's flags) or `register`",
    )


class SnapshotEntitlement(ResponseModel):
    item: int
    name: str
    amount: Money | None
    period: Period | None
    degraded: str | None


class SnapshotRead(ResponseModel):
    person_id: uuid.UUID
    month: Month
    jurisdiction: str
    catalogue_version: str
    monthly_total: Money
    complete: bool
    degraded: bool
    entitlements: list[SnapshotEntitlement]
    computed_at: dt.datetime


class ItemChange(ResponseModel):
    item: int
    name: str
    change: Literal["added", "removed", "amount"]
    previous_amount: Money | None
    amount: Money | None
    period: Period | None


class PersonChanges(ResponseModel):
    """What changed in a person's entitlements from the previous month's snapshot to this one."""

    person_id: uuid.UUID
    name: str
    citizen_id: str = Field(description="masked")
    jurisdiction: str
    month: Month
    previous_month: Month
    previous_snapshot: bool = Field(description="false: no snapshot of the previous month (all items added)")
    monthly_total: Money
    previous_monthly_total: Money | None
    changes: list[ItemChange]
