"""Answers about schemes and their versions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from shared.schemas import ResponseModel


class DaysRead(ResponseModel):
    valid_from: dt.date | None = Field(description="First day (null: an open start).")
    valid_to: dt.date | None = Field(description="Last day, included (null: open-ended).")


class SchemeSummary(ResponseModel):
    scheme: str
    city: str
    name: str
    document: str
    issued_on: dt.date
    citation: str
    version: int = Field(description="The version in force today (else the latest recorded).")
    valid_from: dt.date
    valid_to: dt.date | None


class RangeChangeRead(ResponseModel):
    correction: int = Field(description="The version that corrected this one.")
    in_force_before: list[DaysRead]
    in_force_after: list[DaysRead]


class SchemeVersionRead(ResponseModel):
    """One version of a scheme in its history: the range it states (never rewritten), the days
    it is in force now, and what superseded or corrected what."""

    scheme: str
    version: int
    document: str
    issued_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    citation: str = Field(description="The article that puts the document in force.")
    status: Literal["in_force", "superseded", "corrected"]
    in_force: list[DaysRead]
    supersedes: int | None
    superseded_by: int | None
    corrects: list[int]
    corrected_by: list[int]
    correction_reason: str | None
    correction_reference: str | None
    changes: list[RangeChangeRead] = Field(description="How corrections changed the days it is in force.")
